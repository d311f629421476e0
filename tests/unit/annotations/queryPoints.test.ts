import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Annotation, ViewerOptions } from '../../../src-main/services/annotations/types';
import { AnnotationProject, IMPOSTER, MITOTIC_FIGURE } from './annotationProject';

/** The viewer's colour rule (labelling.colourOf), written out for full annotations: own vote, else agreed class, -1 disagreement, 0 none. */
function expectedKey(annotation: Annotation, viewerId: number): number {
  const own = annotation.votes.find((vote) => vote.annotatorId === viewerId);
  if (own) return own.classId;
  if (annotation.consensus?.status === 'agreed') return annotation.consensus.classId;
  if (annotation.consensus?.status === 'disagreement') return -1;
  return 0;
}

const byNumber = (a: number | undefined, b: number | undefined) => a! - b!;

describe('queryPoints (the compact viewport answer)', () => {
  let fixture: AnnotationProject;
  let anna: number;
  let ben: number;
  let detector: number;
  const slideRect = { x: 0, y: 0, width: 5000, height: 5000 };

  beforeEach(() => {
    fixture = new AnnotationProject();
    anna = fixture.store.ensureAnnotator('Anna').id;
    ben = fixture.store.ensureAnnotator('Ben').id;
    detector = fixture.store.ensureAnnotator('detector', 'model').id;
  });
  afterEach(() => fixture.dispose());

  it('gives each point the colour key of its votes as the viewer sees them', () => {
    const { store, slideId } = fixture;
    const annasOwn = store.createAnnotation(slideId, { shape: 'point', x: 10, y: 10 }, anna, IMPOSTER).id;
    const agreed = store.createAnnotation(slideId, { shape: 'point', x: 20, y: 20 }, ben, MITOTIC_FIGURE).id;
    const disputed = store.createAnnotation(slideId, { shape: 'point', x: 30, y: 30 }, ben, MITOTIC_FIGURE).id;
    store.setVote(disputed, detector, IMPOSTER);
    store.importAnnotations(anna, [{ slideId, geometry: { shape: 'point', x: 40, y: 40 }, votes: [{ annotatorId: ben, classId: MITOTIC_FIGURE }, { annotatorId: store.ensureAnnotator('Cleo').id, classId: IMPOSTER }] }]);
    const split = store.queryRect(slideId, { x: 39, y: 39, width: 2, height: 2 }, { viewerId: anna })[0]!.id;
    const unlabelled = store.createAnnotation(slideId, { shape: 'point', x: 50, y: 50 }, ben).id;
    // Anna's own vote wins over a disagreement.
    const annaInDispute = store.createAnnotation(slideId, { shape: 'point', x: 60, y: 60 }, ben, MITOTIC_FIGURE).id;
    store.setVote(annaInDispute, anna, IMPOSTER);

    const keyOf = (cells: { ids: number[]; keys: number[] }, id: number) => cells.keys[cells.ids.indexOf(id)];
    const open = store.queryPoints(slideId, slideRect, { viewerId: anna });
    expect(keyOf(open, annasOwn)).toBe(IMPOSTER);
    expect(keyOf(open, agreed)).toBe(MITOTIC_FIGURE);
    // A model's vote never decides: Ben's class is agreed.
    expect(keyOf(open, disputed)).toBe(MITOTIC_FIGURE);
    expect(keyOf(open, split)).toBe(-1);
    expect(keyOf(open, unlabelled)).toBe(0);
    expect(keyOf(open, annaInDispute)).toBe(IMPOSTER);
    // Disagreements are flagged whatever the viewer voted (the "N disagreements" readout).
    expect(open.disputed.map((index) => open.ids[index]).sort((a, b) => a! - b!)).toEqual([split, annaInDispute]);
    expect(open.xs[open.ids.indexOf(agreed)]).toBe(20);
    expect(open.ys[open.ids.indexOf(agreed)]).toBe(20);

    // Blind: only Anna's own cells, never a disagreement.
    const blind = store.queryPoints(slideId, slideRect, { viewerId: anna, blind: true });
    expect([...blind.ids].sort((a, b) => a - b)).toEqual([annasOwn, split, annaInDispute].sort((a, b) => a - b));
    expect(keyOf(blind, split)).toBe(0);
    expect(blind.keys).not.toContain(-1);
    expect(blind.disputed).toEqual([]);
    const candidates = store.queryPoints(slideId, slideRect, { viewerId: anna, blind: true, includeUnlabelledCandidates: true });
    expect(candidates.ids).toHaveLength(6);
    expect(keyOf(candidates, agreed)).toBe(0);
    expect(keyOf(candidates, annaInDispute)).toBe(IMPOSTER);
  });

  it('answers the same cells as queryRect, in every mode, with regions in full', () => {
    const { store, slideId } = fixture;
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const people = [anna, ben, detector];
    const imported = Array.from({ length: 400 }, () => ({
      slideId,
      geometry: { shape: 'point' as const, x: Math.round(random() * 4000 * 10) / 10, y: Math.round(random() * 4000) },
      createdBy: people[Math.floor(random() * 3)]!,
      votes: people.filter(() => random() < 0.4).map((annotatorId) => ({ annotatorId, classId: random() < 0.5 ? MITOTIC_FIGURE : IMPOSTER })),
    }));
    store.importAnnotations(anna, imported);
    store.createAnnotation(slideId, { shape: 'rectangle', x: 100, y: 100, width: 300, height: 200 }, ben, MITOTIC_FIGURE);
    store.createAnnotation(slideId, { shape: 'circle', x: 3900, y: 3900, radius: 50 }, anna);
    const gone = store.queryRect(slideId, slideRect, { viewerId: anna })[5]!.id;
    store.delete(gone, anna);

    const rect = { x: 250, y: 0, width: 3000, height: 2500 };
    const modes: ViewerOptions[] = [
      { viewerId: anna },
      { viewerId: ben },
      { viewerId: anna, blind: true },
      { viewerId: ben, blind: true, includeUnlabelledCandidates: true },
    ];
    for (const viewer of modes) {
      const full = store.queryRect(slideId, rect, viewer);
      const compact = store.queryPoints(slideId, rect, viewer);
      const points = full.filter((annotation) => annotation.geometry.shape === 'point');
      const expected = points.map((annotation) => [annotation.id, annotation.centre.x, annotation.centre.y, expectedKey(annotation, viewer.viewerId)]);
      const got = compact.ids.map((id, i) => [id, compact.xs[i], compact.ys[i], compact.keys[i]]);
      const byId = (a: (number | undefined)[], b: (number | undefined)[]) => a[0]! - b[0]!;
      expect(got.sort(byId)).toEqual(expected.sort(byId));
      expect(got.length).toBeGreaterThan(0);
      const disputed = points.filter((annotation) => annotation.consensus?.status === 'disagreement').map((annotation) => annotation.id);
      expect(compact.disputed.map((index) => compact.ids[index]).sort(byNumber)).toEqual(disputed.sort(byNumber));
      expect(compact.ids).not.toContain(gone);
      expect(compact.regions).toEqual(full.filter((annotation) => annotation.geometry.shape !== 'point'));
    }
    expect(store.queryPoints(slideId, rect, { viewerId: ben }).regions).toHaveLength(1);
  });

  it('rejects a bad rectangle, an unknown slide or viewer, and changes nothing', () => {
    const { store, slideId } = fixture;
    store.createAnnotation(slideId, { shape: 'point', x: 10, y: 10 }, anna, IMPOSTER);
    expect(() => store.queryPoints(slideId, { x: 0, y: 0, width: -1, height: 5 }, { viewerId: anna })).toThrow(/width/);
    expect(() => store.queryPoints(9999, slideRect, { viewerId: anna })).toThrow(/slide/);
    expect(() => store.queryPoints(slideId, slideRect, { viewerId: 9999 })).toThrow(/viewer/);
    expect(store.queryPoints(slideId, slideRect, { viewerId: anna }).ids).toHaveLength(1);
  });
});
