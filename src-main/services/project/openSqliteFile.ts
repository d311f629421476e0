import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';

/**
 * Opens an SQLite file that is not a project database (SlideRunner files for services/interop),
 * so that better-sqlite3 stays owned by this service. A Buffer is opened as an in-memory copy of
 * the file it holds. Honours the Electron build of the addon like ProjectDatabase does.
 */
export function openSqliteFile(source: string | Buffer, options: { readonly: boolean }): Database {
  const electronBinding = process.env.MITOBENCH_SQLITE_BINDING;
  return new BetterSqlite3(source, {
    readonly: options.readonly,
    fileMustExist: options.readonly,
    ...(electronBinding ? { nativeBinding: electronBinding } : {}),
  });
}
