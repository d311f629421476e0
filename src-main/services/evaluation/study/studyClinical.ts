import type { Database } from 'better-sqlite3';
import { UserFacingError } from '../../../contract/errors';
import type { CountAgreement, StudyClinical, StudyPrediction } from '../../../contract/studiesSchemas';
import { findHotspot, STANDARD_AREA_MM2, standardAreaSizePx } from '../../annotations/mitoticCount';
import { blandAltman, intraclassCorrelation } from '../clinical';
import { StudyStore } from './StudyStore';

/*
 * The clinical view of one finished run: per test slide, the mitotic count the annotators give
 * against the one the model gives, and whether they agree well enough not to change a grade.
 *
 * Choices, so the numbers mean one thing:
 * - One run (one seed), not the mean over seeds: in a slide-grouped study each seed tests other
 *   slides, so a per-slide mean over seeds would mix counts of different numbers of runs.
 * - The annotated count is the test cells whose label is the study's positive class; the
 *   predicted count is those the model classes as positive (argmax, the stored prediction). Both
 *   count the same labelled candidate cells: the model classifies, it does not detect.
 * - Per area means what grading means: the count in the 2.37 mm² rectangle (4:3) holding the most
 *   positives (the hotspot), found by each reader on its own cells, over the whole slide
 *   (findHotspot, exact). No density over a tissue area is made up: without a tissue mask the area
 *   a count came from is unknown. A slide without µm per pixel has no hotspot count.
 */

type SlideCounts = StudyClinical['slides'][number];

interface SlideFacts {
  name: string;
  width: number;
  height: number;
  mppX: number | null;
  mppY: number | null;
}

/** Bland–Altman (predicted − annotated) and ICC(2,1) over slides; both need at least 2 slides. */
export function countAgreement(predicted: readonly number[], annotated: readonly number[]): CountAgreement {
  if (predicted.length < 2) return { slides: predicted.length, blandAltman: null, icc: null, unavailable: 'too-few-slides' };
  const { meanDifference, sdDifference, lowerLimit, upperLimit } = blandAltman(predicted, annotated);
  const icc = intraclassCorrelation(predicted.map((value, i) => [value, annotated[i]!]));
  return { slides: predicted.length, blandAltman: { meanDifference, sdDifference, lowerLimit, upperLimit }, icc: Number.isNaN(icc) ? null : icc, unavailable: null };
}

/** The most cells a `areaMm2` standard rectangle holds anywhere on the slide; null without µm per pixel. */
export function hotspotCount(cells: readonly { x: number; y: number }[], slide: SlideFacts, areaMm2: number): number | null {
  const mppX = slide.mppX;
  const mppY = slide.mppY ?? slide.mppX;
  if (!mppX || !mppY) return null;
  if (cells.length === 0) return 0;
  return findHotspot(cells, standardAreaSizePx(areaMm2, mppX, mppY), { x: 0, y: 0, width: slide.width, height: slide.height }).count;
}

/** Per (test set, slide): the annotated and predicted counts of `positiveClassId`, slides in id order. */
export function slideCounts(
  predictions: readonly StudyPrediction[],
  positiveClassId: number,
  slideFacts: (slideId: number) => SlideFacts,
  areaMm2 = STANDARD_AREA_MM2,
): SlideCounts[] {
  const groups = new Map<string, StudyPrediction[]>();
  for (const p of predictions) {
    const key = JSON.stringify([p.testSet, p.slideId]);
    const group = groups.get(key) ?? [];
    group.push(p);
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((cells) => {
      const { slideId, testSet } = cells[0]!;
      const slide = slideFacts(slideId);
      const annotated = cells.filter((p) => p.trueClassId === positiveClassId);
      const predicted = cells.filter((p) => p.predictedClassId === positiveClassId);
      return {
        slideId,
        slideName: slide.name,
        testSet,
        cells: cells.length,
        annotated: annotated.length,
        predicted: predicted.length,
        hotspotAnnotated: hotspotCount(annotated, slide, areaMm2),
        hotspotPredicted: hotspotCount(predicted, slide, areaMm2),
      };
    })
    .sort((a, b) => a.slideId - b.slideId || a.testSet.localeCompare(b.testSet));
}

function slideFactsReader(db: Database): (slideId: number) => SlideFacts {
  const select = db.prepare('SELECT file_name AS name, width, height, mpp_x AS mppX, mpp_y AS mppY FROM slides WHERE id = ?');
  // A slide removed for good since the run keeps its counts, without a name or a scale.
  return (slideId) => (select.get(slideId) as SlideFacts | undefined) ?? { name: `#${slideId}`, width: 0, height: 0, mppX: null, mppY: null };
}

/** The clinical view of a finished run, on one of its test sets or (testSet undefined) all of them. */
export function studyClinical(db: Database, runId: number, testSet?: string): StudyClinical {
  const run = db.prepare('SELECT study_id AS studyId, status FROM study_runs WHERE id = ?').get(runId) as { studyId: number; status: string } | undefined;
  if (!run) throw new UserFacingError('not-found', `runId: there is no study run ${runId} in this project`);
  if (run.status !== 'done') throw new UserFacingError('invalid-argument', `runId: run ${runId} failed, so it has no predictions to count`);
  const store = new StudyStore(db);
  const { positiveClass } = store.spec(run.studyId);
  const all = store.predictions(runId);
  const predictions = testSet === undefined ? all : all.filter((p) => p.testSet === testSet);
  if (testSet !== undefined && predictions.length === 0) {
    const known = [...new Set(all.map((p) => p.testSet))].join(', ');
    throw new UserFacingError('invalid-argument', `testSet: run ${runId} has no test set "${testSet}" (it has: ${known || 'none'})`);
  }
  const slides = slideCounts(predictions, positiveClass, slideFactsReader(db));
  const withArea = slides.filter((s) => s.hotspotAnnotated !== null && s.hotspotPredicted !== null);
  return {
    runId,
    testSet: testSet ?? null,
    positiveClassId: positiveClass,
    areaMm2: STANDARD_AREA_MM2,
    slides,
    perSlide: countAgreement(
      slides.map((s) => s.predicted),
      slides.map((s) => s.annotated),
    ),
    perArea: countAgreement(
      withArea.map((s) => s.hotspotPredicted!),
      withArea.map((s) => s.hotspotAnnotated!),
    ),
  };
}
