import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { balancedAccuracy, auroc, accuracy, weightedF1, sensitivity, specificity } from '../../../../src-main/services/evaluation/metrics';
import { summarizeClassification, METRIC_NAMES } from '../../../../src-main/services/evaluation/summary';
import { loadStudyCells } from '../../../../src-main/services/evaluation/study/studyCells';
import { planStudy } from '../../../../src-main/services/evaluation/study/studyPlan';
import { parseStudySpec } from '../../../../src-main/services/evaluation/study/studySpec';
import { StudyRunner } from '../../../../src-main/services/evaluation/study/StudyRunner';
import { StudyStore } from '../../../../src-main/services/evaluation/study/StudyStore';
import { exportStudyCsv, exportStudyJson, predictionsPathBeside } from '../../../../src-main/services/evaluation/study/studyExport';
import { predictionsBySlide, unitWeights, weightedMetrics } from '../../../../src-main/services/evaluation/study/weightedMetrics';
import type { LoraRunner } from '../../../../src-main/services/evaluation/study/LoraRunner';
import { EmbeddingCache, labelledCells } from '../../../../src-main/services/embeddings/EmbeddingCache';
import { modelKey, patchParameters } from '../../../../src-main/services/embeddings/patches';
import { fitLinearProbe, predictProbabilities } from '../../../../src-main/services/training/linearProbe';
import { seededRandom } from '../../../../src-main/services/random/seededRandom';
import { createStudyProject, type StudyProject } from './studyProject';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-study-'));
let fixture: StudyProject;
let store: StudyStore;
const never = new AbortController().signal;
const quiet = { signal: never, progress: () => {} };

function runner(extra: { lora?: LoraRunner } = {}): StudyRunner {
  return new StudyRunner({ db: fixture.project.db, models: fixture.registry, appVersion: '9.9.9-test', ...extra });
}

function scalingSpec(overrides: Record<string, unknown> = {}) {
  return parseStudySpec({ name: 'scaling', kind: 'data-scaling', models: fixture.models.map((m) => m.id), classes: [1, 2], fractions: [0.1, 0.5, 1], seeds: 2, bootstrapReplicates: 200, ...overrides });
}

beforeAll(() => {
  fixture = createStudyProject(dir, { slides: 24, cellsPerSlide: 30, dim: 16, positiveShare: 0.3, seed: 11, domains: ['A', 'B', 'C'], models: 2 });
  store = new StudyStore(fixture.project.db);
});
afterAll(() => {
  fixture.project.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('study plan', () => {
  it('splits by slide without leaking, with nested training subsets, the same on every call', () => {
    const spec = scalingSpec({ seeds: 3 });
    const cells = loadStudyCells(fixture.project.db, spec);
    expect(cells.excluded['annotators disagree']).toBeGreaterThan(0);
    const plan = planStudy(spec, cells.cells);
    expect(plan.runs).toHaveLength(3 * 3 * 2);
    expect(plan.warnings).toEqual([]);
    for (const split of plan.splits) {
      const train = new Set(split.subsets.at(-1)!.cells.map((c) => c.slideId));
      const validation = new Set(split.validation.map((c) => c.slideId));
      const test = new Set(split.tests.get('test')!.map((c) => c.slideId));
      for (const slide of test) expect(train.has(slide) || validation.has(slide)).toBe(false);
      for (const slide of validation) expect(train.has(slide)).toBe(false);
      split.subsets.slice(1).forEach((larger, i) => {
        const smaller = split.subsets[i]!.cells;
        const ids = new Set(larger.cells.map((c) => c.cellId));
        expect(smaller.length).toBeLessThan(larger.cells.length);
        expect(smaller.every((c) => ids.has(c.cellId))).toBe(true);
      });
    }
    expect(planStudy(spec, cells.cells).runs.map((r) => r.train.map((c) => c.cellId))).toEqual(plan.runs.map((r) => r.train.map((c) => c.cellId)));
  });
});

describe('weighted metrics', () => {
  it('with every slide once they equal summary.ts, ties in scores included', () => {
    const random = seededRandom(5);
    const cells = Array.from({ length: 300 }, (_, i) => ({
      slideId: `s${i % 13}`,
      trueClass: random() < 0.3 ? 1 : 0,
      predictedClass: random() < 0.35 ? 1 : 0,
      positiveScore: Math.round(random() * 20) / 20,
    }));
    const set = predictionsBySlide(cells, 2, 1);
    const expected = summarizeClassification({ yTrue: cells.map((c) => c.trueClass), yPred: cells.map((c) => c.predictedClass), positiveScores: cells.map((c) => c.positiveScore), positiveClass: 1 }).values;
    const actual = weightedMetrics(set, unitWeights(set));
    for (const name of METRIC_NAMES) expect(actual[name]).toBeCloseTo(expected[name], 12);
    // Slide 0 twice, slide 1 never: the same as the cell list with those repeats.
    const weights = unitWeights(set);
    weights[0] = 2;
    weights[1] = 0;
    const expanded = [...cells.filter((c) => c.slideId !== 's1'), ...cells.filter((c) => c.slideId === 's0')];
    const twice = weightedMetrics(set, weights);
    expect(twice.balancedAccuracy).toBeCloseTo(balancedAccuracy(expanded.map((c) => c.trueClass), expanded.map((c) => c.predictedClass)), 12);
    expect(twice.auroc).toBeCloseTo(auroc(expanded.map((c) => c.trueClass), expanded.map((c) => c.positiveScore)), 12);
  });
});

describe('a data-scaling study end to end', () => {
  let studyId: number;

  it('runs every (model × fraction × seed), storing predictions, per-run metrics and aggregates', async () => {
    studyId = store.create(scalingSpec());
    const progress: string[] = [];
    const result = await runner().run(studyId, { signal: never, progress: (done, total, message) => progress.push(`${done}/${total} ${message}`) });
    expect(result).toMatchObject({ runsPlanned: 12, runsDone: 12, runsSkipped: 0, runsFailed: 0, cancelled: false });
    expect(progress.at(-1)).toMatch(/^12\/12 synthetic-2 · linear-probe · 100 % · seed 2$/);
    const detail = store.get(studyId);
    expect(detail.summary.state).toBe('finished');
    expect(detail.record).toMatchObject({ appVersion: '9.9.9-test', seeds: [1, 2] });
    expect(detail.record!.models.map((m) => m.fileHash)).toEqual(['hash-1', 'hash-2']);
    expect(detail.record!.labelSnapshotHash).toMatch(/^[0-9a-f]{64}$/);
    expect(detail.metrics.filter((m) => m.runId !== null)).toHaveLength(12 * METRIC_NAMES.length);
    expect(detail.metrics.filter((m) => m.runId === null)).toHaveLength(2 * 3 * METRIC_NAMES.length);
    // Model 1 has the stronger signal: the paired difference in balanced accuracy is positive at 100 %.
    const full = detail.comparisons.find((c) => c.fraction === 1 && c.metric === 'balancedAccuracy')!;
    expect(full.seeds).toBe(2);
    expect(full.difference!).toBeGreaterThan(0);
    expect(full.ciLower!).toBeLessThanOrEqual(full.difference!);
    expect(full.ciUpper!).toBeGreaterThanOrEqual(full.difference!);
  });

  it('stores numbers that a hand recomputation with the probe and the metric functions reproduces', () => {
    const spec = store.spec(studyId);
    const plan = planStudy(spec, loadStudyCells(fixture.project.db, spec).cells);
    const detail = store.get(studyId);
    const run = detail.runs.find((r) => r.modelId === fixture.models[0]!.id && r.fraction === 0.5 && r.seed === 2)!;
    const planned = plan.runs.find((r) => r.modelId === run.modelId && r.fraction === 0.5 && r.seed === 2)!;
    const model = fixture.models[0]!;
    const vectors = new Map(new EmbeddingCache(fixture.project.db).vectors(modelKey(model), patchParameters(model).key, labelledCells(fixture.project.db)).map((v) => [v.annotationId, v.vector]));
    const matrix = (cells: { annotationId: number }[]) => ({ values: Float64Array.from(cells.flatMap((c) => [...vectors.get(c.annotationId)!])), rows: cells.length, columns: 16 });
    const probe = fitLinearProbe(matrix(planned.train), planned.train.map((c) => c.classIndex), { classCount: 2 });
    const tests = planned.split.tests.get('test')!;
    const probabilities = predictProbabilities(probe, matrix(tests));
    const stored = store.predictions(run.id);
    expect(stored.map((p) => p.annotationId).sort()).toEqual(tests.map((c) => c.annotationId).sort());
    const byId = new Map(stored.map((p) => [p.annotationId, p]));
    tests.forEach((cell, i) => expect(byId.get(cell.annotationId)!.probabilities[0]).toBeCloseTo(probabilities[i * 2]!, 9));
    const yTrue = stored.map((p) => (p.trueClassId === 1 ? 0 : 1));
    const yPred = stored.map((p) => (p.predictedClassId === 1 ? 0 : 1));
    const scores = stored.map((p) => p.probabilities[0]!);
    const value = (metric: string) => detail.metrics.find((m) => m.runId === run.id && m.metric === metric)!.value;
    expect(value('balancedAccuracy')).toBeCloseTo(balancedAccuracy(yTrue, yPred), 12);
    expect(value('accuracy')).toBeCloseTo(accuracy(yTrue, yPred), 12);
    expect(value('weightedF1')).toBeCloseTo(weightedF1(yTrue, yPred), 12);
    expect(value('sensitivity')).toBeCloseTo(sensitivity(yTrue, yPred, 0), 12);
    expect(value('specificity')).toBeCloseTo(specificity(yTrue, yPred, 0), 12);
    expect(value('auroc')).toBeCloseTo(auroc(yTrue, scores, 0), 12);
    const perSeed = detail.metrics.filter((m) => m.runId !== null && m.modelId === run.modelId && m.fraction === 0.5 && m.metric === 'auroc').map((m) => m.value!);
    const group = detail.metrics.find((m) => m.runId === null && m.modelId === run.modelId && m.fraction === 0.5 && m.metric === 'auroc')!;
    expect(group.value).toBeCloseTo((perSeed[0]! + perSeed[1]!) / 2, 12);
    expect(group.sd).toBeCloseTo(Math.abs(perSeed[0]! - perSeed[1]!) / Math.SQRT2, 12);
    expect(group.ciLower!).toBeLessThan(group.ciUpper!);
  });

  it('skips finished runs after a restart, and redoes only what is missing', async () => {
    const again = await runner().run(studyId, quiet);
    expect(again).toMatchObject({ runsDone: 0, runsSkipped: 12 });
    const lost = store.runs(studyId).at(-1)!;
    fixture.project.db.prepare('DELETE FROM study_runs WHERE id = ?').run(lost.id);
    const resumed = await runner().run(studyId, quiet);
    expect(resumed).toMatchObject({ runsDone: 1, runsSkipped: 11 });
    expect(store.runs(studyId)).toHaveLength(12);
  });

  it('stops between runs when cancelled, keeps what is finished, and a later run completes the rest', async () => {
    const id = store.create(scalingSpec({ name: 'cancelled', models: [fixture.models[0]!.id] }));
    const controller = new AbortController();
    const first = await runner().run(id, { signal: controller.signal, progress: (done) => done === 2 && controller.abort() });
    expect(first).toMatchObject({ runsDone: 2, cancelled: true });
    expect(store.get(id).summary.state).toBe('cancelled');
    const second = await runner().run(id, quiet);
    expect(second).toMatchObject({ runsDone: 4, runsSkipped: 2, cancelled: false });
  });

  it('exports every metric and prediction as CSV and JSON, written whole', () => {
    const target = path.join(dir, 'scaling.csv');
    const files = exportStudyCsv(store, studyId, target);
    expect(files.map((f) => f.path)).toEqual([target, predictionsPathBeside(target)]);
    const metricLines = fs.readFileSync(target, 'utf8').trim().split('\n');
    expect(metricLines).toHaveLength(1 + store.metrics(studyId).length);
    const predictionLines = fs.readFileSync(predictionsPathBeside(target), 'utf8').trim().split('\n');
    expect(predictionLines).toHaveLength(1 + store.runs(studyId).reduce((sum, run) => sum + run.testCells, 0));
    expect(() => exportStudyCsv(store, studyId, target)).toThrow(/already exists/);
    const json = JSON.parse(fs.readFileSync(exportStudyJson(store, studyId, path.join(dir, 'scaling.json'))[0]!.path, 'utf8')) as { metrics: unknown[]; predictions: Record<string, unknown[]> };
    expect(json.metrics).toHaveLength(store.metrics(studyId).length);
    expect(Object.keys(json.predictions)).toHaveLength(12);
  });
});

describe('refusals and other designs', () => {
  it('names the model and how many cells lack embeddings', async () => {
    const id = store.create(scalingSpec());
    const model = fixture.models[1]!;
    const { n } = fixture.project.db.prepare("SELECT COUNT(*) AS n FROM embeddings WHERE model_key = ? AND annotation_id % 7 = 0").get(modelKey(model)) as { n: number };
    const saved = fixture.project.db.prepare('SELECT * FROM embeddings WHERE model_key = ? AND annotation_id % 7 = 0').all(modelKey(model));
    fixture.project.db.prepare('DELETE FROM embeddings WHERE model_key = ? AND annotation_id % 7 = 0').run(modelKey(model));
    try {
      await expect(runner().run(id, quiet)).rejects.toThrow(new RegExp(`model "synthetic-2" \\(id ${model.id}\\): \\d+ of \\d+ cells of this study have no cached embedding`));
      expect(n).toBeGreaterThan(0);
      expect(store.get(id).summary.state).toBe('failed');
    } finally {
      const insert = fixture.project.db.prepare('INSERT INTO embeddings VALUES (@model_key, @params_key, @annotation_id, @slide_id, @centre_x, @centre_y, @dims, @vector, @created_at)');
      for (const row of saved) insert.run(row);
    }
  });

  it('refuses LoRA without a trainer, and runs it through an injected one on the same splits', async () => {
    const id = store.create(scalingSpec({ kind: 'model-method', methods: ['linear-probe', 'lora'], models: [fixture.models[0]!.id], fractions: undefined }));
    await expect(runner().run(id, quiet)).rejects.toThrow(/methods includes 'lora', but LoRA is trained only in the app/);
    const calls: { train: number; validation: number; test: number }[] = [];
    // A weak stand-in trainer (the real one is the training issue's): the training set's class shares, nudged by cell position.
    const lora: LoraRunner = {
      trainAndPredict: async ({ trainCells: train, validationCells: validation, testCells: test }) => {
        calls.push({ train: train.length, validation: validation.length, test: test.length });
        const share = train.filter((c) => c.classIndex === 0).length / train.length;
        return Float64Array.from(test.flatMap((c) => (c.x % 20 === 0 ? [share + 0.1, 0.9 - share] : [share, 1 - share])));
      },
    };
    const result = await runner({ lora }).run(id, quiet);
    expect(result).toMatchObject({ runsDone: 4, runsFailed: 0 });
    const probeRuns = store.runs(id).filter((r) => r.method === 'linear-probe');
    expect(calls.map((c) => c.test)).toEqual(probeRuns.map((r) => r.testCells));
    expect(store.comparisons(id).map((c) => [c.a.method, c.b.method, c.metric])).toEqual([
      ['linear-probe', 'lora', 'balancedAccuracy'],
      ['linear-probe', 'lora', 'auroc'],
    ]);
  });

  it('stores a loud warning for the cell-level split (reproduce the paper)', async () => {
    const id = store.create(scalingSpec({ models: [fixture.models[0]!.id], fractions: [1], seeds: 1, split: { grouping: 'cell' } }));
    await runner().run(id, quiet);
    const [warning] = store.get(id).warnings;
    expect(warning).toMatch(/^LEAKAGE: cell-level split \(reproduce the paper\): \d+ of \d+ test slide\(s\) also have training cells/);
  });

  it('cross-domain: train on each domain, test in and out of domain; and leave one domain out', async () => {
    const base = { kind: 'cross-domain', models: [fixture.models[0]!.id], fractions: [1], seeds: 1 };
    const trainOne = store.create(scalingSpec({ ...base, domain: { tagKey: 'tumour' } }));
    await runner().run(trainOne, quiet);
    const matrix = store.metrics(trainOne).filter((m) => m.runId === null && m.metric === 'balancedAccuracy').map((m) => `${m.domain}→${m.testSet}`);
    expect(matrix.sort()).toEqual(['A→A', 'A→B', 'A→C', 'B→A', 'B→B', 'B→C', 'C→A', 'C→B', 'C→C']);
    const loo = store.create(scalingSpec({ ...base, domain: { tagKey: 'tumour', mode: 'leave-one-out' } }));
    await runner().run(loo, quiet);
    const held = store.metrics(loo).filter((m) => m.runId === null && m.metric === 'auroc').map((m) => `${m.domain}→${m.testSet}`);
    expect(held.sort()).toEqual(['A→A', 'B→B', 'C→C']);
    for (const run of store.runs(loo)) {
      const testSlides = new Set(store.predictions(run.id).map((p) => p.slideId));
      const tags = fixture.project.db.prepare("SELECT DISTINCT value FROM slide_tags WHERE key = 'tumour' AND slide_id IN (" + [...testSlides].join(',') + ')').all() as { value: string }[];
      expect(tags.map((t) => t.value)).toEqual([run.domain]);
    }
  });

  it("uses one annotator's labels when asked", () => {
    const ben = loadStudyCells(fixture.project.db, parseStudySpec({ name: 'b', kind: 'data-scaling', models: [1], classes: [1, 2], labels: { source: 'annotator', annotatorId: fixture.annotatorIds.ben } }));
    expect(ben.cells).toHaveLength(fixture.cellCount / 2);
  });
});
