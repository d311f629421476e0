import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slideRunnerFormat } from '../../../src-main/services/interop/annotationFormats';
import { parseSlideRunner, readSlideRunnerFile } from '../../../src-main/services/interop/sliderunner/readSlideRunner';
import { registerSlideRunnerFunctions } from '../../../src-main/services/interop/sliderunner/slideRunnerFunctions';
import { serializeSlideRunner, writeSlideRunnerFile } from '../../../src-main/services/interop/sliderunner/writeSlideRunner';
import { openSqliteFile } from '../../../src-main/services/project/openSqliteFile';
import { alterSqliteFile, contentOf, sampleSlideRunnerBundle, writeOldSchemaSlideRunner } from '../../fixtures/interopSamples';
import { expectInteropError } from './expectInteropError';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-sliderunner-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function freshPath(name = 'labels.sqlite'): string {
  fileCount += 1;
  return path.join(dir, `${fileCount}-${name}`);
}

function writeSample(): string {
  const file = freshPath();
  writeSlideRunnerFile(sampleSlideRunnerBundle(), file);
  return file;
}

function query<T>(file: string, sql: string): T[] {
  const db = openSqliteFile(file, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

describe('SlideRunner databases', () => {
  it('round-trip every shape, cell, class, vote, guid and deletion', () => {
    const file = writeSample();
    const bundle = readSlideRunnerFile(file);
    expect(bundle.sourceFormat).toBe('sliderunner-sqlite');
    expect(bundle.warnings).toEqual([]);
    expect(contentOf(bundle)).toEqual(contentOf(sampleSlideRunnerBundle()));
  });

  it('read the same from bytes as from the file', () => {
    const file = writeSample();
    expect(parseSlideRunner(fs.readFileSync(file), file)).toEqual(readSlideRunnerFile(file));
  });

  it('can be built in memory as bytes', () => {
    const bytes = serializeSlideRunner(sampleSlideRunnerBundle(), 'download.sqlite');
    expect(contentOf(parseSlideRunner(bytes, 'download.sqlite'))).toEqual(contentOf(sampleSlideRunnerBundle()));
  });

  it('are written in the current layout, with SlideRunner triggers and its storage conventions', () => {
    const file = writeSample();
    expect(query<{ user_version: number }>(file, 'PRAGMA user_version')[0]!.user_version).toBe(3);
    expect(query<{ integrity_check: string }>(file, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    const triggers = query<{ name: string }>(file, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name");
    expect(triggers.map((row) => row.name)).toEqual([
      'setRandomcolor',
      'updateAnnotation_INSERT',
      'updateAnnotation_UPDATE',
      'updateAnnotation_fromCoordsINSERT',
      'updateAnnotation_fromCoordsUPDATE',
      'updateAnnotation_fromLabelINSERT',
      'updateAnnotation_fromLabelUPDATE',
      'updateAnnotation_ins',
    ]);
    // Polygons are stored closed, circles as the corners of their bounding box, class-less votes as class 0.
    const polygon = query<{ coordinateX: number; coordinateY: number }>(
      file,
      'SELECT coordinateX, coordinateY FROM Annotations_coordinates WHERE annoId = 60 ORDER BY orderIdx',
    );
    expect(polygon).toHaveLength(4);
    expect(polygon[3]).toEqual(polygon[0]);
    expect(query(file, 'SELECT coordinateX, coordinateY, coordinateZ FROM Annotations_coordinates WHERE annoId = 57 ORDER BY orderIdx')).toEqual([
      { coordinateX: 475, coordinateY: 575, coordinateZ: 2 },
      { coordinateX: 525, coordinateY: 625, coordinateZ: 2 },
    ]);
    expect(query(file, 'SELECT person, class FROM Annotations_label WHERE annoId = 56 ORDER BY uid')).toEqual([
      { person: 2, class: 0 },
      { person: 1, class: 2 },
    ]);
    const lastModified = query<{ lastModified: number }>(file, 'SELECT lastModified FROM Annotations');
    expect(lastModified.every((row) => row.lastModified > 1.7e9)).toBe(true);
  });

  it('run the triggers through the registered functions: missing guids and colours are filled', () => {
    const bundle = sampleSlideRunnerBundle();
    delete bundle.cells[0]!.guid;
    delete bundle.classes[2]!.colour;
    const file = freshPath();
    writeSlideRunnerFile(bundle, file);
    const read = readSlideRunnerFile(file);
    expect(read.cells[0]!.guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(read.classes[2]!.colour).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('can be labelled further by a connection that registers the functions, and not without them', () => {
    const file = writeSample();
    const bare = openSqliteFile(file, { readonly: false });
    try {
      expect(() => bare.prepare('INSERT INTO Annotations_label (person, class, annoId) VALUES (1, 1, 55)').run()).toThrow(
        /no such function: pycurrent_time/,
      );
      registerSlideRunnerFunctions(bare);
      bare.prepare('INSERT INTO Annotations_label (person, class, annoId) VALUES (3, 2, 55)').run();
    } finally {
      bare.close();
    }
    expect(readSlideRunnerFile(file).cells[0]!.votes.at(-1)).toEqual({ annotator: 'RK', className: 'Hard negative' });
  });

  it('replace an existing file whole, and leave it untouched when the bundle is refused', () => {
    const file = freshPath();
    fs.writeFileSync(file, 'old content');
    writeSlideRunnerFile(sampleSlideRunnerBundle(), file);
    expect(readSlideRunnerFile(file).cells).toHaveLength(5);

    const before = fs.readFileSync(file);
    const broken = sampleSlideRunnerBundle();
    broken.cells[2]!.votes[0]!.className = 'Mitosis (typo)';
    expectInteropError(() => writeSlideRunnerFile(broken, file), file, 'cells[2].votes[0].className', /"Mitosis \(typo\)" is not among/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('name the target when it cannot be written', () => {
    const target = path.join(dir, 'no such folder', 'labels.sqlite');
    expectInteropError(() => slideRunnerFormat.writeFile(sampleSlideRunnerBundle(), target), target, '', /cannot be written/);
  });

  it('read the first (2018) layout without guid, coordinateZ, exact_id, color or Log, closing no polygon twice', () => {
    const file = freshPath('old.sqlite');
    const expected = writeOldSchemaSlideRunner(file);
    expect(readSlideRunnerFile(file)).toEqual(expected);
  });

  it('skip whole-image labels and keep votes whose class or person is missing, with warnings', () => {
    const file = writeSample();
    alterSqliteFile(
      file,
      `INSERT INTO Annotations (uid, slide, type, agreedClass) VALUES (70, 1, 6, 0);
       INSERT INTO Annotations_coordinates (coordinateX, coordinateY, slide, annoId, orderIdx) VALUES (NULL, NULL, 1, 70, 1);
       INSERT INTO Annotations_label (person, class, annoId) VALUES (9, 7, 55), (1, 1, 999);`,
    );
    const bundle = readSlideRunnerFile(file);
    expect(bundle.cells).toHaveLength(5);
    expect(bundle.cells[0]!.votes.at(-1)).toEqual({ annotator: 'unknown person 9', className: 'unknown class 7' });
    expect(bundle.warnings).toEqual([
      'person 9 labelled cells but is not in the Persons table; read as "unknown person 9"',
      'class 7 is used but not in the Classes table; it was read as "unknown class 7"',
      '1 whole-image label(s) (Annotations.type 6) were skipped: Mitobench labels cells and regions',
      '1 row(s) of Annotations_label refer to no annotation and were skipped (SlideRunner ignores them too)',
    ]);
  });

  describe('refuse files they cannot read faithfully, naming table and column', () => {
    it('an unknown column', () => {
      const file = writeSample();
      alterSqliteFile(file, 'ALTER TABLE Annotations ADD COLUMN reviewer TEXT');
      expectInteropError(() => readSlideRunnerFile(file), file, 'Annotations.reviewer', /not part of any SlideRunner schema/);
    });

    it('an unknown table', () => {
      const file = writeSample();
      alterSqliteFile(file, 'CREATE TABLE Annotations_comments (uid INTEGER, text TEXT)');
      expectInteropError(() => readSlideRunnerFile(file), file, 'Annotations_comments', /not part of any SlideRunner schema/);
    });

    it('a missing table or column', () => {
      const empty = freshPath('empty.sqlite');
      alterSqliteFile(empty, 'CREATE TABLE Slides (uid INTEGER PRIMARY KEY, filename TEXT)');
      expectInteropError(() => readSlideRunnerFile(empty), empty, 'Classes', /table is missing \(the file has: Slides\)/);
      const file = writeSample();
      alterSqliteFile(file, 'ALTER TABLE Annotations_label DROP COLUMN person');
      expectInteropError(() => readSlideRunnerFile(file), file, 'Annotations_label.person', /column is missing/);
    });

    it('an unknown annotation type', () => {
      const file = writeSample();
      alterSqliteFile(file, 'UPDATE Annotations SET type = 9 WHERE uid = 57');
      expectInteropError(() => readSlideRunnerFile(file), file, 'Annotations.type (uid 57)', /annotation type 9 is unknown/);
    });

    it('a rectangle with one corner', () => {
      const file = writeSample();
      alterSqliteFile(file, 'DELETE FROM Annotations_coordinates WHERE annoId = 58 AND orderIdx = 2');
      expectInteropError(() => readSlideRunnerFile(file), file, 'Annotations_coordinates (annoId 58)', /needs 2 coordinate row\(s\), found 1/);
    });

    it('a file that is not SQLite, an empty file, and a damaged one', () => {
      const text = freshPath('notes.sqlite');
      fs.writeFileSync(text, 'slide,x,y\n');
      expectInteropError(() => readSlideRunnerFile(text), text, '', /is not an SQLite database/);
      const empty = freshPath('empty.sqlite');
      fs.writeFileSync(empty, '');
      expectInteropError(() => readSlideRunnerFile(empty), empty, '', /is not an SQLite database/);
      const damaged = freshPath('damaged.sqlite');
      fs.writeFileSync(damaged, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(2000, 7)]));
      expectInteropError(() => readSlideRunnerFile(damaged), damaged, '', /cannot be read as an SQLite database/);
      expectInteropError(() => parseSlideRunner(Buffer.from('{"images": []}'), 'x.sqlite'), 'x.sqlite', '', /not an SQLite database/);
      const missing = path.join(dir, 'missing.sqlite');
      expectInteropError(() => readSlideRunnerFile(missing), missing, '', /cannot be read/);
    });
  });
});
