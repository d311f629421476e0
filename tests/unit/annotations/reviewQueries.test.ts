import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReviewQueries, type CellFilter } from '../../../src-main/services/annotations/ReviewQueries';
import type { ViewerOptions } from '../../../src-main/services/annotations/types';
import { AnnotationProject, IMPOSTER, MITOTIC_FIGURE } from './annotationProject';

const WHOLE_SLIDE = { x: 0, y: 0, width: 100_000, height: 80_000 };

describe('review: the cell gallery', () => {
  let fixture: AnnotationProject;
  let review: ReviewQueries;
  let anna: number;
  let ben: number;
  let model: number;
  let slide1: number;
  let slide2: number;
  /** Cells by name; see beforeEach for their votes. */
  const c = { agreedMitosis: 0, imposterOnSlide2: 0, disputed: 0, bensEmpty: 0, modelDisagrees: 0, deleted: 0 };

  beforeEach(() => {
    fixture = new AnnotationProject();
    const { store } = fixture;
    review = new ReviewQueries(fixture.project.db);
    slide1 = fixture.slideId;
    slide2 = fixture.addSlide('case-2.svs');
    anna = store.ensureAnnotator('Anna').id;
    ben = store.ensureAnnotator('Ben').id;
    model = store.ensureAnnotator('detector v1', 'model').id;
    const point = (x: number) => ({ shape: 'point' as const, x, y: 50 });
    // Created across slides out of order: the gallery orders by slide, then id.
    c.agreedMitosis = store.createAnnotation(slide1, point(10), anna, MITOTIC_FIGURE).id;
    store.setVote(c.agreedMitosis, ben, MITOTIC_FIGURE);
    c.imposterOnSlide2 = store.createAnnotation(slide2, point(20), anna, IMPOSTER).id;
    c.disputed = store.createAnnotation(slide1, point(30), anna, MITOTIC_FIGURE).id;
    store.setVote(c.disputed, ben, IMPOSTER);
    c.bensEmpty = store.createAnnotation(slide1, point(40), ben).id;
    c.modelDisagrees = store.createAnnotation(slide2, point(50), ben, IMPOSTER).id;
    store.setVote(c.modelDisagrees, model, MITOTIC_FIGURE);
    c.deleted = store.createAnnotation(slide1, point(60), anna, MITOTIC_FIGURE).id;
    store.delete(c.deleted, anna);
  });
  afterEach(() => fixture.dispose());

  const open = (): ViewerOptions => ({ viewerId: anna });
  const ids = (filter: CellFilter, viewer: ViewerOptions = open(), page = { limit: 100, offset: 0 }) =>
    review.cells(filter, viewer, page).cells.map((cell) => cell.id);

  it('lists live cells of every slide, by slide then id, with a total for paging', () => {
    const all = [c.agreedMitosis, c.disputed, c.bensEmpty, c.imposterOnSlide2, c.modelDisagrees];
    expect(ids({})).toEqual(all);
    const pages = [0, 2, 4].map((offset) => review.cells({}, open(), { limit: 2, offset }));
    expect(pages.map((page) => page.total)).toEqual([5, 5, 5]);
    expect(pages.flatMap((page) => page.cells.map((cell) => cell.id))).toEqual(all);
    expect(review.cells({}, open(), { limit: 2, offset: 10 })).toEqual({ total: 5, cells: [] });
  });

  it('filters by slide, consensus class, an annotator’s class, annotator, disagreement and “not labelled by me”', () => {
    expect(ids({ slideIds: [slide2] })).toEqual([c.imposterOnSlide2, c.modelDisagrees]);
    // A model's vote never makes a disagreement, nor breaks an agreement.
    expect(ids({ classId: MITOTIC_FIGURE })).toEqual([c.agreedMitosis]);
    expect(ids({ classId: IMPOSTER })).toEqual([c.imposterOnSlide2, c.modelDisagrees]);
    expect(ids({ classId: IMPOSTER, classAnnotatorId: ben })).toEqual([c.disputed, c.modelDisagrees]);
    expect(ids({ classId: MITOTIC_FIGURE, classAnnotatorId: model })).toEqual([c.modelDisagrees]);
    expect(ids({ annotatorId: anna })).toEqual([c.agreedMitosis, c.disputed, c.imposterOnSlide2]);
    expect(ids({ annotatorId: model })).toEqual([c.modelDisagrees]);
    expect(ids({ disagreementOnly: true })).toEqual([c.disputed]);
    expect(ids({ unlabelledByMe: true })).toEqual([c.bensEmpty, c.modelDisagrees]);
    expect(ids({ unlabelledByMe: true }, { viewerId: ben })).toEqual([c.bensEmpty, c.imposterOnSlide2]);
    expect(ids({ slideIds: [slide1], annotatorId: ben })).toEqual([c.agreedMitosis, c.disputed]);
    expect(ids({ slideIds: [slide1, slide2], classId: IMPOSTER, disagreementOnly: true })).toEqual([]);
    expect(review.cells({ annotatorId: anna }, open(), { limit: 1, offset: 1 })).toMatchObject({ total: 3, cells: [{ id: c.disputed }] });
  });

  it('shows every vote and the consensus to an open viewer', () => {
    const [disputed] = review.cells({ disagreementOnly: true }, open(), { limit: 10, offset: 0 }).cells;
    expect(disputed!.votes).toEqual([
      { annotatorId: anna, classId: MITOTIC_FIGURE, annotatorKind: 'person' },
      { annotatorId: ben, classId: IMPOSTER, annotatorKind: 'person' },
    ]);
    expect(disputed!.consensus).toEqual({ status: 'disagreement', classIds: [MITOTIC_FIGURE, IMPOSTER] });
    expect(disputed!.centre).toEqual({ x: 30, y: 50 });
    expect(disputed!.slideId).toBe(slide1);
  });

  it('shows a blind viewer exactly what the viewport query shows them: own votes, no consensus', () => {
    const viewers: ViewerOptions[] = [
      { viewerId: anna, blind: true },
      { viewerId: ben, blind: true },
      { viewerId: ben, blind: true, includeUnlabelledCandidates: true },
      { viewerId: anna },
    ];
    for (const viewer of viewers) {
      for (const slideId of [slide1, slide2]) {
        const fromStore = fixture.store.queryRect(slideId, WHOLE_SLIDE, viewer).sort((a, b) => a.id - b.id);
        expect(review.cells({ slideIds: [slideId] }, viewer, { limit: 100, offset: 0 }).cells).toEqual(fromStore);
      }
    }
    const blindBen = { viewerId: ben, blind: true };
    const seen = review.cells({}, blindBen, { limit: 100, offset: 0 });
    expect(seen.total).toBe(4);
    expect(seen.cells.map((cell) => cell.id)).toEqual([c.agreedMitosis, c.disputed, c.bensEmpty, c.modelDisagrees]);
    expect(seen.cells.every((cell) => cell.consensus === null && cell.votes.every((vote) => vote.annotatorId === ben))).toBe(true);
    // A blind viewer's class filter is their own vote, never the others'.
    expect(ids({ classId: IMPOSTER }, blindBen)).toEqual([c.disputed, c.modelDisagrees]);
    expect(ids({ classId: MITOTIC_FIGURE }, blindBen)).toEqual([c.agreedMitosis]);
    expect(ids({ unlabelledByMe: true }, blindBen)).toEqual([c.bensEmpty]);
    expect(ids({ annotatorId: ben }, blindBen)).toEqual([c.agreedMitosis, c.disputed, c.modelDisagrees]);
    expect(review.cells({ unlabelledByMe: true }, { ...blindBen, includeUnlabelledCandidates: true }, { limit: 10, offset: 0 }).total).toBe(2);
  });

  it('refuses, in blind mode, every filter that would reveal the others’ votes', () => {
    const blind = { viewerId: anna, blind: true };
    const page = { limit: 10, offset: 0 };
    expect(() => review.cells({ disagreementOnly: true }, blind, page)).toThrow(/filter.disagreementOnly: blind mode shows only your own votes/);
    expect(() => review.cells({ annotatorId: ben }, blind, page)).toThrow(/filter.annotatorId: blind mode/);
    expect(() => review.cells({ classId: IMPOSTER, classAnnotatorId: ben }, blind, page)).toThrow(/filter.classAnnotatorId: blind mode/);
    expect(() => review.disagreements(blind, page)).toThrow(/blind: reviewing disagreements shows every annotator's vote/);
  });

  it('lists disagreements with every vote and who cast it', () => {
    fixture.store.setVote(c.agreedMitosis, model, IMPOSTER);
    const third = fixture.store.ensureAnnotator('Chiyo').id;
    fixture.store.setVote(c.imposterOnSlide2, third, MITOTIC_FIGURE);
    const found = review.disagreements({ viewerId: ben }, { limit: 10, offset: 0 });
    expect(found.total).toBe(2);
    expect(found.cells.map((cell) => cell.id)).toEqual([c.disputed, c.imposterOnSlide2]);
    expect(found.cells[1]!.votes.map((vote) => [vote.annotatorId, vote.classId])).toEqual([
      [anna, IMPOSTER],
      [third, MITOTIC_FIGURE],
    ]);
    expect(found.annotators.map((annotator) => annotator.name)).toEqual(['Anna', 'Ben', 'Chiyo']);
    expect(review.disagreements({ viewerId: ben }, { limit: 10, offset: 0 }, [slide2]).cells.map((cell) => cell.id)).toEqual([c.imposterOnSlide2]);
  });

  it('names the bad argument and changes nothing', () => {
    const page = { limit: 10, offset: 0 };
    expect(() => review.cells({ classId: 99 }, open(), page)).toThrow(/filter.classId: no class 99/);
    expect(() => review.cells({ annotatorId: 99 }, open(), page)).toThrow(/filter.annotatorId: no annotator 99/);
    expect(() => review.cells({}, { viewerId: 99 }, page)).toThrow(/viewer.viewerId: no annotator 99/);
    expect(() => review.cells({ classAnnotatorId: ben }, open(), page)).toThrow(/filter.classAnnotatorId: needs filter.classId/);
    expect(() => review.cells({}, open(), { limit: 0, offset: 0 })).toThrow(/limit: must be a whole number from 1 to 5000/);
    expect(() => review.cells({}, open(), { limit: 10, offset: -1 })).toThrow(/offset/);
    expect(() => review.labelLog({ from: 'yesterday' })).toThrow(/from: must be an ISO date/);
    expect(() => review.labelLog({ utcOffsetMinutes: 5000 })).toThrow(/utcOffsetMinutes/);
  });
});

describe('review: the label log and labels per hour', () => {
  let fixture: AnnotationProject;
  let review: ReviewQueries;
  let clock: Date;
  beforeEach(() => {
    clock = new Date('2026-03-02T09:00:00.000Z');
    fixture = new AnnotationProject({ now: () => clock });
    review = new ReviewQueries(fixture.project.db);
  });
  afterEach(() => fixture.dispose());
  const at = (time: string) => {
    clock = new Date(`2026-03-02T${time}:00.000Z`);
  };

  it('logs every vote change with who, when, where and the class before and after; counts label events per clock hour', () => {
    const { store, slideId } = fixture;
    const anna = store.ensureAnnotator('Anna').id;
    const ben = store.ensureAnnotator('Ben').id;
    const point = (x: number) => ({ shape: 'point' as const, x, y: 5 });
    // Anna's label events: 09:00, 09:01, 09:03 | break | 09:20, 09:22 | break | 10:05, 10:06 (a relabel).
    const first = store.createAnnotation(slideId, point(1), anna, MITOTIC_FIGURE).id;
    at('09:01');
    store.createAnnotation(slideId, point(2), anna, MITOTIC_FIGURE);
    at('09:03');
    store.createAnnotation(slideId, point(3), anna, IMPOSTER);
    at('09:20');
    store.createAnnotation(slideId, point(4), anna, IMPOSTER);
    at('09:22');
    const fifth = store.createAnnotation(slideId, point(5), anna, MITOTIC_FIGURE).id;
    at('09:30');
    store.setVote(first, ben, IMPOSTER);
    store.createAnnotation(slideId, point(6), anna); // no vote: not in the log
    at('10:05');
    store.setVote(fifth, anna, IMPOSTER); // relabel: an event of hour 10... is 10:05
    store.move(fifth, anna, point(7)); // no vote change: not in the log
    at('10:06');
    store.setVote(first, anna, IMPOSTER);
    at('10:07');
    store.clearVote(first, anna); // in the log, not a label event
    at('10:08');
    store.undo(anna); // the vote comes back by undo: in the log, not a label event
    at('10:09');
    // Anna imports Ben's and her own votes: in the log (imported), not labelling work.
    store.importAnnotations(
      anna,
      [{ slideId, geometry: point(8), votes: [{ annotatorId: anna, classId: MITOTIC_FIGURE }, { annotatorId: ben, classId: MITOTIC_FIGURE }] }],
      'test.csv',
    );

    const log = review.labelLog();
    expect(log.total).toBe(12);
    expect(log.entries[0]).toMatchObject({
      at: '2026-03-02T10:09:00.000Z',
      kind: 'edit',
      action: 'label',
      imported: true,
      annotator: { id: ben, name: 'Ben' },
      actor: { id: anna, name: 'Anna' },
      slideId,
      classBefore: null,
      classAfter: MITOTIC_FIGURE,
    });
    expect(log.entries.slice(2, 6).map((entry) => [entry.at.slice(11, 16), entry.kind, entry.action, entry.classBefore, entry.classAfter])).toEqual([
      ['10:08', 'undo', 'label', null, IMPOSTER],
      ['10:07', 'edit', 'clear', IMPOSTER, null],
      ['10:06', 'edit', 'relabel', MITOTIC_FIGURE, IMPOSTER],
      ['10:05', 'edit', 'relabel', MITOTIC_FIGURE, IMPOSTER],
    ]);
    expect(log.entries[6]).toMatchObject({ at: '2026-03-02T09:30:00.000Z', annotator: { name: 'Ben' }, annotationId: first, action: 'label' });

    expect(log.perHour).toEqual([
      { annotatorId: anna, hour: '2026-03-02T09', labels: 5 },
      { annotatorId: ben, hour: '2026-03-02T09', labels: 1 },
      { annotatorId: anna, hour: '2026-03-02T10', labels: 2 },
    ]);
    // Active gaps (≤ 5 min): 1 + 2 + 2 + 1 minutes = 6 min for 4 labels that followed another: 40 per active hour.
    expect(log.rates).toEqual([
      {
        annotatorId: anna,
        name: 'Anna',
        labels: 7,
        activeSeconds: 360,
        labelsPerActiveHour: 40,
        firstAt: '2026-03-02T09:00:00.000Z',
        lastAt: '2026-03-02T10:06:00.000Z',
      },
      {
        annotatorId: ben,
        name: 'Ben',
        labels: 1,
        activeSeconds: 0,
        labelsPerActiveHour: null,
        firstAt: '2026-03-02T09:30:00.000Z',
        lastAt: '2026-03-02T09:30:00.000Z',
      },
    ]);

    // Clock hours in the caller's zone: +45 min moves 09:20 and 09:22 into hour 10.
    expect(review.labelLog({ annotatorId: anna, utcOffsetMinutes: 45 }).perHour).toEqual([
      { annotatorId: anna, hour: '2026-03-02T09', labels: 3 },
      { annotatorId: anna, hour: '2026-03-02T10', labels: 4 },
    ]);
    expect(review.labelLog({ annotatorId: anna, utcOffsetMinutes: 540 }).perHour.map((hour) => hour.hour)).toEqual(['2026-03-02T18', '2026-03-02T19']);

    const bens = review.labelLog({ annotatorId: ben });
    expect(bens.entries.map((entry) => [entry.at.slice(11, 16), entry.imported])).toEqual([
      ['10:09', true],
      ['09:30', false],
    ]);
    // The range: from included, to excluded; paging of the entries, counts over the whole range.
    const morning = review.labelLog({ annotatorId: anna, from: '2026-03-02T09:01:00Z', to: '2026-03-02T09:22:00Z', limit: 2 });
    expect(morning.total).toBe(3);
    expect(morning.entries.map((entry) => entry.at.slice(11, 16))).toEqual(['09:20', '09:03']);
    expect(morning.perHour).toEqual([{ annotatorId: anna, hour: '2026-03-02T09', labels: 3 }]);
    expect(review.labelLog({ annotatorId: anna, limit: 2, offset: 2 }).entries.map((entry) => entry.at.slice(11, 16))).toEqual(['10:07', '10:06']);
  });
});
