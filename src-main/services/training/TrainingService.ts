import type { Database } from 'better-sqlite3';
import { UserFacingError } from '../../contract/errors';
import type { ModelInfo } from '../../contract/modelsSchemas';
import type { AdapterInfo, LoraSettings, Prediction, TrainingRecord, TrainingSpec } from '../../contract/trainingSchemas';
import { loraSettingsSchema, trainingSpecSchema } from '../../contract/trainingSchemas';
import { EmbeddingCache } from '../embeddings/EmbeddingCache';
import { extractEmbeddings, preparePatches, refuseSlidesWithoutMpp, staticBatchSize, workerEmbeddingSession } from '../embeddings/EmbeddingExtractor';
import type { PatchCentre } from '../embeddings/EmbeddingExtractor';
import { modelKey, patchParameters } from '../embeddings/patches';
import { splitByCell, splitBySlide } from '../evaluation/splits';
import type { JobContext, JobRunner } from '../jobs/JobRunner';
import type { ModelRegistry } from '../models/ModelRegistry';
import type { ModelRuntime } from '../models/runtime/ModelRuntime';
import type { WorkerEntry } from '../models/runtime/SessionWorker';
import type { SlideLibrary } from '../slides/SlideLibrary';
import { AdapterStore } from './AdapterStore';
import { labelSnapshotHash, trainingCells } from './labelSnapshot';
import type { TrainingCell } from './labelSnapshot';
import { predictProbabilities } from './linearProbe';
import { decodeProbe, featureMatrix, fitAndValidateProbe } from './linearProbeTraining';
import { inThreadProbeFitter } from './ProbeFitter';
import type { ProbeFitter } from './ProbeFitter';
import { LoraSession, trainLora } from './loraTraining';
import type { LoraProgressStore } from './loraTraining';
import type { LoraCell, LoraRequest, LoraRunner } from '../evaluation/study/LoraRunner';

export interface TrainingServiceDeps {
  readonly db: Database;
  readonly library: SlideLibrary;
  readonly registry: ModelRegistry;
  readonly runtime: ModelRuntime;
  readonly jobs: JobRunner;
  readonly appVersion: string;
  /** The augmentation workers' code (built file in the app, TypeScript through tsx in tests). */
  readonly augmentEntry: WorkerEntry;
  /** Where linear probes are fitted (the app: a worker thread); on the calling thread when absent. */
  readonly probeFitter?: ProbeFitter;
}

/** The batch size of embedding extraction inside training and prediction jobs. */
const EMBEDDING_BATCH = 16;

export interface TrainingSplit {
  readonly train: TrainingCell[];
  readonly validation: TrainingCell[];
}

/**
 * Training and validation cells: whole slides go to validation when there are at least two
 * slides (so validation measures generalisation to unseen slides), single cells otherwise.
 * Stratified by class and seeded (services/evaluation/splits).
 */
export function splitForTraining(cells: readonly TrainingCell[], validationFraction: number, seed: number): TrainingSplit {
  const slides = new Set(cells.map((cell) => cell.slideId));
  const byId = new Map(cells.map((cell) => [String(cell.annotationId), cell]));
  const asSplitCells = cells.map((cell) => ({ cellId: String(cell.annotationId), slideId: String(cell.slideId), classIndex: cell.label }));
  const fractions = { train: 1 - validationFraction, validation: validationFraction, test: 0 };
  const split = slides.size >= 2 ? splitBySlide(asSplitCells, fractions, seed) : splitByCell(asSplitCells, fractions, seed);
  return { train: split.train.map((cell) => byId.get(cell.cellId)!), validation: split.validation.map((cell) => byId.get(cell.cellId)!) };
}

/**
 * Trains adapters on a registered model as jobs, stores them with their reproducibility record,
 * and predicts with them. A linear probe fits on cached embeddings (extracting those missing
 * first); LoRA trains the ViT through generated train-step graphs (loraTraining.ts).
 */
export class TrainingService {
  readonly store: AdapterStore;

  constructor(private readonly deps: TrainingServiceDeps) {
    this.store = new AdapterStore(deps.db);
  }

  /** Checks the spec, takes the label snapshot, creates the adapter and starts its job; returns at once. */
  start(spec: TrainingSpec): { adapterId: number; finished: Promise<void> } {
    const model = this.deps.registry.get(spec.modelId);
    if (spec.method === 'lora' && model.kind !== 'checkpoint-folder') {
      throw new UserFacingError('invalid-argument', `"${model.name}" is an ONNX file; LoRA adapts the ViT that Mitobench compiles from a checkpoint folder. Train a linear probe on it instead.`);
    }
    patchParameters(model);
    refuseSlidesWithoutMpp(this.deps.library, spec.slideIds);
    const classNames = this.classNames(spec.classIds);
    if (spec.positiveClassId !== undefined && (spec.classIds.length !== 2 || !spec.classIds.includes(spec.positiveClassId))) {
      throw new UserFacingError('invalid-argument', 'A positive class applies to a two-class task and must be one of its two classes.');
    }
    const cells = trainingCells(this.deps.db, spec.slideIds, spec.classIds, spec.labels);
    const split = splitForTraining(cells, spec.validationFraction, spec.seed);
    this.refuseMissingClasses(split.train, classNames, 'training');
    const record: TrainingRecord = {
      modelName: model.name,
      modelHash: model.fileHash,
      labelSnapshotHash: labelSnapshotHash(cells, spec.classIds),
      classNames,
      trainCells: split.train.length,
      validationCells: split.validation.length,
      trainSlides: [...new Set(split.train.map((cell) => cell.slideId))],
      validationSlides: [...new Set(split.validation.map((cell) => cell.slideId))],
      seed: spec.seed,
      appVersion: this.deps.appVersion,
    };
    const name = spec.name ?? `${model.name} · ${spec.method === 'lora' ? `LoRA r${spec.lora.rank}` : 'linear probe'} · ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
    const adapter = this.store.create(spec, record, name);
    return { adapterId: adapter.id, finished: this.launch(adapter, model, split) };
  }

  /** Continues a cancelled or interrupted LoRA run from its last finished pseudo-epoch, on the same label snapshot. */
  resume(adapterId: number): { adapterId: number; finished: Promise<void> } {
    const adapter = this.store.get(adapterId);
    if (!adapter.resumable) throw new UserFacingError('invalid-argument', `"${adapter.name}" cannot resume: only a cancelled or interrupted LoRA run with a finished pseudo-epoch can.`);
    const model = this.deps.registry.get(adapter.modelId);
    const { spec } = adapter;
    const cells = trainingCells(this.deps.db, spec.slideIds, spec.classIds, spec.labels);
    if (labelSnapshotHash(cells, spec.classIds) !== adapter.record.labelSnapshotHash) {
      throw new UserFacingError('invalid-argument', `"${adapter.name}" cannot resume: the labels of its slides changed since it started (its label snapshot no longer matches). Train a new adapter.`);
    }
    this.store.setStatus(adapterId, 'training');
    return { adapterId, finished: this.launch(this.store.get(adapterId), model, splitForTraining(cells, spec.validationFraction, spec.seed)) };
  }

  private launch(adapter: AdapterInfo, model: ModelInfo, split: TrainingSplit): Promise<void> {
    const title = `Training: ${adapter.name}`;
    const running = this.deps.jobs.run('training', title, { adapterId: adapter.id }, async (job) => {
      const outcome = adapter.method === 'lora' ? await this.runLora(adapter, model, split, job) : await this.runLinearProbe(adapter, model, split, job);
      this.store.setStatus(adapter.id, outcome === 'cancelled' ? 'cancelled' : 'ready');
      return { adapterId: adapter.id, outcome };
    });
    return running.then(
      () => undefined,
      (error: unknown) => {
        this.store.setStatus(adapter.id, 'failed', error instanceof Error ? error.message : String(error));
      },
    );
  }

  private async runLinearProbe(adapter: AdapterInfo, model: ModelInfo, split: TrainingSplit, job: JobContext): Promise<'done' | 'cancelled'> {
    const { spec } = adapter;
    const extraction = await this.ensureEmbeddings(model, spec.slideIds, spec.provider, job);
    if (extraction === 'cancelled') return 'cancelled';
    const vectorsOf = this.cachedVectors(model);
    job.progress(1, 2, 'fitting the linear probe');
    const fit = await fitAndValidateProbe(
      this.deps.probeFitter ?? inThreadProbeFitter,
      { vectors: vectorsOf(split.train), labels: split.train.map((cell) => cell.label) },
      { vectors: vectorsOf(split.validation), labels: split.validation.map((cell) => cell.label) },
      spec.classIds.length,
      spec.inverseRegularisation,
    );
    this.store.recordEpoch(adapter.id, [fit.record], null, fit.blob);
    job.progress(2, 2);
    return 'done';
  }

  private async runLora(adapter: AdapterInfo, model: ModelInfo, split: TrainingSplit, job: JobContext): Promise<'done' | 'cancelled'> {
    return trainLora({
      adapter,
      model,
      split,
      library: this.deps.library,
      runtime: this.deps.runtime,
      store: this.store,
      augmentEntry: this.deps.augmentEntry,
      job,
    });
  }

  /** Predicts the labelled cells of slides, or listed positions, as a job; stores and returns the count. */
  async predict(adapterId: number, target: { slideIds?: readonly number[]; points?: readonly PatchCentre[] }): Promise<{ predicted: number; cancelled: boolean }> {
    const adapter = this.store.get(adapterId);
    if (adapter.status !== 'ready' && adapter.bestEpoch === null) throw new UserFacingError('invalid-argument', `"${adapter.name}" has not finished a pseudo-epoch yet: there is nothing to predict with.`);
    const model = this.deps.registry.get(adapter.modelId);
    const places: (PatchCentre & { annotationId: number | null })[] = [
      ...(target.points ?? []).map((point) => ({ ...point, annotationId: null })),
      ...(target.slideIds ? trainingCells(this.deps.db, target.slideIds, adapter.spec.classIds, adapter.spec.labels) : []).map((cell) => ({
        slideId: cell.slideId,
        x: cell.x,
        y: cell.y,
        annotationId: cell.annotationId,
      })),
    ];
    if (places.length === 0) throw new UserFacingError('invalid-argument', 'Nothing to predict: give slides with labelled cells of the adapter\'s classes, or positions.');
    refuseSlidesWithoutMpp(this.deps.library, [...new Set(places.map((place) => place.slideId))]);
    const { result } = await this.deps.jobs.run('training.predict', `Predict: ${adapter.name}`, { adapterId, count: places.length }, async (job) => {
      const probabilities = adapter.method === 'lora' ? await this.loraProbabilities(adapter, model, places, job) : await this.probeProbabilities(adapter, model, places, job);
      const done = probabilities.length;
      this.store.storePredictions(
        adapterId,
        places.slice(0, done).map((place, i) => ({ slideId: place.slideId, x: place.x, y: place.y, annotationId: place.annotationId, probabilities: probabilities[i]! })),
      );
      return { predicted: done, cancelled: done < places.length };
    });
    return result;
  }

  /**
   * LoRA as a study runs it (services/evaluation/study): each run trains in memory with the
   * reference's hyper-parameters (`settings`) on the run's split, keeps the best pseudo-epoch,
   * and returns the test cells' probabilities; nothing is stored as an adapter.
   */
  loraRunner(settings: LoraSettings = loraSettingsSchema.parse({})): LoraRunner {
    return { trainAndPredict: (request) => this.trainAndPredictLora(request, settings) };
  }

  private async trainAndPredictLora(request: LoraRequest, settings: LoraSettings): Promise<Float64Array> {
    const model = this.deps.registry.get(request.modelId);
    if (model.kind !== 'checkpoint-folder') {
      throw new UserFacingError('invalid-argument', `"${model.name}" is an ONNX file; LoRA adapts the ViT that Mitobench compiles from a checkpoint folder.`);
    }
    const asTraining = (cell: LoraCell): TrainingCell => ({ annotationId: cell.annotationId, slideId: cell.slideNumber, x: cell.x, y: cell.y, label: cell.classIndex });
    const train = request.trainCells.map(asTraining);
    const spec = trainingSpecSchema.parse({
      modelId: model.id,
      method: 'lora',
      slideIds: [...new Set(train.map((cell) => cell.slideId))],
      classIds: request.classIds,
      positiveClassId: request.classIds.length === 2 ? request.positiveClassId : undefined,
      seed: request.seed,
      lora: settings,
    });
    const at = new Date().toISOString();
    const adapter: AdapterInfo = {
      id: 0,
      name: `study run: ${model.name}, seed ${request.seed}`,
      modelId: model.id,
      method: 'lora',
      status: 'training',
      spec,
      record: { modelName: model.name, modelHash: model.fileHash, labelSnapshotHash: '', classNames: [], trainCells: train.length, validationCells: request.validationCells.length, trainSlides: spec.slideIds, validationSlides: [], seed: request.seed, appVersion: this.deps.appVersion },
      history: [],
      bestEpoch: null,
      resumable: false,
      error: null,
      createdAt: at,
      updatedAt: at,
    };
    let best: Uint8Array | null = null;
    let checkpoint: Uint8Array | null = null;
    const memory: LoraProgressStore = {
      checkpoint: () => checkpoint,
      recordEpoch: (_id, _history, latest, bestWeights) => {
        checkpoint = latest ?? checkpoint;
        best = bestWeights ?? best;
      },
      weights: () => best ?? new Uint8Array(0),
    };
    const job = { signal: request.signal, progress: () => undefined };
    const context = { adapter, model, library: this.deps.library, runtime: this.deps.runtime, store: memory };
    const outcome = await trainLora({ ...context, split: { train, validation: request.validationCells.map(asTraining) }, augmentEntry: this.deps.augmentEntry, job });
    if (outcome === 'cancelled' || !best) return new Float64Array(0);
    const session = await LoraSession.open(context);
    try {
      const probabilities = await session.predict(request.testCells.map(asTraining), job);
      return Float64Array.from(probabilities.flat());
    } finally {
      session.release();
    }
  }

  predictions(adapterId: number, slideId: number | undefined, limit: number): Prediction[] {
    this.store.get(adapterId);
    return this.store.predictions(adapterId, slideId, limit);
  }

  private async probeProbabilities(adapter: AdapterInfo, model: ModelInfo, places: readonly PatchCentre[], job: JobContext): Promise<number[][]> {
    const probe = decodeProbe(this.store.weights(adapter.id), `adapter "${adapter.name}"`);
    const classCount = adapter.spec.classIds.length;
    const out: number[][] = [];
    await this.embedPlaces(model, places, adapter.spec.provider, job, (vectors) => {
      const probabilities = predictProbabilities(probe, featureMatrix(vectors, 'the cells to predict'));
      for (let row = 0; row < vectors.length; row++) out.push(Array.from(probabilities.subarray(row * classCount, (row + 1) * classCount)));
    });
    return out;
  }

  private async loraProbabilities(adapter: AdapterInfo, model: ModelInfo, places: readonly PatchCentre[], job: JobContext): Promise<number[][]> {
    const session = await LoraSession.open({ adapter, model, library: this.deps.library, runtime: this.deps.runtime, store: this.store });
    try {
      return await session.predict(places, job);
    } finally {
      session.release();
    }
  }

  /** Embeds arbitrary places batch by batch (not cached: they need not be annotations). */
  private async embedPlaces(model: ModelInfo, places: readonly PatchCentre[], provider: TrainingSpec['provider'], job: JobContext, each: (vectors: Float32Array[]) => void): Promise<void> {
    const onnxPath = await this.deps.registry.variant(model, EMBEDDING_BATCH);
    const lease = await this.deps.runtime.acquire(onnxPath, provider);
    try {
      const session = workerEmbeddingSession(lease.session.worker, model, await staticBatchSize(onnxPath));
      const params = patchParameters(model);
      for (let first = 0; first < places.length && !job.signal.aborted; first += EMBEDDING_BATCH) {
        const batch = places.slice(first, first + EMBEDDING_BATCH);
        const { data, dims } = await session.embed(await preparePatches(this.deps.library, batch, params), batch.length);
        each(batch.map((_, i) => data.slice(i * dims, (i + 1) * dims)));
        job.progress(first + batch.length, places.length);
      }
    } finally {
      lease.release();
    }
  }

  /** Extracts the embeddings the cache lacks for the labelled cells of the slides. */
  private async ensureEmbeddings(model: ModelInfo, slideIds: readonly number[], provider: TrainingSpec['provider'], job: JobContext): Promise<'done' | 'cancelled'> {
    const onnxPath = await this.deps.registry.variant(model, EMBEDDING_BATCH);
    const lease = await this.deps.runtime.acquire(onnxPath, provider);
    try {
      const result = await extractEmbeddings({
        db: this.deps.db,
        library: this.deps.library,
        model,
        session: workerEmbeddingSession(lease.session.worker, model, await staticBatchSize(onnxPath)),
        slideIds,
        batchSize: EMBEDDING_BATCH,
        signal: job.signal,
        progress: (done, total) => job.progress(done, total, 'embedding the labelled cells'),
      });
      return result.cancelled ? 'cancelled' : 'done';
    } finally {
      lease.release();
    }
  }

  private cachedVectors(model: ModelInfo): (cells: readonly TrainingCell[]) => Float32Array[] {
    const cache = new EmbeddingCache(this.deps.db);
    const key = modelKey(model);
    const params = patchParameters(model);
    return (cells) => {
      const vectors = cache.vectors(key, params.key, cells);
      if (vectors.length !== cells.length) {
        throw new UserFacingError('internal', `${cells.length - vectors.length} of ${cells.length} cells have no cached embedding for "${model.name}" after extraction`);
      }
      return vectors.map((entry) => entry.vector);
    };
  }

  private classNames(classIds: readonly number[]): string[] {
    const rows = this.deps.db.prepare('SELECT id, name FROM classes').all() as { id: number; name: string }[];
    const names = new Map(rows.map((row) => [row.id, row.name]));
    return classIds.map((id) => {
      const name = names.get(id);
      if (name === undefined) throw new UserFacingError('not-found', `There is no class ${id} in this project.`);
      return name;
    });
  }

  private refuseMissingClasses(cells: readonly TrainingCell[], classNames: readonly string[], part: string): void {
    const counts = classNames.map((_, label) => cells.filter((cell) => cell.label === label).length);
    const missing = classNames.filter((_, label) => counts[label] === 0);
    if (missing.length > 0) {
      throw new UserFacingError(
        'invalid-argument',
        `The ${part} cells have no ${missing.map((name) => `"${name}"`).join(', ')} (counts: ${classNames.map((name, i) => `${name} ${counts[i]}`).join(', ')}); label more cells of each class or choose other slides.`,
      );
    }
  }
}
