import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnnotationProject, IMPOSTER, MITOTIC_FIGURE } from './annotationProject';

describe('blind mode', () => {
  let fixture: AnnotationProject;
  let anna: number;
  let ben: number;
  let detector: number;
  let annasCell: number;
  let bensCell: number;
  let sharedCell: number;
  let modelCandidate: number;
  let annasRegion: number;
  const viewport = { x: 0, y: 0, width: 2000, height: 1200 };

  beforeEach(() => {
    fixture = new AnnotationProject();
    const { store, slideId } = fixture;
    anna = store.ensureAnnotator('Anna').id;
    ben = store.ensureAnnotator('Ben').id;
    detector = store.ensureAnnotator('detector', 'model').id;
    annasCell = store.createAnnotation(slideId, { shape: 'point', x: 100, y: 100 }, anna, MITOTIC_FIGURE).id;
    bensCell = store.createAnnotation(slideId, { shape: 'point', x: 200, y: 200 }, ben, IMPOSTER).id;
    sharedCell = store.createAnnotation(slideId, { shape: 'point', x: 300, y: 300 }, ben, MITOTIC_FIGURE).id;
    store.setVote(sharedCell, anna, IMPOSTER);
    store.setVote(sharedCell, detector, MITOTIC_FIGURE);
    modelCandidate = store.createAnnotation(slideId, { shape: 'point', x: 400, y: 400 }, detector, MITOTIC_FIGURE).id;
    annasRegion = store.createAnnotation(slideId, { shape: 'rectangle', x: 0, y: 0, width: 1000, height: 1000 }, anna).id;
  });
  afterEach(() => fixture.dispose());

  const idsOf = (annotations: { id: number }[]) => annotations.map((annotation) => annotation.id).sort((a, b) => a - b);

  it('open mode shows every annotation with every vote and the consensus', () => {
    const found = fixture.store.queryRect(fixture.slideId, viewport, { viewerId: anna });
    expect(idsOf(found)).toEqual([annasCell, bensCell, sharedCell, modelCandidate, annasRegion]);
    const shared = found.find((annotation) => annotation.id === sharedCell)!;
    expect(shared.votes.map((vote) => vote.annotatorId)).toEqual([anna, ben, detector]);
    expect(shared.consensus).toEqual({ status: 'disagreement', classIds: [MITOTIC_FIGURE, IMPOSTER] });
  });

  it("shows only the viewer's own votes, no consensus, and hides what the viewer has not touched", () => {
    const found = fixture.store.queryRect(fixture.slideId, viewport, { viewerId: anna, blind: true });
    expect(idsOf(found)).toEqual([annasCell, sharedCell, annasRegion]);
    for (const annotation of found) {
      expect(annotation.consensus).toBeNull();
      expect(annotation.votes.every((vote) => vote.annotatorId === anna)).toBe(true);
    }
    expect(found.find((annotation) => annotation.id === sharedCell)!.votes).toEqual([
      { annotatorId: anna, classId: IMPOSTER, annotatorKind: 'person' },
    ]);
    expect(found.find((annotation) => annotation.id === annasRegion)!.votes).toEqual([]);
  });

  it("optionally shows others' cells as unlabelled candidates, without their class", () => {
    const found = fixture.store.queryRect(fixture.slideId, viewport, { viewerId: anna, blind: true, includeUnlabelledCandidates: true });
    expect(idsOf(found)).toEqual([annasCell, bensCell, sharedCell, modelCandidate, annasRegion]);
    for (const id of [bensCell, modelCandidate]) {
      const candidate = found.find((annotation) => annotation.id === id)!;
      expect(candidate.votes).toEqual([]);
      expect(candidate.consensus).toBeNull();
    }
  });

  it('works the same for the other viewer and for single annotations', () => {
    const found = fixture.store.queryRect(fixture.slideId, viewport, { viewerId: ben, blind: true });
    expect(idsOf(found)).toEqual([bensCell, sharedCell]);
    expect(fixture.store.get(annasCell, { viewerId: ben, blind: true })).toBeNull();
    expect(fixture.store.get(annasCell, { viewerId: ben, blind: true, includeUnlabelledCandidates: true })!.votes).toEqual([]);
    expect(fixture.store.listForSlide(fixture.slideId, { viewerId: ben, blind: true }).map((a) => a.id)).toEqual([bensCell, sharedCell]);
  });

  it('a second opinion given blind joins the consensus seen in open mode', () => {
    const { store, slideId } = fixture;
    const candidate = store
      .queryRect(slideId, viewport, { viewerId: ben, blind: true, includeUnlabelledCandidates: true })
      .find((annotation) => annotation.id === annasCell)!;
    store.setVote(candidate.id, ben, MITOTIC_FIGURE);
    expect(store.get(annasCell, { viewerId: ben, blind: true })!.votes).toEqual([
      { annotatorId: ben, classId: MITOTIC_FIGURE, annotatorKind: 'person' },
    ]);
    expect(store.get(annasCell, { viewerId: anna })!.consensus).toEqual({ status: 'agreed', classId: MITOTIC_FIGURE });
  });
});
