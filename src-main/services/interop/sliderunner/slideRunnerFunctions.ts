import { randomInt, randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';

/**
 * The SQL functions SlideRunner registers on its connection and its triggers call. Any write
 * to a SlideRunner file without them fails with "no such function".
 */
export function registerSlideRunnerFunctions(db: Database): void {
  db.function('pycurrent_time', { deterministic: false }, () => Date.now() / 1000);
  db.function('generate_uuid', { deterministic: false }, () => randomUUID());
  db.function('randcolor', { deterministic: false }, () => randomClassColour());
}

/** SlideRunner's random class colour: each channel 30–254, so it never comes out near black. */
export function randomClassColour(): string {
  const channel = (): string => randomInt(30, 255).toString(16).padStart(2, '0');
  return `#${channel()}${channel()}${channel()}`;
}
