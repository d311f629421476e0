import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { migrate, NewerSchemaError, schemaVersion } from './migrate';
import { LATEST_SCHEMA_VERSION } from './migrations';

export const PROJECT_FILE_NAME = 'project.sqlite';
export const CACHE_FOLDER_NAME = 'cache';

export class ProjectError extends Error {
  constructor(
    readonly code: 'not-found' | 'file-exists' | 'project-newer' | 'corrupt' | 'unwritable',
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

/**
 * Where better-sqlite3's addon lives when it was rebuilt for Electron's ABI (see
 * tools/electron-native.mjs); Node keeps using the copy npm built.
 */
function nativeBindingOption(): { nativeBinding?: string } {
  const electronBinding = process.env.MITOBENCH_SQLITE_BINDING;
  return electronBinding ? { nativeBinding: electronBinding } : {};
}

/** One project: a folder holding project.sqlite and a cache folder. */
export class ProjectDatabase {
  private constructor(
    readonly folder: string,
    readonly db: Database,
  ) {}

  get file(): string {
    return path.join(this.folder, PROJECT_FILE_NAME);
  }

  get cacheFolder(): string {
    return path.join(this.folder, CACHE_FOLDER_NAME);
  }

  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  static create(folder: string, name: string): ProjectDatabase {
    const file = path.join(folder, PROJECT_FILE_NAME);
    if (fs.existsSync(file)) {
      throw new ProjectError('file-exists', `${file} already holds a project; open it instead`, file);
    }
    try {
      fs.mkdirSync(folder, { recursive: true });
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new ProjectError('unwritable', `${folder}: the project folder cannot be created (${reason})`, folder);
    }
    const project = ProjectDatabase.openFile(folder, file, { mustExist: false });
    project.setSetting('name', name);
    project.setSetting('createdAt', new Date().toISOString());
    return project;
  }

  static open(folder: string): ProjectDatabase {
    const file = path.join(folder, PROJECT_FILE_NAME);
    if (!fs.existsSync(file)) {
      throw new ProjectError('not-found', `${folder} is not a Mitobench project (no ${PROJECT_FILE_NAME})`, file);
    }
    return ProjectDatabase.openFile(folder, file, { mustExist: true });
  }

  private static openFile(folder: string, file: string, options: { mustExist: boolean }): ProjectDatabase {
    let db: Database | undefined;
    try {
      db = new BetterSqlite3(file, { fileMustExist: options.mustExist, ...nativeBindingOption() });
      // Checked before anything writes (switching to WAL rewrites the header).
      const found = schemaVersion(db);
      if (found > LATEST_SCHEMA_VERSION) {
        db.close();
        const reason = new NewerSchemaError(found, LATEST_SCHEMA_VERSION).message;
        throw new ProjectError('project-newer', `${file}: ${reason}`, file);
      }
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      // FULL: a label is on disk when the call returns, even across a power cut (WAL + NORMAL only survives a crash).
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      // Savepoints inside a long import keep their undo log in memory rather than a temp file.
      db.pragma('temp_store = MEMORY');
    } catch (error) {
      if (db?.open) db.close();
      if (error instanceof ProjectError) throw error;
      throw new ProjectError('corrupt', `${file}: cannot be opened as a project database (${String(error)})`, file);
    }
    try {
      migrate(db!);
    } catch (error) {
      db!.close();
      if (error instanceof NewerSchemaError) throw new ProjectError('project-newer', `${file}: ${error.message}`, file);
      throw new ProjectError('corrupt', `${file}: ${error instanceof Error ? error.message : String(error)}`, file);
    }
    fs.mkdirSync(path.join(folder, CACHE_FOLDER_NAME), { recursive: true });
    return new ProjectDatabase(folder, db!);
  }

  setting(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM project_settings WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value ?? null;
  }

  setSetting(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO project_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  /** A short random id of this project, made once (tile addresses carry it; see SlideLibrary). */
  get projectKey(): string {
    const existing = this.setting('projectKey');
    if (existing) return existing;
    const key = crypto.randomBytes(4).toString('hex');
    this.setSetting('projectKey', key);
    return key;
  }

  get name(): string {
    return this.setting('name') ?? path.basename(this.folder);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
