import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consensusOf } from '../../../src-main/services/annotations/consensus';
import { AnnotationProject, IMPOSTER, MITOTIC_FIGURE } from './annotationProject';

describe('consensusOf', () => {
  it('is unlabelled without votes', () => {
    expect(consensusOf([])).toEqual({ status: 'unlabelled' });
  });

  it('agrees when every person chose the same class', () => {
    expect(consensusOf([{ classId: 1, annotatorKind: 'person' }])).toEqual({ status: 'agreed', classId: 1 });
    expect(
      consensusOf([
        { classId: 2, annotatorKind: 'person' },
        { classId: 2, annotatorKind: 'person' },
      ]),
    ).toEqual({ status: 'agreed', classId: 2 });
  });

  it('is a disagreement when people differ, listing the classes', () => {
    expect(
      consensusOf([
        { classId: 3, annotatorKind: 'person' },
        { classId: 1, annotatorKind: 'person' },
        { classId: 3, annotatorKind: 'person' },
      ]),
    ).toEqual({ status: 'disagreement', classIds: [1, 3] });
  });

  it('never counts a model: alone it leaves the cell unlabelled, against people it changes nothing', () => {
    expect(consensusOf([{ classId: 1, annotatorKind: 'model' }])).toEqual({ status: 'unlabelled' });
    expect(
      consensusOf([
        { classId: 1, annotatorKind: 'person' },
        { classId: 2, annotatorKind: 'model' },
      ]),
    ).toEqual({ status: 'agreed', classId: 1 });
  });
});

describe('consensus through the store', () => {
  let fixture: AnnotationProject;
  beforeEach(() => {
    fixture = new AnnotationProject();
  });
  afterEach(() => fixture.dispose());

  it('follows the votes as they are cast, changed and cleared; model votes are shown but do not count', () => {
    const { store, slideId } = fixture;
    const anna = store.ensureAnnotator('Anna').id;
    const ben = store.ensureAnnotator('Ben').id;
    const detector = store.ensureAnnotator('UNI linear probe', 'model').id;
    const cell = store.createAnnotation(slideId, { shape: 'point', x: 500, y: 600 }, anna).id;
    const seen = () => store.get(cell, { viewerId: anna })!;

    expect(seen().consensus).toEqual({ status: 'unlabelled' });
    store.setVote(cell, detector, MITOTIC_FIGURE);
    expect(seen().consensus).toEqual({ status: 'unlabelled' });
    expect(seen().votes).toEqual([{ annotatorId: detector, classId: MITOTIC_FIGURE, annotatorKind: 'model' }]);

    store.setVote(cell, anna, IMPOSTER);
    expect(seen().consensus).toEqual({ status: 'agreed', classId: IMPOSTER });
    store.setVote(cell, ben, MITOTIC_FIGURE);
    expect(seen().consensus).toEqual({ status: 'disagreement', classIds: [MITOTIC_FIGURE, IMPOSTER] });
    store.setVote(cell, anna, MITOTIC_FIGURE);
    expect(seen().consensus).toEqual({ status: 'agreed', classId: MITOTIC_FIGURE });
    store.clearVote(cell, anna);
    store.clearVote(cell, ben);
    expect(seen().consensus).toEqual({ status: 'unlabelled' });
    expect(seen().votes.map((vote) => vote.annotatorId)).toEqual([detector]);
  });

  it('reports it per cell in a viewport query', () => {
    const { store, slideId } = fixture;
    const anna = store.ensureAnnotator('Anna').id;
    const ben = store.ensureAnnotator('Ben').id;
    const agreed = store.createAnnotation(slideId, { shape: 'point', x: 10, y: 10 }, anna, MITOTIC_FIGURE).id;
    store.setVote(agreed, ben, MITOTIC_FIGURE);
    const disputed = store.createAnnotation(slideId, { shape: 'point', x: 20, y: 20 }, anna, MITOTIC_FIGURE).id;
    store.setVote(disputed, ben, IMPOSTER);
    const bare = store.createAnnotation(slideId, { shape: 'point', x: 30, y: 30 }, ben).id;

    const found = store.queryRect(slideId, { x: 0, y: 0, width: 100, height: 100 }, { viewerId: anna });
    const byId = new Map(found.map((annotation) => [annotation.id, annotation.consensus]));
    expect(byId.get(agreed)).toEqual({ status: 'agreed', classId: MITOTIC_FIGURE });
    expect(byId.get(disputed)).toEqual({ status: 'disagreement', classIds: [MITOTIC_FIGURE, IMPOSTER] });
    expect(byId.get(bare)).toEqual({ status: 'unlabelled' });
  });
});
