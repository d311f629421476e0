import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AnnotationError,
  InvalidAnnotationInputError,
  UnknownReferenceError,
} from '../../../src-main/services/annotations/errors';
import type { Geometry } from '../../../src-main/services/annotations/geometry';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { AnnotationProject, IMPOSTER, MITOTIC_FIGURE } from './annotationProject';

const TABLES = ['annotators', 'classes', 'annotations', 'annotation_bounds', 'labels', 'changes', 'change_items'];

describe('bad input', () => {
  let fixture: AnnotationProject;
  let anna: number;
  let cell: number;
  let deletedCell: number;
  let deletedSlide: number;

  beforeEach(() => {
    fixture = new AnnotationProject();
    const { store, slideId } = fixture;
    anna = store.ensureAnnotator('Anna').id;
    cell = store.createAnnotation(slideId, { shape: 'point', x: 1, y: 1 }, anna, MITOTIC_FIGURE).id;
    deletedCell = store.createAnnotation(slideId, { shape: 'point', x: 2, y: 2 }, anna, MITOTIC_FIGURE).id;
    store.delete(deletedCell, anna);
    deletedSlide = fixture.addSlide('gone.svs');
    new SlideCatalog(fixture.project.db).softDelete(deletedSlide);
  });
  afterEach(() => fixture.dispose());

  function snapshot(): unknown[][] {
    return TABLES.map((table) => fixture.project.db.prepare(`SELECT * FROM ${table}`).all());
  }

  /** The call throws `type` naming `field`, and not one row of the project changed. */
  function expectRefused(call: () => unknown, type: typeof InvalidAnnotationInputError | typeof UnknownReferenceError, field: string, message?: RegExp) {
    const before = snapshot();
    let caught: unknown;
    try {
      call();
    } catch (error) {
      caught = error;
    }
    expect(caught, `expected ${type.name} on ${field}`).toBeInstanceOf(type);
    expect(caught).toBeInstanceOf(AnnotationError);
    const error = caught as AnnotationError;
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
    expect(error.code).toBe(type === UnknownReferenceError ? 'not-found' : 'invalid-argument');
    if (message) expect(error.message).toMatch(message);
    expect(snapshot()).toEqual(before);
  }

  const point = { shape: 'point', x: 5, y: 5 } as const;

  it('unknown or deleted ids', () => {
    const { store, slideId } = fixture;
    expectRefused(() => store.createAnnotation(999, point, anna), UnknownReferenceError, 'slideId', /no slide 999/);
    expectRefused(() => store.createAnnotation(deletedSlide, point, anna), UnknownReferenceError, 'slideId');
    expectRefused(() => store.createAnnotation(slideId, point, 77), UnknownReferenceError, 'actorId', /no annotator 77/);
    expectRefused(() => store.createAnnotation(slideId, point, anna, 55), UnknownReferenceError, 'classId', /no class 55/);
    expectRefused(() => store.setVote(4242, anna, MITOTIC_FIGURE), UnknownReferenceError, 'annotationId');
    expectRefused(() => store.setVote(deletedCell, anna, IMPOSTER), UnknownReferenceError, 'annotationId', /was deleted/);
    expectRefused(() => store.setVote(cell, anna, 55), UnknownReferenceError, 'classId');
    expectRefused(() => store.setVote(cell, 77, IMPOSTER), UnknownReferenceError, 'actorId');
    expectRefused(() => store.move(4242, anna, point), UnknownReferenceError, 'annotationId');
    expectRefused(() => store.delete(deletedCell, anna), UnknownReferenceError, 'annotationId');
    expectRefused(() => store.clearVote(cell, 77), UnknownReferenceError, 'actorId');
    expectRefused(() => store.undo(77), UnknownReferenceError, 'actorId');
    expectRefused(() => store.queryRect(slideId, { x: 0, y: 0, width: 1, height: 1 }, { viewerId: 77 }), UnknownReferenceError, 'viewer.viewerId');
    expectRefused(() => store.labelLog(77), UnknownReferenceError, 'actorId');
    expectRefused(() => store.queryRect(999, { x: 0, y: 0, width: 1, height: 1 }, { viewerId: anna }), UnknownReferenceError, 'slideId');
    expectRefused(() => store.listForSlide(deletedSlide, { viewerId: anna }), UnknownReferenceError, 'slideId');

    store.deleteClass(IMPOSTER);
    expectRefused(() => store.setVote(cell, anna, IMPOSTER), UnknownReferenceError, 'classId', /"non-mitotic figure \(imposter\)" was deleted/);
  });

  it('malformed geometry', () => {
    const { store, slideId } = fixture;
    const create = (geometry: unknown) => () => store.createAnnotation(slideId, geometry as Geometry, anna, MITOTIC_FIGURE);
    expectRefused(create({ shape: 'point', x: Number.NaN, y: 1 }), InvalidAnnotationInputError, 'geometry.x', /finite number.*NaN/);
    expectRefused(create({ shape: 'point', x: 1, y: Number.POSITIVE_INFINITY }), InvalidAnnotationInputError, 'geometry.y');
    expectRefused(create({ shape: 'point', x: '1', y: 1 }), InvalidAnnotationInputError, 'geometry.x');
    expectRefused(create({ shape: 'point', x: 1 }), InvalidAnnotationInputError, 'geometry.y', /got nothing/);
    expectRefused(create({ shape: 'circle', x: 1, y: 1, radius: -3 }), InvalidAnnotationInputError, 'geometry.radius', /greater than 0/);
    expectRefused(create({ shape: 'circle', x: 1, y: 1, radius: 0 }), InvalidAnnotationInputError, 'geometry.radius');
    expectRefused(create({ shape: 'rectangle', x: 1, y: 1, width: 10, height: -1 }), InvalidAnnotationInputError, 'geometry.height');
    expectRefused(create({ shape: 'polygon', points: [[0, 0], [1, 1]] }), InvalidAnnotationInputError, 'geometry.points', /at least 3 vertices \(got 2\)/);
    expectRefused(create({ shape: 'polygon', points: [[0, 0], [Number.NaN, 1], [2, 2]] }), InvalidAnnotationInputError, 'geometry.points[1][0]');
    expectRefused(create({ shape: 'polygon', points: [[0, 0], [1], [2, 2]] }), InvalidAnnotationInputError, 'geometry.points[1]');
    expectRefused(create({ shape: 'polygon', points: 'M0 0' }), InvalidAnnotationInputError, 'geometry.points');
    expectRefused(create({ shape: 'ellipse', x: 1, y: 1 }), InvalidAnnotationInputError, 'geometry.shape', /point, circle, rectangle, polygon/);
    expectRefused(create(null), InvalidAnnotationInputError, 'geometry');
    expectRefused(() => store.move(cell, anna, { shape: 'circle', x: 1, y: 1, radius: 4 }), InvalidAnnotationInputError, 'geometry.shape');
    expectRefused(() => store.move(cell, anna, { shape: 'point', x: Number.NaN, y: 1 }), InvalidAnnotationInputError, 'geometry.x');
    expectRefused(
      () => store.queryRect(slideId, { x: 0, y: 0, width: -5, height: 1 }, { viewerId: anna }),
      InvalidAnnotationInputError,
      'rect.width',
    );
  });

  it('an import with one bad annotation writes none of them', () => {
    const { store, slideId } = fixture;
    const good = (x: number) => ({ slideId, geometry: { shape: 'point' as const, x, y: 1 } });
    expectRefused(
      () => store.importAnnotations(anna, [good(1), good(2), { slideId, geometry: { shape: 'circle', x: 1, y: 1, radius: -1 } }]),
      InvalidAnnotationInputError,
      'annotations[2].geometry.radius',
    );
    expectRefused(() => store.importAnnotations(anna, [good(1), { ...good(2), slideId: 999 }]), UnknownReferenceError, 'annotations[1].slideId');
    expectRefused(
      () => store.importAnnotations(anna, [good(1), { ...good(2), votes: [{ annotatorId: 99, classId: 1 }] }]),
      UnknownReferenceError,
      'annotations[1].votes[0].annotatorId',
    );
    expectRefused(
      () => store.importAnnotations(anna, [{ ...good(2), votes: [{ annotatorId: anna, classId: 12 }] }]),
      UnknownReferenceError,
      'annotations[0].votes[0].classId',
    );
    expectRefused(
      () =>
        store.importAnnotations(anna, [
          {
            ...good(2),
            votes: [
              { annotatorId: anna, classId: 1 },
              { annotatorId: anna, classId: 2 },
            ],
          },
        ]),
      InvalidAnnotationInputError,
      'annotations[0].votes[1].annotatorId',
    );
    const taken = store.get(cell, { viewerId: anna })!.guid;
    expectRefused(() => store.importAnnotations(anna, [good(1), { ...good(2), guid: taken }]), InvalidAnnotationInputError, 'annotations[1].guid');
    expectRefused(
      () => store.importAnnotations(anna, [{ ...good(1), guid: 'same' }, { ...good(2), guid: 'same' }]),
      InvalidAnnotationInputError,
      'annotations[1].guid',
    );
  });

  it('classes and annotators', () => {
    const { store } = fixture;
    expectRefused(() => store.createClass({ name: 'mitotic figure', colour: '#000000' }), InvalidAnnotationInputError, 'name', /already exists/);
    expectRefused(() => store.createClass({ name: '  ', colour: '#000000' }), InvalidAnnotationInputError, 'name');
    expectRefused(() => store.createClass({ name: 'atypical', colour: 'red' }), InvalidAnnotationInputError, 'colour', /#rrggbb/);
    expectRefused(() => store.createClass({ name: 'atypical', colour: '#00000' }), InvalidAnnotationInputError, 'colour');
    expectRefused(() => store.createClass({ name: 'atypical', colour: '#000000', hotkey: '1' }), InvalidAnnotationInputError, 'hotkey', /mitotic figure/);
    expectRefused(() => store.createClass({ name: 'atypical', colour: '#000000', hotkey: 'F1' }), InvalidAnnotationInputError, 'hotkey');
    expectRefused(() => store.updateClass(MITOTIC_FIGURE, { hotkey: '2' }), InvalidAnnotationInputError, 'hotkey');
    expectRefused(() => store.updateClass(99, { colour: '#ffffff' }), UnknownReferenceError, 'classId');
    expectRefused(() => store.deleteClass(99), UnknownReferenceError, 'classId');
    expectRefused(() => store.ensureAnnotator(''), InvalidAnnotationInputError, 'name');
    expectRefused(() => store.ensureAnnotator('Anna', 'model'), InvalidAnnotationInputError, 'kind', /already an annotator of kind 'person'/);
  });

  it('what the database itself refuses, should a caller bypass the store', () => {
    const db = fixture.project.db;
    expect(() => db.prepare("UPDATE annotations SET shape = 'blob' WHERE id = ?").run(cell)).toThrow(/CHECK/);
    expect(() => db.prepare("UPDATE classes SET colour = 'red' WHERE id = 1").run()).toThrow(/CHECK/);
    expect(() => db.prepare("UPDATE classes SET hotkey = '1' WHERE id = 2").run()).toThrow(/UNIQUE/);
    expect(() => db.prepare('UPDATE labels SET class_id = 99').run()).toThrow(/FOREIGN KEY/);
    expect(() => db.prepare("INSERT INTO annotators (name, kind, created_at) VALUES ('x', 'robot', 'now')").run()).toThrow(/CHECK/);
    expect(() => db.prepare("INSERT INTO changes (actor_id, kind, description, at) VALUES (1, 'undo', 'x', 'now')").run()).toThrow(/CHECK/);
    expect(() => db.prepare("UPDATE annotations SET geometry_json = 'not json' WHERE id = ?").run(cell)).toThrow(/CHECK/);
  });
});

describe('classes and annotators', () => {
  let fixture: AnnotationProject;
  beforeEach(() => {
    fixture = new AnnotationProject();
  });
  afterEach(() => fixture.dispose());

  it('a project starts with the two classes of the MIDOG convention', () => {
    expect(fixture.store.listClasses().map(({ id, name, hotkey }) => ({ id, name, hotkey }))).toEqual([
      { id: MITOTIC_FIGURE, name: 'mitotic figure', hotkey: '1' },
      { id: IMPOSTER, name: 'non-mitotic figure (imposter)', hotkey: '2' },
    ]);
  });

  it('can be added, edited and soft-deleted; a deleted class frees its hotkey and keeps its votes', () => {
    const { store, slideId } = fixture;
    const atypical = store.createClass({ name: ' atypical mitosis ', colour: '#FFAA00', hotkey: '3' });
    expect(atypical).toMatchObject({ name: 'atypical mitosis', colour: '#ffaa00', hotkey: '3', sortOrder: 3, deletedAt: null });
    expect(store.updateClass(atypical.id, { colour: '#00ff00', hotkey: null })).toMatchObject({ colour: '#00ff00', hotkey: null });
    const anna = store.ensureAnnotator('Anna').id;
    const id = store.createAnnotation(slideId, { shape: 'point', x: 1, y: 1 }, anna, IMPOSTER).id;
    store.deleteClass(IMPOSTER);
    expect(store.listClasses().map((c) => c.id)).toEqual([MITOTIC_FIGURE, atypical.id]);
    expect(store.listClasses({ includeDeleted: true }).find((c) => c.id === IMPOSTER)!.deletedAt).not.toBeNull();
    expect(store.createClass({ name: 'non-mitotic figure (imposter)', colour: '#123456', hotkey: '2' }).hotkey).toBe('2');
    expect(store.get(id, { viewerId: anna })!.votes.map((vote) => vote.classId)).toEqual([IMPOSTER]);
  });

  it('an annotator is found again by name', () => {
    const { store } = fixture;
    const anna = store.ensureAnnotator('Anna');
    expect(store.ensureAnnotator(' Anna ')).toEqual(anna);
    const model = store.ensureAnnotator('Virchow2 LoRA', 'model');
    expect(store.listAnnotators()).toEqual([anna, model]);
  });
});
