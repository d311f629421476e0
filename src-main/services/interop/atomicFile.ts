import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A temporary path beside `target` (same folder, so the final rename is atomic and never
 * crosses file systems).
 */
export function temporaryPathBeside(target: string): string {
  const name = `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  return path.join(path.dirname(target), name);
}

/**
 * Writes the file completely under a temporary name, flushes it, then renames it over
 * `target`: a reader sees the old file or the whole new one, never half of it.
 */
export function writeFileAtomically(target: string, content: string | Uint8Array): void {
  const temporary = temporaryPathBeside(target);
  try {
    const descriptor = fs.openSync(temporary, 'wx');
    try {
      fs.writeFileSync(descriptor, content);
      fs.fsyncSync(descriptor);
    } finally {
      fs.closeSync(descriptor);
    }
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}
