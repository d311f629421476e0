import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { studyClinicalSchema } from '../../../../src-main/contract/studiesSchemas';
import { studyClinical } from '../../../../src-main/services/evaluation/study/studyClinical';
import { parseStudySpec } from '../../../../src-main/services/evaluation/study/studySpec';
import { type StoredPrediction, StudyStore } from '../../../../src-main/services/evaluation/study/StudyStore';
import { ProjectDatabase } from '../../../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../../../src-main/services/slides/SlideCatalog';
import { slideRow } from '../../../fixtures/slideRows';

/*
 * One stored run with hand-made predictions. Classes [1, 2]: index 0 (class 1) is positive.
 * At 0.25 µm/px the 2.37 mm² hotspot (4:3) is 7110.6 × 5332.9 px.
 *
 *   slide A (0.25 µm/px, test)  cells (x, y, annotated, predicted), + positive, − negative:
 *     (1000, 1000, +, +) (2000, 1000, +, −) (20000, 20000, +, +) (20500, 20100, −, +) (50000, 50000, −, −)
 *     annotated 3, predicted 3; hotspot: annotated 2 (the first two), predicted 2 (the 3rd and 4th)
 *   slide B (0.25 µm/px, test):
 *     (500, 500, +, +) (600, 600, +, +) (700, 700, +, +) (900, 900, −, +) (9000, 500, +, −)
 *     annotated 4, predicted 4; hotspot: annotated 3 (9000 is 8500 px from 500), predicted 4
 *   slide C (no µm per pixel, test): (100, 100, −, −) (200, 200, −, +): annotated 0, predicted 1, no hotspot
 *   slide D (0.25 µm/px, test set "other"): (100, 100, −, −): no positive at all
 *
 * Test set "test", per slide: predicted [3, 4, 1] vs annotated [3, 4, 0]: differences [0, 0, 1],
 *   mean 1/3, SD √(1/3); ICC(2,1): MSR 6.5, MSC 1/6, MSE 1/6 → (6.5 − 1/6) / (6.5 + 1/6) = 0.95.
 * Per area (A, B): predicted [2, 4] vs annotated [2, 3]: mean 0.5, SD √0.5;
 *   ICC(2,1): MSR 2.25, MSC 0.25, MSE 0.25 → 2 / 2.5 = 0.8.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-clinical-'));
let project: ProjectDatabase;
let runId: number;
let failedRunId: number;
let slides: { a: number; b: number; c: number; d: number };

type Cell = [x: number, y: number, annotatedPositive: boolean, predictedPositive: boolean];

beforeAll(() => {
  project = ProjectDatabase.create(path.join(dir, 'project'), 'clinical test');
  const catalog = new SlideCatalog(project.db);
  slides = {
    a: catalog.insert(slideRow('a.svs')),
    b: catalog.insert(slideRow('b.svs')),
    c: catalog.insert({ ...slideRow('c.svs'), mppX: null, mppY: null }),
    d: catalog.insert(slideRow('d.svs')),
  };
  const store = new StudyStore(project.db);
  const studyId = store.create(parseStudySpec({ name: 'clinical', kind: 'data-scaling', models: [1], classes: [1, 2], fractions: [1], seeds: 2 }));
  const cells: [slideId: number, testSet: string, Cell[]][] = [
    [slides.a, 'test', [[1000, 1000, true, true], [2000, 1000, true, false], [20000, 20000, true, true], [20500, 20100, false, true], [50000, 50000, false, false]]],
    [slides.b, 'test', [[500, 500, true, true], [600, 600, true, true], [700, 700, true, true], [900, 900, false, true], [9000, 500, true, false]]],
    [slides.c, 'test', [[100, 100, false, false], [200, 200, false, true]]],
    [slides.d, 'other', [[100, 100, false, false]]],
  ];
  let annotationId = 0;
  const predictions: StoredPrediction[] = cells.flatMap(([slideId, testSet, list]) =>
    list.map(([x, y, annotated, predicted]) => ({
      annotationId: ++annotationId,
      slideId,
      x,
      y,
      testSet,
      trueClass: annotated ? 0 : 1,
      predictedClass: predicted ? 0 : 1,
      probabilities: predicted ? [0.8, 0.2] : [0.3, 0.7],
    })),
  );
  const run = { modelId: 1, method: 'linear-probe' as const, fraction: 1, domain: '' };
  runId = store.saveRun(studyId, { run: { ...run, seed: 1 }, status: 'done', error: null, cells: { train: 10, validation: 2, test: 13 }, fitMs: 1, predictions, metrics: [] });
  failedRunId = store.saveRun(studyId, { run: { ...run, seed: 2 }, status: 'failed', error: 'boom', cells: { train: 0, validation: 0, test: 0 }, fitMs: 0, predictions: [], metrics: [] });
});
afterAll(() => {
  project.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('clinical view of a run', () => {
  it('counts per slide and in each reader’s hotspot, as computed by hand', () => {
    const result = studyClinicalSchema.parse(studyClinical(project.db, runId, 'test'));
    expect(result).toMatchObject({ runId, testSet: 'test', positiveClassId: 1, areaMm2: 2.37 });
    expect(result.slides.map((s) => [s.slideName, s.cells, s.annotated, s.predicted, s.hotspotAnnotated, s.hotspotPredicted])).toEqual([
      ['a.svs', 5, 3, 3, 2, 2],
      ['b.svs', 5, 4, 4, 3, 4],
      ['c.svs', 2, 0, 1, null, null],
    ]);

    expect(result.perSlide.slides).toBe(3);
    expect(result.perSlide.blandAltman!.meanDifference).toBeCloseTo(1 / 3, 12);
    expect(result.perSlide.blandAltman!.sdDifference).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(result.perSlide.blandAltman!.lowerLimit).toBeCloseTo(1 / 3 - 1.96 * Math.sqrt(1 / 3), 12);
    expect(result.perSlide.blandAltman!.upperLimit).toBeCloseTo(1 / 3 + 1.96 * Math.sqrt(1 / 3), 12);
    expect(result.perSlide.icc).toBeCloseTo(0.95, 12);

    expect(result.perArea.slides).toBe(2);
    expect(result.perArea.blandAltman!.meanDifference).toBeCloseTo(0.5, 12);
    expect(result.perArea.blandAltman!.sdDifference).toBeCloseTo(Math.sqrt(0.5), 12);
    expect(result.perArea.icc).toBeCloseTo(0.8, 12);
  });

  it('without a test set counts every test set; a slide with no positive counts 0 on both sides', () => {
    const result = studyClinical(project.db, runId);
    expect(result.testSet).toBeNull();
    const d = result.slides.find((s) => s.slideId === slides.d)!;
    expect(d).toMatchObject({ testSet: 'other', cells: 1, annotated: 0, predicted: 0, hotspotAnnotated: 0, hotspotPredicted: 0 });
    expect(result.perSlide.slides).toBe(4);
  });

  it('gives no Bland–Altman or ICC on fewer than two slides, saying why', () => {
    const result = studyClinicalSchema.parse(studyClinical(project.db, runId, 'other'));
    expect(result.slides).toHaveLength(1);
    expect(result.perSlide).toEqual({ slides: 1, blandAltman: null, icc: null, unavailable: 'too-few-slides' });
    expect(result.perArea.unavailable).toBe('too-few-slides');
  });

  it('refuses a failed run, an unknown run and an unknown test set, naming the field', () => {
    expect(() => studyClinical(project.db, failedRunId)).toThrow(/runId: run \d+ failed/);
    expect(() => studyClinical(project.db, 9999)).toThrow(/runId: there is no study run 9999/);
    expect(() => studyClinical(project.db, runId, 'elsewhere')).toThrow(/testSet: run \d+ has no test set "elsewhere" \(it has: other, test\)/);
  });
});
