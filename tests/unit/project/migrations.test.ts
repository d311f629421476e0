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

  it('2 → 3 keeps every slide and adds empty annotation tables with the two default classes', () => {
    const db = new BetterSqlite3(path.join(folder, PROJECT_FILE_NAME));
    migrate(db, 2);
    insertSlideAtVersion1(db);
    db.prepare("INSERT INTO slide_tags (slide_id, key, value) VALUES (1, 'tumour', 'lymphoma')").run();
    const slidesBefore = db.prepare('SELECT * FROM slides').all();
    const tagsBefore = db.prepare('SELECT * FROM slide_tags').all();

    migrate(db, 3);
    expect(schemaVersion(db)).toBe(3);
    expect(db.prepare('SELECT * FROM slides').all()).toEqual(slidesBefore);
    expect(db.prepare('SELECT * FROM slide_tags').all()).toEqual(tagsBefore);
    expect(db.prepare('SELECT id, name, hotkey, sort_order, deleted_at FROM classes ORDER BY id').all()).toEqual([
      { id: 1, name: 'mitotic figure', hotkey: '1', sort_order: 1, deleted_at: null },
      { id: 2, name: 'non-mitotic figure (imposter)', hotkey: '2', sort_order: 2, deleted_at: null },
    ]);
    for (const table of ['annotators', 'annotations', 'annotation_bounds', 'labels', 'changes', 'change_items']) {
      expect(db.prepare(`SELECT count(*) AS n FROM ${table}`).get(), table).toEqual({ n: 0 });
    }

    db.pragma('foreign_keys = ON');
    db.prepare("INSERT INTO annotators (name, kind, created_at) VALUES ('Anna', 'person', 'now')").run();
    const insertAnnotation = db.prepare(
      `INSERT INTO annotations (guid, slide_id, shape, geometry_json, centre_x, centre_y, created_by, created_at)
       VALUES (?, ?, 'point', '{"x":1,"y":2}', 1, 2, 1, 'now')`,
    );
    insertAnnotation.run('a', 1);
    expect(() => insertAnnotation.run('b', 99)).toThrow(/FOREIGN KEY/);
    expect(() => insertAnnotation.run('a', 1)).toThrow(/UNIQUE/);
    db.prepare("INSERT INTO labels (annotation_id, annotator_id, class_id, updated_at) VALUES (1, 1, 1, 'now')").run();
    db.prepare('INSERT INTO annotation_bounds VALUES (1, 1, 1, 2, 2, 1, 1)').run();
    db.prepare("INSERT INTO changes (actor_id, kind, description, at) VALUES (1, 'edit', 'create point', 'now')").run();
    db.prepare("INSERT INTO change_items (change_id, annotation_id, after_json) VALUES (1, 1, '{}')").run();
    expect(() => db.prepare("UPDATE changes SET description = 'x'").run()).toThrow(/append-only/);

    // A slide deleted for good takes its annotations, votes and index entries; the history stays.
    db.prepare('DELETE FROM slides WHERE id = 1').run();
    for (const table of ['annotations', 'labels', 'annotation_bounds']) {
      expect(db.prepare(`SELECT count(*) AS n FROM ${table}`).get(), table).toEqual({ n: 0 });
    }
    expect(db.prepare('SELECT count(*) AS n FROM change_items').get()).toEqual({ n: 1 });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('3 → 4 keeps slides, annotations and history and adds an empty jobs table', () => {
    const db = new BetterSqlite3(path.join(folder, PROJECT_FILE_NAME));
    db.pragma('foreign_keys = ON');
    migrate(db, 3);
    insertSlideAtVersion1(db);
    const tables = ['slides', 'annotations', 'classes', 'changes'];
    const countsBefore = tables.map((table) => db.prepare(`SELECT count(*) AS n FROM ${table}`).get());
    migrate(db, 4);
    expect(schemaVersion(db)).toBe(4);
    expect(tables.map((table) => db.prepare(`SELECT count(*) AS n FROM ${table}`).get())).toEqual(countsBefore);
    expect(db.prepare('SELECT count(*) AS n FROM jobs').get()).toEqual({ n: 0 });
    expect(() =>
      db.prepare("INSERT INTO jobs (kind, title, state, input_json, created_at) VALUES ('x', 'X', 'paused', '{}', 'now')").run(),
    ).toThrow(/CHECK/);
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
