import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnnotationStore } from '../../../src-main/services/annotations/AnnotationStore';
import { labelsPerHour } from '../../../src-main/services/annotations/ChangeLog';
import { AnnotationProject, IMPOSTER, MITOTIC_FIGURE } from './annotationProject';

describe('history', () => {
  let fixture: AnnotationProject;
  let clock: Date;
  beforeEach(() => {
    clock = new Date('2026-03-02T09:00:00.000Z');
    fixture = new AnnotationProject({ now: () => clock });
  });
  afterEach(() => fixture.dispose());
  const tick = (minutes: number) => {
    clock = new Date(clock.getTime() + minutes * 60_000);
  };

  it('tells who did what and when, with the full state before and after', () => {
    const { store, slideId } = fixture;
    const anna = store.ensureAnnotator('Anna').id;
    const ben = store.ensureAnnotator('Ben').id;
    const id = store.createAnnotation(slideId, { shape: 'point', x: 10, y: 20 }, anna, MITOTIC_FIGURE).id;
    tick(5);
    store.setVote(id, ben, IMPOSTER);
    tick(5);
    store.move(id, anna, { shape: 'point', x: 11, y: 21 });
    tick(5);
    store.undo(anna);

    const history = store.history(id);
    expect(history.map((entry) => [entry.actor.name, entry.kind, entry.description, entry.at])).toEqual([
      ['Anna', 'edit', 'create point as mitotic figure', '2026-03-02T09:00:00.000Z'],
      ['Ben', 'edit', 'vote non-mitotic figure (imposter)', '2026-03-02T09:05:00.000Z'],
      ['Anna', 'edit', 'move point', '2026-03-02T09:10:00.000Z'],
      ['Anna', 'undo', 'undo: move point', '2026-03-02T09:15:00.000Z'],
    ]);
    expect(history[0]!.before).toBeNull();
    expect(history[0]!.after).toEqual({
      geometry: { shape: 'point', x: 10, y: 20 },
      deleted: false,
      votes: [{ annotatorId: anna, classId: MITOTIC_FIGURE }],
    });
    expect(history[1]!.after.votes).toEqual([
      { annotatorId: anna, classId: MITOTIC_FIGURE },
      { annotatorId: ben, classId: IMPOSTER },
    ]);
    expect(history[2]!.after.geometry).toEqual({ shape: 'point', x: 11, y: 21 });
    expect(history[3]!.targetChangeId).toBe(history[2]!.changeId);
    expect(history[3]!.after).toEqual(history[2]!.before);
  });

  it('keeps the label log of each person, for labels per hour', () => {
    const { store, slideId } = fixture;
    const anna = store.ensureAnnotator('Anna').id;
    const ben = store.ensureAnnotator('Ben').id;
    const first = store.createAnnotation(slideId, { shape: 'point', x: 1, y: 1 }, anna, MITOTIC_FIGURE).id;
    tick(20);
    store.createAnnotation(slideId, { shape: 'point', x: 2, y: 2 }, anna, IMPOSTER);
    store.createAnnotation(slideId, { shape: 'point', x: 3, y: 3 }, anna);
    tick(50);
    store.setVote(first, anna, IMPOSTER);
    store.setVote(first, ben, IMPOSTER);
    store.move(first, anna, { shape: 'point', x: 5, y: 5 });
    tick(1);
    store.clearVote(first, anna);

    const log = store.labelLog(anna);
    expect(log.map(({ classId, previousClassId, at }) => [previousClassId, classId, at])).toEqual([
      [null, MITOTIC_FIGURE, '2026-03-02T09:00:00.000Z'],
      [null, IMPOSTER, '2026-03-02T09:20:00.000Z'],
      [MITOTIC_FIGURE, IMPOSTER, '2026-03-02T10:10:00.000Z'],
      [IMPOSTER, null, '2026-03-02T10:11:00.000Z'],
    ]);
    expect(log.every((entry) => entry.slideId === slideId)).toBe(true);
    expect(labelsPerHour(log)).toEqual([
      { hour: '2026-03-02T09', labels: 2 },
      { hour: '2026-03-02T10', labels: 1 },
    ]);
    expect(store.labelLog(anna, { from: '2026-03-02T10:00:00.000Z' })).toHaveLength(2);
    expect(store.labelLog(ben)).toHaveLength(1);
  });

  it('names an annotation that never existed', () => {
    expect(() => fixture.store.history(4242)).toThrow(/annotationId: no annotation 4242/);
  });
});

describe('the history is append-only', () => {
  let fixture: AnnotationProject;
  beforeEach(() => {
    fixture = new AnnotationProject();
    const anna = fixture.store.ensureAnnotator('Anna').id;
    const id = fixture.store.createAnnotation(fixture.slideId, { shape: 'point', x: 1, y: 1 }, anna, MITOTIC_FIGURE).id;
    fixture.store.setVote(id, anna, IMPOSTER);
  });
  afterEach(() => fixture.dispose());

  it.each([
    ['UPDATE changes SET description = ?', ['forged']],
    ['DELETE FROM changes WHERE id = ?', [2]],
    ['UPDATE change_items SET after_json = ?', ['{}']],
    ['DELETE FROM change_items WHERE change_id = ?', [1]],
  ])('%s is refused by a trigger', (sql, parameters) => {
    const before = fixture.project.db.prepare('SELECT * FROM changes JOIN change_items ON change_id = id').all();
    expect(() => fixture.project.db.prepare(sql).run(...parameters)).toThrow(/append-only/);
    expect(fixture.project.db.prepare('SELECT * FROM changes JOIN change_items ON change_id = id').all()).toEqual(before);
  });

  it('the store itself only ever inserts into it', () => {
    const { store, slideId } = fixture;
    const anna = store.ensureAnnotator('Anna').id;
    const snapshot = () => fixture.project.db.prepare('SELECT * FROM changes JOIN change_items ON change_id = id ORDER BY id').all();
    const before = snapshot();
    const id = store.createAnnotation(slideId, { shape: 'circle', x: 5, y: 5, radius: 3 }, anna).id;
    store.delete(id, anna);
    store.undo(anna);
    store.redo(anna);
    new AnnotationStore(fixture.project.db).undo(anna);
    const after = snapshot();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after).toHaveLength(before.length + 5);
  });
});
