import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../src-main/services/project/migrate';
import { LATEST_SCHEMA_VERSION, migrations } from '../../../src-main/services/project/migrations';
import { PROJECT_FILE_NAME, ProjectDatabase, ProjectError } from '../../../src-main/services/project/ProjectDatabase';

let folder: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-project-'));
});
afterEach(() => {
  fs.rmSync(folder, { recursive: true, force: true });
});

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function insertSlideAtVersion1(db: BetterSqlite3.Database): void {
  db.prepare(
    `INSERT INTO slides (path, file_name, file_size_bytes, content_hash, width, height, levels_json,
       mpp_x, mpp_y, objective_power, vendor, reader, associated_images_json, added_at)
     VALUES ('/slides/a.svs', 'a.svs', 1234, 'abc', 2220, 2967, '[]', 0.499, 0.499, 20, 'aperio', 'tiff', '["label"]', '2026-01-01T00:00:00Z')`,
  ).run();
}

describe('migrations', () => {
  it('are numbered 1..N without gaps', () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, index) => index + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(migrations.length);
  });

  it('a new project is at the latest version, in WAL mode with foreign keys on', () => {
    const project = ProjectDatabase.create(folder, 'Canine lymphoma');
    expect(project.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(project.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(project.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(project.name).toBe('Canine lymphoma');
    expect(fs.existsSync(project.cacheFolder)).toBe(true);
    project.close();
  });

  it('1 → 2 keeps every slide and gives it the automatic reader and no tags', () => {
    const db = new BetterSqlite3(path.join(folder, PROJECT_FILE_NAME));
    migrate(db, 1);
    expect(schemaVersion(db)).toBe(1);
    insertSlideAtVersion1(db);
    const before = db.prepare('SELECT * FROM slides').all();

    migrate(db, 2);
    expect(schemaVersion(db)).toBe(2);
    const after = db.prepare('SELECT * FROM slides').all() as Record<string, unknown>[];
    expect(after).toEqual((before as Record<string, unknown>[]).map((row) => ({ ...row, reader_choice: 'auto', tile_version: 1 })));

    db.pragma('foreign_keys = ON');
    db.prepare("INSERT INTO slide_tags (slide_id, key, value) VALUES (1, 'tumour', 'lymphoma')").run();
    expect(() => db.prepare("INSERT INTO slide_tags (slide_id, key, value) VALUES (99, 'tumour', 'x')").run()).toThrow(/FOREIGN KEY/);
    expect(() => db.prepare("UPDATE slides SET reader_choice = 'magic'").run()).toThrow(/CHECK/);
    db.close();
  });

  it('every step leaves a database that passes the integrity check', () => {
    const db = new BetterSqlite3(path.join(folder, PROJECT_FILE_NAME));
    for (const migration of migrations) {
      migrate(db, migration.version);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    }
    db.close();
  });

  it('re-opening a current project changes nothing', () => {
    ProjectDatabase.create(folder, 'p').close();
    const project = ProjectDatabase.open(folder);
    expect(project.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    project.close();
  });

  it('refuses a database from a newer Mitobench and leaves it untouched', () => {
    ProjectDatabase.create(folder, 'p').close();
    const file = path.join(folder, PROJECT_FILE_NAME);
    const raw = new BetterSqlite3(file);
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
    raw.pragma('journal_mode = DELETE');
    raw.close();
    const hashBefore = sha256(file);

    let caught: unknown;
    try {
      ProjectDatabase.open(folder);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProjectError);
    expect((caught as ProjectError).code).toBe('project-newer');
    expect((caught as ProjectError).message).toContain(file);
    expect((caught as ProjectError).message).toMatch(/newer Mitobench/);
    expect(sha256(file)).toBe(hashBefore);
  });

  it('names the file when project.sqlite is not a database', () => {
    fs.writeFileSync(path.join(folder, PROJECT_FILE_NAME), 'this is not sqlite '.repeat(100));
    expect(() => ProjectDatabase.open(folder)).toThrow(new RegExp(`${PROJECT_FILE_NAME}.*cannot be opened|not a database`));
    try {
      ProjectDatabase.open(folder);
    } catch (error) {
      expect((error as ProjectError).code).toBe('corrupt');
      expect((error as ProjectError).message).toContain(path.join(folder, PROJECT_FILE_NAME));
    }
  });

  it('refuses to create a project over an existing one, and to open a folder without one', () => {
    ProjectDatabase.create(folder, 'p').close();
    expect(() => ProjectDatabase.create(folder, 'q')).toThrow(/already holds a project/);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-empty-'));
    expect(() => ProjectDatabase.open(empty)).toThrow(/is not a Mitobench project/);
    fs.rmSync(empty, { recursive: true });
  });
});
