import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnnotationStore } from '../../../src-main/services/annotations/AnnotationStore';
import { carryOver, type AnnotationState } from '../../../src-main/services/annotations/annotationState';
import type { AnnotationChangeEvent } from '../../../src-main/services/annotations/types';
import { replayAll } from '../../../src-main/services/annotations/undoStacks';
import { AnnotationProject, IMPOSTER, MITOTIC_FIGURE } from './annotationProject';

describe('undo stacks replayed from the history', () => {
  it('edit pushes and clears redo; undo moves to redo; redo moves back', () => {
    expect(replayAll([])).toEqual({ undo: [], redo: [], lastChangeId: null });
    const stacks = replayAll([
      { id: 1, kind: 'edit', targetChangeId: null },
      { id: 2, kind: 'edit', targetChangeId: null },
      { id: 3, kind: 'undo', targetChangeId: 2 },
      { id: 4, kind: 'undo', targetChangeId: 1 },
      { id: 5, kind: 'redo', targetChangeId: 4 },
    ]);
    expect(stacks).toEqual({ undo: [5], redo: [3], lastChangeId: 5 });
    expect(
      replayAll([
        { id: 1, kind: 'edit', targetChangeId: null },
        { id: 2, kind: 'undo', targetChangeId: 1 },
        { id: 3, kind: 'edit', targetChangeId: null },
      ]),
    ).toEqual({ undo: [3], redo: [], lastChangeId: 3 });
  });
});

describe('carryOver', () => {
  const point = (x: number) => ({ shape: 'point' as const, x, y: 0 });
  it('reverses only what the change touched, keeping later edits of others', () => {
    const before: AnnotationState = { geometry: point(1), deleted: false, votes: [{ annotatorId: 1, classId: 1 }] };
    const after: AnnotationState = { geometry: point(2), deleted: false, votes: [{ annotatorId: 1, classId: 1 }] };
    const now: AnnotationState = {
      geometry: point(2),
      deleted: false,
      votes: [
        { annotatorId: 1, classId: 1 },
        { annotatorId: 2, classId: 2 },
      ],
    };
    expect(carryOver(now, after, before)).toEqual({ ...now, geometry: point(1) });
  });

  it('treats "before creation" as deleted without votes', () => {
    const created: AnnotationState = { geometry: point(1), deleted: false, votes: [{ annotatorId: 1, classId: 2 }] };
    expect(carryOver(created, created, null)).toEqual({ geometry: point(1), deleted: true, votes: [] });
  });
});

describe('undo and redo', () => {
  let fixture: AnnotationProject;
  let anna: number;
  let ben: number;
  beforeEach(() => {
    fixture = new AnnotationProject();
    anna = fixture.store.ensureAnnotator('Anna').id;
    ben = fixture.store.ensureAnnotator('Ben').id;
  });
  afterEach(() => fixture.dispose());

  const seen = (id: number) => fixture.store.get(id, { viewerId: anna });

  it('steps back and forth through create, vote, move and delete', () => {
    const { store, slideId } = fixture;
    const id = store.createAnnotation(slideId, { shape: 'point', x: 10, y: 20 }, anna, MITOTIC_FIGURE).id;
    store.setVote(id, anna, IMPOSTER);
    store.move(id, anna, { shape: 'point', x: 15, y: 25 });
    store.delete(id, anna);
    expect(seen(id)!.deletedAt).not.toBeNull();

    expect(store.undo(anna)!.description).toBe('undo: delete point');
    expect(seen(id)!.deletedAt).toBeNull();
    expect(store.undo(anna)!.description).toBe('undo: move point');
    expect(seen(id)!.geometry).toEqual({ shape: 'point', x: 10, y: 20 });
    expect(store.undo(anna)!.description).toBe('undo: vote non-mitotic figure (imposter)');
    expect(seen(id)!.votes.map((vote) => vote.classId)).toEqual([MITOTIC_FIGURE]);
    expect(store.undo(anna)!.description).toBe('undo: create point as mitotic figure');
    expect(seen(id)!.deletedAt).not.toBeNull();
    expect(store.queryRect(slideId, { x: 0, y: 0, width: 100, height: 100 }, { viewerId: anna })).toEqual([]);
    expect(store.undo(anna)).toBeNull();

    expect(store.redo(anna)!.description).toBe('redo: create point as mitotic figure');
    expect(seen(id)!.deletedAt).toBeNull();
    expect(seen(id)!.votes.map((vote) => vote.classId)).toEqual([MITOTIC_FIGURE]);
    expect(store.redo(anna)!.description).toBe('redo: vote non-mitotic figure (imposter)');
    expect(seen(id)!.votes.map((vote) => vote.classId)).toEqual([IMPOSTER]);
    expect(store.undoStatus(anna)).toEqual({ undo: 'redo: vote non-mitotic figure (imposter)', redo: 'undo: move point' });
  });

  it('a new edit clears the redo stack', () => {
    const { store, slideId } = fixture;
    const id = store.createAnnotation(slideId, { shape: 'point', x: 1, y: 1 }, anna, MITOTIC_FIGURE).id;
    store.setVote(id, anna, IMPOSTER);
    store.undo(anna);
    store.clearVote(id, anna);
    expect(store.redo(anna)).toBeNull();
    expect(store.undoStatus(anna).redo).toBeNull();
  });

  it('is per person: undoing my change leaves your vote alone', () => {
    const { store, slideId } = fixture;
    const id = store.createAnnotation(slideId, { shape: 'point', x: 1, y: 1 }, anna, MITOTIC_FIGURE).id;
    store.move(id, anna, { shape: 'point', x: 2, y: 2 });
    store.setVote(id, ben, IMPOSTER);

    expect(store.undo(anna)!.description).toBe('undo: move point');
    expect(seen(id)!.geometry).toEqual({ shape: 'point', x: 1, y: 1 });
    expect(seen(id)!.votes).toEqual([
      { annotatorId: anna, classId: MITOTIC_FIGURE, annotatorKind: 'person' },
      { annotatorId: ben, classId: IMPOSTER, annotatorKind: 'person' },
    ]);
    expect(store.undo(ben)!.description).toBe('undo: vote non-mitotic figure (imposter)');
    expect(seen(id)!.votes.map((vote) => vote.annotatorId)).toEqual([anna]);
    expect(store.undoStatus(ben)).toEqual({ undo: null, redo: 'undo: vote non-mitotic figure (imposter)' });
  });

  it('survives closing and reopening the project', () => {
    const { slideId } = fixture;
    let store = fixture.store;
    const first = store.createAnnotation(slideId, { shape: 'point', x: 1, y: 1 }, anna, MITOTIC_FIGURE).id;
    const second = store.createAnnotation(slideId, { shape: 'point', x: 2, y: 2 }, anna, IMPOSTER).id;
    store.setVote(first, ben, IMPOSTER);
    store.setVote(second, anna, MITOTIC_FIGURE);
    store.undo(anna);

    store = fixture.reopen();
    expect(store.undoStatus(anna)).toEqual({
      undo: 'create point as non-mitotic figure (imposter)',
      redo: 'undo: vote mitotic figure',
    });
    expect(store.redo(anna)!.description).toBe('redo: vote mitotic figure');
    expect(seen(second)!.votes.map((vote) => vote.classId)).toEqual([MITOTIC_FIGURE]);
    store.undo(anna);
    store.undo(anna);

    store = fixture.reopen();
    expect(seen(second)!.deletedAt).not.toBeNull();
    expect(store.undo(anna)!.description).toBe('undo: create point as mitotic figure');
    expect(seen(first)!.deletedAt).not.toBeNull();
    expect(seen(first)!.votes.map((vote) => vote.annotatorId)).toEqual([ben]);
    expect(store.undo(anna)).toBeNull();
    expect(store.undo(ben)!.description).toBe('undo: vote non-mitotic figure (imposter)');

    store = fixture.reopen();
    expect(store.redo(anna)!.description).toBe('redo: create point as mitotic figure');
    expect(store.redo(anna)!.description).toBe('redo: create point as non-mitotic figure (imposter)');
    expect(store.redo(anna)!.description).toBe('redo: vote mitotic figure');
    expect(store.redo(anna)).toBeNull();
    expect(seen(second)!.votes.map((vote) => vote.classId)).toEqual([MITOTIC_FIGURE]);
    expect(fixture.project.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('notices changes another process wrote for the same person', () => {
    const { slideId } = fixture;
    const id = fixture.store.createAnnotation(slideId, { shape: 'point', x: 1, y: 1 }, anna, MITOTIC_FIGURE).id;
    expect(fixture.store.undoStatus(anna).undo).toBe('create point as mitotic figure');
    // A second store on the same database stands in for a second process.
    const other = new AnnotationStore(fixture.project.db);
    other.setVote(id, anna, IMPOSTER);
    expect(fixture.store.undo(anna)!.description).toBe('undo: vote non-mitotic figure (imposter)');
  });

  it('undoes an import in one step', () => {
    const { store, slideId } = fixture;
    const { annotationIds } = store.importAnnotations(anna, [
      { slideId, geometry: { shape: 'point', x: 1, y: 1 }, votes: [{ annotatorId: ben, classId: MITOTIC_FIGURE }] },
      { slideId, geometry: { shape: 'point', x: 2, y: 2 } },
    ]);
    expect(store.undo(anna)!.annotationIds).toEqual(annotationIds);
    expect(store.listForSlide(slideId, { viewerId: anna })).toEqual([]);
    store.redo(anna);
    expect(store.listForSlide(slideId, { viewerId: anna }).map((annotation) => annotation.id)).toEqual(annotationIds);
    expect(seen(annotationIds[0]!)!.votes).toEqual([{ annotatorId: ben, classId: MITOTIC_FIGURE, annotatorKind: 'person' }]);
  });

  it('records nothing for a call that changes nothing', () => {
    const { store, slideId } = fixture;
    const id = store.createAnnotation(slideId, { shape: 'point', x: 1, y: 1 }, anna, MITOTIC_FIGURE).id;
    const changes = fixture.count('changes');
    expect(store.setVote(id, anna, MITOTIC_FIGURE)).toEqual({ changeId: null, annotationIds: [] });
    expect(store.clearVote(id, ben).changeId).toBeNull();
    expect(store.importAnnotations(anna, [])).toEqual({ changeId: null, annotationIds: [] });
    expect(fixture.count('changes')).toBe(changes);
    expect(store.createAnnotation(slideId, { shape: 'point', x: 2, y: 2 }, anna, null).id).toBeGreaterThan(id);
  });
});

describe('change events', () => {
  let fixture: AnnotationProject;
  beforeEach(() => {
    fixture = new AnnotationProject();
  });
  afterEach(() => fixture.dispose());

  it('carry their origin and slide, after the change is committed', () => {
    const { store, slideId } = fixture;
    const anna = store.ensureAnnotator('Anna').id;
    const other = fixture.addSlide('case-2.svs');
    const events: AnnotationChangeEvent[] = [];
    const committedCounts: number[] = [];
    const unsubscribe = store.onChange((event) => {
      events.push(event);
      committedCounts.push(fixture.count('changes'));
    });

    const id = store.createAnnotation(slideId, { shape: 'point', x: 1, y: 1 }, anna, MITOTIC_FIGURE).id;
    const imported = store.importAnnotations(anna, [
      { slideId, geometry: { shape: 'point', x: 2, y: 2 } },
      { slideId: other, geometry: { shape: 'point', x: 3, y: 3 } },
    ]).annotationIds;
    store.undo(anna);
    store.redo(anna);
    store.setVote(id, anna, IMPOSTER);

    expect(events.map(({ origin, slideId: slide, annotationIds }) => ({ origin, slide, annotationIds }))).toEqual([
      { origin: 'local', slide: slideId, annotationIds: [id] },
      { origin: 'import', slide: slideId, annotationIds: [imported[0]] },
      { origin: 'import', slide: other, annotationIds: [imported[1]] },
      { origin: 'undo', slide: slideId, annotationIds: [imported[0]] },
      { origin: 'undo', slide: other, annotationIds: [imported[1]] },
      { origin: 'redo', slide: slideId, annotationIds: [imported[0]] },
      { origin: 'redo', slide: other, annotationIds: [imported[1]] },
      { origin: 'local', slide: slideId, annotationIds: [id] },
    ]);
    expect(committedCounts).toEqual([1, 2, 2, 3, 3, 4, 4, 5]);

    unsubscribe();
    store.clearVote(id, anna);
    expect(events).toHaveLength(8);
  });

  it('a failing listener neither undoes the change nor silences the others', () => {
    const errors: unknown[] = [];
    fixture.store = new AnnotationStore(fixture.project.db, { onListenerError: (error) => errors.push(error) });
    const { store, slideId } = fixture;
    const anna = store.ensureAnnotator('Anna').id;
    let heard = 0;
    store.onChange(() => {
      throw new Error('renderer went away');
    });
    store.onChange(() => heard++);
    const id = store.createAnnotation(slideId, { shape: 'point', x: 1, y: 1 }, anna).id;
    expect(heard).toBe(1);
    expect(errors).toHaveLength(1);
    expect(store.get(id, { viewerId: anna })).not.toBeNull();
  });
});
