import type { Database } from 'better-sqlite3';

export interface Migration {
  /** The schema version after this migration; migrations run in increasing order. */
  version: number;
  name: string;
  up(db: Database): void;
}
