import type { Database } from 'better-sqlite3';
import { UserFacingError } from '../../../contract/errors';
import type { ModelInfo } from '../../../contract/modelsSchemas';
import type { ReproducibilityRecord, StudyRunResult, StudySpec } from '../../../contract/studiesSchemas';
import { EmbeddingCache, type LabelledCell } from '../../embeddings/EmbeddingCache';
import { modelKey, patchParameters } from '../../embeddings/patches';
import { derivedSeed } from '../../random/seededRandom';
import { predictProbabilities } from '../../training/linearProbe';
import { inThreadProbeFitter } from '../../training/ProbeFitter';
import type { ProbeFitter } from '../../training/ProbeFitter';
import { TrainingError } from '../../training/TrainingError';
import { InvalidEvaluationInputError } from '../errors';
import { METRIC_NAMES, summarizeClassification } from '../summary';
import { aggregateGroups, pairedComparisons, runInterval } from './aggregate';
import type { LoraRunner } from './LoraRunner';
import { type StudyCell, loadStudyCells, slideDomains } from './studyCells';
import { type PlannedRun, type StudyPlan, planStudy } from './studyPlan';
import { type FinishedRun, type StoredPrediction, type StoredRunMetric, StudyStore } from './StudyStore';
import { predictionsBySlide } from './weightedMetrics';

/** What the runner reports while it works (a job's context, or the CLI's printer). */
export interface StudyProgress {
  signal: AbortSignal;
  progress(done: number, total: number, message: string): void;
}

export interface StudyRunnerOptions {
  db: Database;
  /** The project's registered models (ModelRegistry). */
  models: { get(modelId: number): ModelInfo };
  appVersion: string;
  /** Without it a study that includes LoRA is refused. */
  lora?: LoraRunner;
  /** Where linear probes are fitted (the app: a worker thread); on the calling thread when absent. */
  probeFitter?: ProbeFitter;
  now?: () => Date;
}

/** Vectors of one model by annotation id. */
type VectorTable = Map<number, Float32Array>;

interface ModelEntry {
  info: ModelInfo;
  key: string;
  paramsKey: string;
}

/** Milliseconds spent fitting, for the benchmark's "fitting must not dominate" and the CLI summary. */
interface Timing {
  fitMs: number;
}

function asLabelledCell(cell: StudyCell, spec: StudySpec): LabelledCell {
  return { annotationId: cell.annotationId, slideId: cell.slideNumber, x: cell.x, y: cell.y, consensus: { status: 'agreed', classId: spec.classes[cell.classIndex]! } };
}

/** Every cell some split of the plan uses (cross-domain leaves untagged slides out). */
function cellsInPlan(plan: StudyPlan): StudyCell[] {
  const cells = new Map<number, StudyCell>();
  for (const split of plan.splits) {
    for (const cell of [...split.subsets.flatMap((subset) => subset.cells), ...split.validation, ...[...split.tests.values()].flat()]) cells.set(cell.annotationId, cell);
  }
  return [...cells.values()];
}

function featureMatrix(cells: readonly StudyCell[], vectors: VectorTable): { values: Float64Array; rows: number; columns: number } {
  const columns = vectors.get(cells[0]!.annotationId)!.length;
  const values = new Float64Array(cells.length * columns);
  cells.forEach((cell, row) => values.set(vectors.get(cell.annotationId)!, row * columns));
  return { values, rows: cells.length, columns };
}

function argmax(probabilities: Float64Array, row: number, classCount: number): number {
  let best = 0;
  for (let c = 1; c < classCount; c++) if (probabilities[row * classCount + c]! > probabilities[row * classCount + best]!) best = c;
  return best;
}

/** The run's test cells, test set by test set, in one list (the order predictions come back in). */
function testCellsOf(run: PlannedRun): { testSet: string; cell: StudyCell }[] {
  return [...run.split.tests].flatMap(([testSet, cells]) => cells.map((cell) => ({ testSet, cell })));
}

/** Per test set, every headline metric (summary.ts) with its 95 % CI by bootstrap over slides. */
function runMetrics(run: PlannedRun, predictions: readonly StoredPrediction[], spec: StudySpec): StoredRunMetric[] {
  const positive = spec.classes.indexOf(spec.positiveClass);
  return [...run.split.tests.keys()].flatMap((testSet) => {
    const cells = predictions.filter((p) => p.testSet === testSet);
    const summary = summarizeClassification({
      yTrue: cells.map((p) => p.trueClass),
      yPred: cells.map((p) => p.predictedClass),
      positiveScores: cells.map((p) => p.probabilities[positive]!),
      positiveClass: positive,
    });
    const bySlide = predictionsBySlide(
      cells.map((p) => ({ slideId: String(p.slideId), trueClass: p.trueClass, predictedClass: p.predictedClass, positiveScore: p.probabilities[positive]! })),
      spec.classes.length,
      positive,
    );
    return METRIC_NAMES.map((metric) => {
      const interval = runInterval(bySlide, metric, { replicates: spec.bootstrapReplicates, seed: derivedSeed(run.seed, `run:${run.key}:${testSet}:${metric}`) });
      return { testSet, metric, value: summary.values[metric], ciLower: interval.lower, ciUpper: interval.upper };
    });
  });
}

/**
 * Runs a stored study: plans its splits (pure and seeded, so a restart plans the same), then every
 * run not yet stored — fit, predict, store with its metrics — and finally the aggregates over seeds
 * and the paired comparisons. Cancelling stops between runs and keeps every finished one.
 */
export class StudyRunner {
  private readonly store: StudyStore;
  private readonly cache: EmbeddingCache;

  constructor(private readonly options: StudyRunnerOptions) {
    this.store = new StudyStore(options.db, options.now);
    this.cache = new EmbeddingCache(options.db);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private modelEntries(spec: StudySpec): ModelEntry[] {
    return spec.models.map((id) => {
      const info = this.options.models.get(id);
      return { info, key: modelKey(info, spec.precision), paramsKey: patchParameters(info).key };
    });
  }

  /** The cached vectors of the plan's cells, or a clear refusal naming the model and how many cells lack one. */
  private vectorsOf(model: ModelEntry, cells: readonly StudyCell[], spec: StudySpec): VectorTable {
    const cached = this.cache.vectors(model.key, model.paramsKey, cells.map((cell) => asLabelledCell(cell, spec)));
    const missing = cells.length - cached.length;
    if (missing > 0) {
      throw new UserFacingError(
        'invalid-argument',
        `model "${model.info.name}" (id ${model.info.id}): ${missing} of ${cells.length} cells of this study have no cached embedding${spec.precision === 'float32' ? '' : ` (${spec.precision})`}; extract embeddings for this model first`,
      );
    }
    return new Map(cached.map((entry) => [entry.annotationId, entry.vector]));
  }

  /** The record of this start; a resumed study must see the labels and models its stored runs saw. */
  private checkedRecord(studyId: number, spec: StudySpec, models: readonly ModelEntry[], cellSet: ReturnType<typeof loadStudyCells>, plan: StudyPlan): ReproducibilityRecord {
    const cells = cellsInPlan(plan);
    const record: ReproducibilityRecord = {
      appVersion: this.options.appVersion,
      labelSnapshotHash: cellSet.labelSnapshotHash,
      models: models.map((model) => ({ id: model.info.id, name: model.info.name, fileHash: model.info.fileHash, modelKey: model.key, paramsKey: model.paramsKey })),
      seeds: spec.seeds,
      cells: cells.length,
      slides: new Set(cells.map((cell) => cell.slideId)).size,
      excludedCells: { ...cellSet.excluded, ...plan.excluded },
      startedAt: this.now().toISOString(),
    };
    const earlier = this.store.record(studyId);
    if (!earlier || this.store.finishedRunKeys(studyId).size === 0) return record;
    if (earlier.labelSnapshotHash !== record.labelSnapshotHash) {
      throw new UserFacingError('invalid-argument', `study ${studyId}: labels changed since its finished runs were computed (label snapshot ${earlier.labelSnapshotHash.slice(0, 12)} → ${record.labelSnapshotHash.slice(0, 12)}); create a new study to use the current labels`);
    }
    const changed = record.models.find((model) => earlier.models.find((old) => old.id === model.id)?.modelKey !== model.modelKey);
    if (changed) throw new UserFacingError('invalid-argument', `study ${studyId}: model "${changed.name}" is not the one its finished runs used; create a new study`);
    return { ...record, startedAt: earlier.startedAt, appVersion: earlier.appVersion === record.appVersion ? record.appVersion : `${earlier.appVersion} (resumed with ${record.appVersion})` };
  }

  async run(studyId: number, context: StudyProgress): Promise<StudyRunResult> {
    const started = performance.now();
    const spec = this.store.spec(studyId);
    if (spec.methods.includes('lora') && !this.options.lora) {
      throw new UserFacingError('invalid-argument', `study ${studyId}: methods includes 'lora', but LoRA is trained only in the app (the command line has no training workers); run this study from the Studies page, or remove 'lora'`);
    }
    try {
      return await this.runChecked(studyId, spec, context, started);
    } catch (error) {
      this.store.end(studyId, 'failed', error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  private async runChecked(studyId: number, spec: StudySpec, context: StudyProgress, started: number): Promise<StudyRunResult> {
    const models = this.modelEntries(spec);
    const cellSet = loadStudyCells(this.options.db, spec);
    const plan = planStudy(spec, cellSet.cells, spec.domain ? slideDomains(this.options.db, spec.domain.tagKey) : new Map());
    const needed = cellsInPlan(plan);
    const vectors = new Map<number, VectorTable>();
    if (spec.methods.includes('linear-probe')) for (const model of models) vectors.set(model.info.id, this.vectorsOf(model, needed, spec));
    this.store.start(studyId, this.checkedRecord(studyId, spec, models, cellSet, plan), plan.runs.length, plan.warnings);

    const finished = this.store.finishedRunKeys(studyId);
    const timing: Timing = { fitMs: 0 };
    const counts = { done: 0, skipped: 0, failed: 0 };
    for (const [index, run] of plan.runs.entries()) {
      if (context.signal.aborted) break;
      const label = `${models.find((m) => m.info.id === run.modelId)!.info.name} · ${run.method} · ${Number((run.fraction * 100).toPrecision(6))} % · seed ${run.seed}${run.domain ? ` · ${run.domain}` : ''}`;
      if (finished.has(run.key)) {
        counts.skipped += 1;
        context.progress(index + 1, plan.runs.length, `${label}: already done`);
        continue;
      }
      const outcome = await this.executeRun(run, spec, vectors.get(run.modelId), context.signal, timing);
      if (outcome === null) break;
      this.store.saveRun(studyId, outcome);
      counts[outcome.status === 'done' ? 'done' : 'failed'] += 1;
      context.progress(index + 1, plan.runs.length, outcome.status === 'done' ? label : `${label}: failed (${outcome.error})`);
      // Lets progress events and cancellation through between runs.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const cancelled = context.signal.aborted;
    if (cancelled) this.store.end(studyId, 'cancelled');
    else {
      this.aggregate(studyId, spec);
      this.store.end(studyId, 'finished');
    }
    return { studyId, runsPlanned: plan.runs.length, runsDone: counts.done, runsSkipped: counts.skipped, runsFailed: counts.failed, cancelled, fitMs: timing.fitMs, wallMs: performance.now() - started };
  }

  /** Means, SDs and CIs over seeds, and paired comparisons, from the stored predictions. */
  private aggregate(studyId: number, spec: StudySpec): void {
    const positive = spec.classes.indexOf(spec.positiveClass);
    const runs = this.store.runPredictions(studyId, positive, spec.classes.length);
    const options = { replicates: spec.bootstrapReplicates, seed: spec.seeds[0]! };
    this.store.replaceAggregates(studyId, aggregateGroups(runs, options), pairedComparisons(runs, options));
  }

  /** Class probabilities of the run's test cells (row-major), or null when cancelled mid-way. */
  private async probabilities(run: PlannedRun, spec: StudySpec, vectors: VectorTable | undefined, signal: AbortSignal, timing: Timing): Promise<Float64Array | null> {
    const tests = testCellsOf(run).map(({ cell }) => cell);
    const fitStart = performance.now();
    if (run.method === 'lora') {
      const result = await this.options.lora!.trainAndPredict({
        modelId: run.modelId,
        classIds: spec.classes,
        positiveClassId: spec.positiveClass,
        trainCells: run.train,
        validationCells: run.split.validation,
        testCells: tests,
        seed: run.seed,
        signal,
      });
      timing.fitMs += performance.now() - fitStart;
      if (signal.aborted) return null;
      if (result.length !== tests.length * spec.classes.length) {
        throw new TrainingError('LoRA', `returned ${result.length} probabilities for ${tests.length} test cells × ${spec.classes.length} classes`);
      }
      return result;
    }
    const probe = await (this.options.probeFitter ?? inThreadProbeFitter).fit(featureMatrix(run.train, vectors!), run.train.map((cell) => cell.classIndex), { classCount: spec.classes.length });
    timing.fitMs += performance.now() - fitStart;
    return predictProbabilities(probe, featureMatrix(tests, vectors!));
  }

  private async executeRun(run: PlannedRun, spec: StudySpec, vectors: VectorTable | undefined, signal: AbortSignal, timing: Timing): Promise<FinishedRun | null> {
    const tests = testCellsOf(run);
    const base = { run, cells: { train: run.train.length, validation: run.split.validation.length, test: tests.length } };
    const fitBefore = timing.fitMs;
    let probabilities: Float64Array | null;
    try {
      probabilities = await this.probabilities(run, spec, vectors, signal, timing);
    } catch (error) {
      // Input that cannot be fitted (a class missing from a tiny subset) is this run's result, not the study's end.
      if (!(error instanceof TrainingError || error instanceof InvalidEvaluationInputError)) throw error;
      return { ...base, status: 'failed', error: error.message, fitMs: timing.fitMs - fitBefore, predictions: [], metrics: [] };
    }
    if (probabilities === null) return null;
    const classCount = spec.classes.length;
    const predictions: StoredPrediction[] = tests.map(({ testSet, cell }, row) => ({
      annotationId: cell.annotationId,
      slideId: cell.slideNumber,
      x: cell.x,
      y: cell.y,
      testSet,
      trueClass: cell.classIndex,
      predictedClass: argmax(probabilities, row, classCount),
      probabilities: Array.from(probabilities.subarray(row * classCount, (row + 1) * classCount)),
    }));
    return { ...base, status: 'done', error: null, fitMs: timing.fitMs - fitBefore, predictions, metrics: runMetrics(run, predictions, spec) };
  }
}
