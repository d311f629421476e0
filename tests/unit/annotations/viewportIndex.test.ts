import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AnnotationStore } from '../../../src-main/services/annotations/AnnotationStore';
import { POINTS_IN_BAND_SQL } from '../../../src-main/services/annotations/AnnotationRows';
import { intersects, boundsOf, centreOf, geometryToJson, type Geometry } from '../../../src-main/services/annotations/geometry';
import type { Annotation } from '../../../src-main/services/annotations/types';
import { migrate } from '../../../src-main/services/project/migrate';
import { LATEST_SCHEMA_VERSION } from '../../../src-main/services/project/migrations';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { slideRow } from '../../fixtures/slideRows';
import { AnnotationProject, IMPOSTER, MITOTIC_FIGURE } from './annotationProject';
import { seededRandom as random } from '../../../src-main/services/random/seededRandom';


const SLIDE = { width: 20_000, height: 16_000 };

function byId(annotations: Annotation[]): Annotation[] {
  return [...annotations].sort((a, b) => a.id - b.id);
}


function someGeometry(next: () => number): Geometry {
  const x = next() * SLIDE.width;
  const y = next() * SLIDE.height;
  const pick = next();
  if (pick < 0.85) return { shape: 'point', x, y };
  if (pick < 0.9) return { shape: 'circle', x, y, radius: 5 + next() * 3000 };
  if (pick < 0.95) return { shape: 'rectangle', x, y, width: 10 + next() * 5000, height: 10 + next() * 5000 };
  return { shape: 'polygon', points: [[x, y], [x + 10 + next() * 4000, y], [x, y + 10 + next() * 4000]] };
}

/** Creates, votes, moves, deletes, undoes and imports at random on two slides. */
function edit(store: AnnotationStore, slides: number[], people: number[], next: () => number, steps: number): void {
  const live = (actor: number) => slides.flatMap((slideId) => store.listForSlide(slideId, { viewerId: actor }));
  for (let step = 0; step < steps; step++) {
    const actor = people[Math.floor(next() * people.length)]!;
    const slideId = slides[Math.floor(next() * slides.length)]!;
    const ids = live(actor).map((annotation) => annotation.id);
    const target = ids[Math.floor(next() * ids.length)];
    const pick = next();
    if (pick < 0.35 || target === undefined) {
      store.createAnnotation(slideId, someGeometry(next), actor, next() < 0.8 ? MITOTIC_FIGURE : null);
    } else if (pick < 0.55) {
      store.setVote(target, actor, next() < 0.5 ? MITOTIC_FIGURE : IMPOSTER);
    } else if (pick < 0.62) {
      store.clearVote(target, actor);
    } else if (pick < 0.72) {
      const shape = store.get(target, { viewerId: actor })!.geometry.shape;
      let geometry = someGeometry(next);
      while (geometry.shape !== shape) geometry = someGeometry(next);
      store.move(target, actor, geometry);
    } else if (pick < 0.8) {
      store.delete(target, actor);
    } else if (pick < 0.9) {
      store.undo(actor);
    } else if (pick < 0.95) {
      store.redo(actor);
    } else {
      const imported = Array.from({ length: 20 }, () => ({
        slideId,
        geometry: someGeometry(next),
        votes: people.filter(() => next() < 0.6).map((annotatorId) => ({ annotatorId, classId: next() < 0.5 ? MITOTIC_FIGURE : IMPOSTER })),
      }));
      store.importAnnotations(actor, imported);
    }
  }
}

/**
 * Annotations as a project before migration 006 holds them (no votes_json, points in the one
 * R*Tree), written with plain SQL: the store itself needs the index. Some are deleted.
 */
function writeBeforeIndex(db: BetterSqlite3.Database, slides: number[], people: number[], next: () => number, count: number): void {
  const insert = db.prepare(
    `INSERT INTO annotations (guid, slide_id, shape, geometry_json, centre_x, centre_y, created_by, created_at, deleted_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const putBounds = db.prepare('INSERT INTO annotation_bounds (id, min_x, max_x, min_y, max_y, min_slide, max_slide) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const putVote = db.prepare('INSERT INTO labels (annotation_id, annotator_id, class_id, updated_at) VALUES (?, ?, ?, ?)');
  const at = '2026-01-01T00:00:00.000Z';
  db.transaction(() => {
    for (let index = 0; index < count; index++) {
      const slideId = slides[Math.floor(next() * slides.length)]!;
      const geometry = someGeometry(next);
      const centre = centreOf(geometry);
      const deleted = next() < 0.1;
      const createdBy = people[Math.floor(next() * people.length)]!;
      const id = Number(
        insert.run(`before-${index}`, slideId, geometry.shape, geometryToJson(geometry), centre.x, centre.y, createdBy, at, deleted ? at : null).lastInsertRowid,
      );
      const box = boundsOf(geometry);
      if (!deleted) putBounds.run(id, box.minX, box.maxX, box.minY, box.maxY, slideId - 0.25, slideId + 0.25);
      for (const annotatorId of people) {
        if (next() < 0.5) putVote.run(id, annotatorId, next() < 0.5 ? MITOTIC_FIGURE : IMPOSTER, at);
      }
    }
  })();
}

function checkQueries(store: AnnotationStore, slides: number[], people: number[], next: () => number): void {
  const viewers = [
    { viewerId: people[0]! },
    { viewerId: people[1]!, blind: true },
    { viewerId: people[2]!, blind: true, includeUnlabelledCandidates: true },
  ];
  // The truth: listForSlide reads votes through the labels table, not the index.
  const truth = viewers.map((viewer) => slides.map((slideId) => store.listForSlide(slideId, viewer)));
  for (let index = 0; index < 60; index++) {
    const width = next() < 0.2 ? SLIDE.width : 50 + next() * 6000;
    const height = next() < 0.2 ? SLIDE.height : 50 + next() * 5000;
    // Some windows reach past the slide's edges, where no cell lies, and past 0.
    const rect = { x: -500 + next() * SLIDE.width, y: -500 + next() * SLIDE.height, width, height };
    viewers.forEach((viewer, viewerIndex) => {
      slides.forEach((slideId, slideIndex) => {
        const inside = truth[viewerIndex]![slideIndex]!.filter((annotation) => intersects(boundsOf(annotation.geometry), rect));
        expect(byId(store.queryRect(slideId, rect, viewer))).toEqual(byId(inside));
      });
    });
  }
}

describe('viewport index (migration 006)', () => {
  let fixture: AnnotationProject | undefined;
  const folders: string[] = [];
  afterEach(() => {
    fixture?.dispose();
    fixture = undefined;
    for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
  });

  it('is registered, so that projects get it', () => {
    expect(LATEST_SCHEMA_VERSION, 'add migration006 to src-main/services/project/migrations/index.ts').toBeGreaterThanOrEqual(6);
  });

  it('answers the points of a viewport from the covering index alone', () => {
    fixture = new AnnotationProject();
    const plan = fixture.project.db
      .prepare(`EXPLAIN QUERY PLAN ${POINTS_IN_BAND_SQL}`)
      .all({ slideId: 1, band: 3, minX: 0, maxX: 10, minY: 0, maxY: 10 }) as { detail: string }[];
    expect(plan.map((step) => step.detail).join('\n')).toMatch(/USING COVERING INDEX annotations_points_by_place \(slide_id=\? AND <expr>=\? AND centre_x>\? AND centre_x<\?\)/);
  });

  it('finds what the labels table says, for every shape and viewer, through edits, undo and import', () => {
    fixture = new AnnotationProject();
    const store = fixture.store;
    const slides = [fixture.slideId, fixture.addSlide('case-2.svs')];
    const people = ['Anna', 'Ben', 'Chie'].map((name) => store.ensureAnnotator(name).id);
    people.push(store.ensureAnnotator('detector', 'model').id);
    const next = random(60606);
    edit(store, slides, people, next, 300);
    checkQueries(store, slides, people, next);
    const mismatched = fixture.project.db
      .prepare(
        `SELECT a.id FROM annotations a WHERE a.votes_json IS NOT (
           SELECT json_group_array(json_array(l.annotator_id, l.class_id) ORDER BY l.annotator_id) FROM labels l WHERE l.annotation_id = a.id)`,
      )
      .all();
    expect(mismatched).toEqual([]);
    // The regions' R*Tree holds exactly the live annotations that are not points.
    const regions = fixture.project.db
      .prepare(
        `SELECT (SELECT count(*) FROM annotation_region_bounds) AS indexed,
                (SELECT count(*) FROM annotations WHERE deleted_at IS NULL AND shape <> 'point') AS live`,
      )
      .get() as { indexed: number; live: number };
    expect(regions.indexed).toBe(regions.live);
    expect(regions.live).toBeGreaterThan(0);
  });

  it('brings annotations written before it into the index, votes and regions included', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-viewport-index-'));
    folders.push(folder);
    const db = new BetterSqlite3(path.join(folder, 'project.sqlite'));
    try {
      migrate(db, 5);
      const slides = [new SlideCatalog(db).insert(slideRow('a.svs')), new SlideCatalog(db).insert(slideRow('b.svs'))];
      const addPerson = db.prepare("INSERT INTO annotators (name, kind, created_at) VALUES (?, 'person', '2026-01-01T00:00:00.000Z')");
      const people = ['Anna', 'Ben', 'Chie'].map((name) => Number(addPerson.run(name).lastInsertRowid));
      const next = random(5005);
      writeBeforeIndex(db, slides, people, next, 300);
      const live = db.prepare('SELECT count(*) AS n FROM annotations WHERE slide_id = ? AND deleted_at IS NULL');
      const liveBefore = slides.map((slideId) => (live.get(slideId) as { n: number }).n);

      expect(migrate(db, 6)).toBe(6);
      const after = new AnnotationStore(db);
      const whole = { x: 0, y: 0, width: SLIDE.width, height: SLIDE.height };
      expect(slides.map((slideId) => after.queryRect(slideId, whole, { viewerId: people[0]! }).length)).toEqual(liveBefore);
      checkQueries(after, slides, people, next);
      edit(after, slides, people, next, 100);
      checkQueries(after, slides, people, next);
    } finally {
      db.close();
    }
  });
});
