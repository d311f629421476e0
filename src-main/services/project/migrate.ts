import type { Database } from 'better-sqlite3';
import type { Migration } from './migrations/Migration';
import { migrations as allMigrations } from './migrations';

export class NewerSchemaError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `this project was written by a newer Mitobench (database schema ${found}; this version reads up to ${supported}). ` +
        'Update Mitobench to open it; the file was not changed.',
    );
  }
}

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database to `targetVersion` (default: latest), one transaction per migration so
 * a failure leaves the last good version. Refuses a database from the future.
 */
export function migrate(db: Database, targetVersion?: number, migrations: readonly Migration[] = allMigrations): number {
  const latest = migrations.at(-1)?.version ?? 0;
  const target = targetVersion ?? latest;
  const current = schemaVersion(db);
  if (current > latest) throw new NewerSchemaError(current, latest);
  for (const migration of migrations) {
    if (migration.version <= current || migration.version > target) continue;
    db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
  const foreignKeyProblems = db.pragma('foreign_key_check') as unknown[];
  if (foreignKeyProblems.length > 0) {
    throw new Error(`migration left ${foreignKeyProblems.length} broken foreign key reference(s)`);
  }
  return schemaVersion(db);
}
