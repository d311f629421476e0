import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../src-main/services/project/migrate';
import { PROJECT_FILE_NAME } from '../../../src-main/services/project/ProjectDatabase';
import { ScreeningError } from '../../../src-main/services/screening/ScreeningError';
import { coverageOfState, ScreeningStore } from '../../../src-main/services/screening/ScreeningStore';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { slideRow } from '../../fixtures/slideRows';
import { AnnotationProject } from '../annotations/annotationProject';

let lab: AnnotationProject;
let store: ScreeningStore;
let sato: number;
let ito: number;
beforeEach(() => {
  lab = new AnnotationProject();
  store = new ScreeningStore(lab.project.db);
  sato = lab.store.ensureAnnotator('Dr. Sato').id;
  ito = lab.store.ensureAnnotator('Dr. Ito').id;
});
afterEach(() => lab.dispose());

// The fixture slide is 100,000 × 80,000 px at 0.25 µm/px: 5,000 µm fields make a 5 × 4 grid.
const bigFields = { kind: 'micrometres' as const, widthUm: 5000, heightUm: 5000 };

describe('ScreeningStore', () => {
  it('starts at the first field, steps with visits, and resumes after the project is reopened', () => {
    const state = store.start({ slideId: lab.slideId, annotatorId: sato, fieldSpec: bigFields });
    expect([state.columns, state.rows, state.fields.length]).toEqual([5, 4, 20]);
    expect(state.currentField).toBe(0);
    expect(state.visited).toEqual([]);

    let step = store.visit(lab.slideId, sato, 0, 1);
    expect(step).toMatchObject({ visitedField: 0, visitedCount: 1, totalFields: 20 });
    expect(step.current.index).toBe(1);
    step = store.visit(lab.slideId, sato, 1, 1);
    step = store.visit(lab.slideId, sato, 2, 1);
    expect(step.current).toMatchObject({ index: 3, row: 0, column: 3 });
    // Back one: the field left (3) is visited too.
    step = store.visit(lab.slideId, sato, 3, -1);
    expect(step.current.index).toBe(2);
    expect(step.visitedCount).toBe(4);

    lab.reopen();
    const resumed = new ScreeningStore(lab.project.db).get(lab.slideId, sato)!;
    expect(resumed.currentField).toBe(2);
    expect(resumed.visited).toEqual([0, 1, 2, 3]);
    expect(coverageOfState(resumed)).toEqual({ visited: 4, total: 20, fraction: 0.2 });
    expect(resumed.fields).toEqual(state.fields);
  });

  it('keeps each annotator’s screening apart', () => {
    store.start({ slideId: lab.slideId, annotatorId: sato, fieldSpec: bigFields });
    store.visit(lab.slideId, sato, 0, 1);
    expect(store.get(lab.slideId, ito)).toBeNull();
    store.start({ slideId: lab.slideId, annotatorId: ito, fieldSpec: { kind: 'pixels', widthPx: 50_000, heightPx: 40_000 } });
    expect(store.get(lab.slideId, ito)!.fields).toHaveLength(4);
    expect(store.get(lab.slideId, sato)!.visited).toEqual([0]);
  });

  it('stops at either end of the walk', () => {
    store.start({ slideId: lab.slideId, annotatorId: sato, fieldSpec: { kind: 'pixels', widthPx: 50_000, heightPx: 80_000 } });
    expect(store.visit(lab.slideId, sato, 0, -1).current.index).toBe(0);
    expect(store.visit(lab.slideId, sato, 1, 1).current.index).toBe(1);
    expect(store.visit(lab.slideId, sato, 1, 1).visitedCount).toBe(2);
  });

  it('reset forgets the visits; start again replaces the plan', () => {
    store.start({ slideId: lab.slideId, annotatorId: sato, fieldSpec: bigFields });
    store.visit(lab.slideId, sato, 0, 1);
    store.visit(lab.slideId, sato, 1, 1);
    const reset = store.reset(lab.slideId, sato);
    expect(reset.visited).toEqual([]);
    expect(reset.currentField).toBe(0);
    store.visit(lab.slideId, sato, 0, 1);
    const again = store.start({ slideId: lab.slideId, annotatorId: sato, fieldSpec: { kind: 'pixels', widthPx: 50_000, heightPx: 40_000 } });
    expect(again.fields).toHaveLength(4);
    expect(again.visited).toEqual([]);
    expect(lab.count('screening_plans')).toBe(1);
  });

  it('cuts only a polygon ROI and keeps its geometry as it was when screening started', () => {
    const roi = lab.store.createAnnotation(
      lab.slideId,
      { shape: 'polygon', points: [[0, 0], [40_000, 0], [0, 40_000]] },
      sato,
    ).id;
    const state = store.start({ slideId: lab.slideId, annotatorId: sato, fieldSpec: { kind: 'pixels', widthPx: 10_000, heightPx: 10_000 }, roiAnnotationId: roi });
    expect(state.region).toEqual({ x: 0, y: 0, width: 40_000, height: 40_000 });
    expect(state.fields).toHaveLength(10);
    lab.store.move(roi, sato, { shape: 'polygon', points: [[0, 0], [90_000, 0], [0, 70_000]] });
    expect(store.get(lab.slideId, sato)!.fields).toEqual(state.fields);
  });

  it('refuses bad requests by field and writes nothing', () => {
    const cell = lab.store.createAnnotation(lab.slideId, { shape: 'point', x: 5, y: 5 }, sato).id;
    const other = lab.addSlide('case-2.svs');
    const elsewhere = lab.store.createAnnotation(other, { shape: 'rectangle', x: 0, y: 0, width: 10, height: 10 }, sato).id;
    const attempt = (request: Partial<Parameters<ScreeningStore['start']>[0]>) => () =>
      store.start({ slideId: lab.slideId, annotatorId: sato, fieldSpec: bigFields, ...request });
    expect(attempt({ slideId: 99 })).toThrow(/^slideId: no slide 99/);
    expect(attempt({ annotatorId: 99 })).toThrow(/^annotatorId: no annotator 99/);
    expect(attempt({ roiAnnotationId: cell })).toThrow(/is a point/);
    expect(attempt({ roiAnnotationId: elsewhere })).toThrow(/lies on slide/);
    expect(() => store.visit(lab.slideId, sato, 0, 1)).toThrow(ScreeningError);
    store.start({ slideId: lab.slideId, annotatorId: sato, fieldSpec: bigFields });
    expect(() => store.visit(lab.slideId, sato, 20, 1)).toThrow(/^fieldIndex: must be a field of this screening, 0 to 19/);
    expect(lab.count('screening_visits')).toBe(0);
  });

  it('refuses µm fields on a slide without a pixel size', () => {
    const bare = new SlideCatalog(lab.project.db).insert({ ...slideRow('crop.png'), mppX: null, mppY: null, objectivePower: null });
    expect(() => store.start({ slideId: bare, annotatorId: sato, fieldSpec: bigFields })).toThrow(/crop\.png records no µm per pixel/);
    expect(store.start({ slideId: bare, annotatorId: sato, fieldSpec: { kind: 'pixels', widthPx: 50_000, heightPx: 40_000 } }).fields).toHaveLength(4);
  });

  it('plans go with their slide when it is deleted for good', () => {
    store.start({ slideId: lab.slideId, annotatorId: sato, fieldSpec: bigFields });
    store.visit(lab.slideId, sato, 0, 1);
    lab.project.db.prepare('DELETE FROM slides WHERE id = ?').run(lab.slideId);
    expect(lab.count('screening_plans')).toBe(0);
    expect(lab.count('screening_visits')).toBe(0);
  });
});

describe('migration 4 → 5', () => {
  let folder: string;
  beforeEach(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-migration-5-'));
  });
  afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

  it('keeps slides, annotations and jobs and adds empty screening tables with their checks', () => {
    const db = new BetterSqlite3(path.join(folder, PROJECT_FILE_NAME));
    db.pragma('foreign_keys = ON');
    migrate(db, 4);
    new SlideCatalog(db).insert(slideRow());
    db.prepare("INSERT INTO annotators (name, kind, created_at) VALUES ('Dr. Sato', 'person', 'now')").run();
    const tables = ['slides', 'annotations', 'classes', 'changes', 'jobs', 'annotators'];
    const before = tables.map((table) => db.prepare(`SELECT * FROM ${table}`).all());
    migrate(db, 5);
    expect(schemaVersion(db)).toBe(5);
    expect(tables.map((table) => db.prepare(`SELECT * FROM ${table}`).all())).toEqual(before);
    expect(db.prepare('SELECT count(*) AS n FROM screening_plans').get()).toEqual({ n: 0 });
    const insert = (current: number, count: number, slide = 1) =>
      db
        .prepare(
          `INSERT INTO screening_plans (slide_id, annotator_id, field_spec_json, field_width_px, field_height_px, region_x, region_y,
             region_width, region_height, field_count, current_field, started_at, updated_at)
           VALUES (?, 1, '{}', 10, 10, 0, 0, 100, 100, ?, ?, 'now', 'now')`,
        )
        .run(slide, count, current);
    expect(() => insert(5, 5)).toThrow(/CHECK/);
    expect(() => insert(0, 5, 9)).toThrow(/FOREIGN KEY/);
    insert(0, 5);
    expect(() => insert(0, 5)).toThrow(/UNIQUE/);
    expect(() => db.prepare("INSERT INTO screening_visits (plan_id, field_index, visited_at) VALUES (7, 0, 'now')").run()).toThrow(/FOREIGN KEY/);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});
