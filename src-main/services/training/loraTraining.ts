import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { UserFacingError } from '../../contract/errors';
import type { ModelInfo } from '../../contract/modelsSchemas';
import type { AdapterInfo, EpochRecord } from '../../contract/trainingSchemas';
import type { PatchCentre } from '../embeddings/EmbeddingExtractor';
import { preparePatches } from '../embeddings/EmbeddingExtractor';
import { patchParameters } from '../embeddings/patches';
import { balancedAccuracy } from '../evaluation/metrics';
import type { Graph } from '../graph/Graph';
import { writeModelSharingData } from '../graph/writeModel';
import type { JobContext } from '../jobs/JobRunner';
import { VitCheckpoint } from '../models/architecture/VitCheckpoint';
import { toVitConfig } from '../models/architecture/VitArchitecture';
import { OnnxModelFile } from '../models/checkpoints/OnnxModelFile';
import type { ModelRuntime, OpenSession } from '../models/runtime/ModelRuntime';
import type { WorkerTensor } from '../models/runtime/protocol';
import type { SessionLease } from '../models/runtime/SessionCache';
import type { WorkerEntry } from '../models/runtime/SessionWorker';
import type { VitWeights } from '../models/vit';
import type { SlideLibrary } from '../slides/SlideLibrary';
import type { AdapterStore } from './AdapterStore';
import { REFERENCE_AUGMENTATION, augmentationSourceSize } from './data/augment';
import { AugmentPool } from './data/AugmentPool';
import type { Triple } from './data/augmentProtocol';
import { slidePatchReader, TrainingBatches } from './data/TrainingBatches';
import type { TrainingCell } from './labelSnapshot';
import { evaluateProbabilities } from './linearProbeTraining';
import { AdamW, buildInferenceGraph, buildTrainStepGraph, DropoutMaskSupply, gradientName, initialLoraParameters, LABELS, LOSS, PIXELS, PROBABILITIES, trainableParameters } from './lora';
import type { AdamWState, LoraModelSpec, ParameterSet } from './lora';
import { decodeParameters, encodeParameters } from './parameterBlob';
import { learningRateAt } from './schedule';
import type { TrainingSplit } from './TrainingService';

/**
 * Where a LoRA run keeps its progress: the project's AdapterStore for adapters, or memory for a
 * study's runs (their predictions are what the study stores).
 */
export type LoraProgressStore = Pick<AdapterStore, 'checkpoint' | 'recordEpoch' | 'weights'>;

export interface LoraContext {
  readonly adapter: AdapterInfo;
  readonly model: ModelInfo;
  readonly split: TrainingSplit;
  readonly library: SlideLibrary;
  readonly runtime: ModelRuntime;
  readonly store: LoraProgressStore;
  readonly augmentEntry: WorkerEntry;
  readonly job: JobContext;
}

/** What a checkpoint keeps beside the parameters and the optimiser's moments. */
interface CheckpointExtra {
  /** Pseudo-epochs finished; training resumes with this one. */
  readonly epochsDone: number;
  readonly optimiser: Omit<AdamWState, 'firstMoments' | 'secondMoments'>;
  readonly parameterNames: readonly string[];
}

const FIRST_MOMENT = 'm:';
const SECOND_MOMENT = 'v:';

/** The LoRA classifier's shape for `model`: its ViT as the checkpoint defines it, at the training batch size. */
async function loraSpecOf(adapter: AdapterInfo, model: ModelInfo): Promise<LoraModelSpec> {
  const settings = adapter.spec.lora;
  const checkpoint = await VitCheckpoint.open(model.sourcePath).catch((error: unknown) => {
    throw new UserFacingError('not-found', `${model.sourcePath}: the checkpoint folder of "${model.name}" cannot be read (${(error as Error).message}); LoRA needs it to build its graphs`, model.sourcePath);
  });
  try {
    const vit = toVitConfig(checkpoint.inspected.architecture, { batchSize: settings.batchSize, imageSize: model.config.imageSize ?? undefined });
    return {
      vit,
      lora: { rank: settings.rank, alpha: settings.alpha, dropout: settings.dropout, targets: settings.targets },
      head: { classCount: adapter.spec.classIds.length, embedding: model.config.embeddingRule === 'cls-mean-patches' ? 'cls+mean' : 'cls' },
    };
  } finally {
    await checkpoint.close();
  }
}

/**
 * The train-step or inference graph of `spec`, written once beside the model's compiled file
 * and sharing its weights file (only the graph and small tensors are written), named by a hash
 * of the spec so each shape is built once.
 */
async function loraGraphFile(model: ModelInfo, spec: LoraModelSpec, kind: 'train' | 'inference'): Promise<string> {
  const key = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
  const target = path.join(path.dirname(model.onnxPath), `lora-${key}.${kind}.onnx`);
  if (await fs.access(target).then(() => true, () => false)) return target;
  const base = await OnnxModelFile.open(model.onnxPath);
  try {
    const weights: VitWeights = ({ name }) => async () => Float32Array.from((await base.read(name)) as ArrayLike<number>);
    const graph: Graph = kind === 'train' ? buildTrainStepGraph(spec, weights) : buildInferenceGraph(spec, weights, { adapter: 'separate' });
    await writeModelSharingData(graph, target, base.sharedWeights());
    return target;
  } finally {
    await base.close();
  }
}

function encodeCheckpoint(parameters: ParameterSet, optimiser: AdamW, epochsDone: number): Uint8Array {
  const { firstMoments, secondMoments, ...rest } = optimiser.state();
  const tensors: Record<string, Float32Array> = { ...parameters };
  for (const [name, values] of Object.entries(firstMoments)) tensors[FIRST_MOMENT + name] = values;
  for (const [name, values] of Object.entries(secondMoments)) tensors[SECOND_MOMENT + name] = values;
  return encodeParameters<CheckpointExtra>(tensors, { epochsDone, optimiser: rest, parameterNames: Object.keys(parameters) });
}

function decodeCheckpoint(blob: Uint8Array, what: string): { parameters: ParameterSet; optimiser: AdamW; epochsDone: number } {
  const { tensors, extra } = decodeParameters<CheckpointExtra>(blob, what);
  const parameters: ParameterSet = {};
  const firstMoments: Record<string, Float32Array> = {};
  const secondMoments: Record<string, Float32Array> = {};
  for (const name of extra.parameterNames) {
    parameters[name] = tensors[name]!;
    firstMoments[name] = tensors[FIRST_MOMENT + name]!;
    secondMoments[name] = tensors[SECOND_MOMENT + name]!;
  }
  return { parameters, optimiser: AdamW.restore({ ...extra.optimiser, firstMoments, secondMoments }), epochsDone: extra.epochsDone };
}

/**
 * A trained (or training) LoRA adapter ready to predict: its inference graph's session and its
 * parameters. The inference graph takes the LoRA matrices as inputs over the base weights'
 * shared file, so no weights are copied; a merged graph (mergeLora) computes the same.
 */
export class LoraSession {
  private constructor(
    private readonly lease: SessionLease<OpenSession>,
    private readonly spec: LoraModelSpec,
    private readonly parameters: ParameterSet,
    private readonly model: ModelInfo,
    private readonly library: SlideLibrary,
  ) {}

  /** `spec` when the caller has it already (reading it opens the checkpoint folder). */
  static async open(context: Pick<LoraContext, 'adapter' | 'model' | 'library' | 'runtime' | 'store'>, parameters?: ParameterSet, known?: LoraModelSpec): Promise<LoraSession> {
    const spec = known ?? (await loraSpecOf(context.adapter, context.model));
    const inferencePath = await loraGraphFile(context.model, spec, 'inference');
    const stored = parameters ?? decodeParameters<unknown>(context.store.weights(context.adapter.id), `adapter "${context.adapter.name}"`).tensors;
    const lease = await context.runtime.acquire(inferencePath, context.adapter.spec.provider);
    return new LoraSession(lease, spec, stored as ParameterSet, context.model, context.library);
  }

  get provider(): string {
    return this.lease.session.provider;
  }

  /** Class probabilities of one batch of NCHW pixels (padded to the static batch size). */
  async probabilities(pixels: Float32Array, parameters: ParameterSet = this.parameters): Promise<Float32Array> {
    const dims = [this.spec.vit.batchSize, this.spec.vit.inChannels, this.spec.vit.imageSize, this.spec.vit.imageSize];
    const feeds: Record<string, WorkerTensor> = { [PIXELS]: { dims, data: pixels } };
    for (const { name, shape } of trainableParameters(this.spec)) feeds[name] = { dims: shape, data: parameters[name]! };
    return (await this.lease.session.worker.runFloat32(feeds, [PROBABILITIES]))[PROBABILITIES]!.data;
  }

  /** Probabilities at centred, unaugmented patches around `places`, batch by batch; stops early when cancelled. */
  async predict(places: readonly PatchCentre[], job: Pick<JobContext, 'signal' | 'progress'>): Promise<number[][]> {
    const params = patchParameters(this.model);
    const batchSize = this.spec.vit.batchSize;
    const classCount = this.spec.head.classCount;
    const out: number[][] = [];
    for (let first = 0; first < places.length && !job.signal.aborted; first += batchSize) {
      const batch = places.slice(first, first + batchSize);
      const pixels = new Float32Array(batchSize * 3 * params.width * params.height);
      pixels.set(await preparePatches(this.library, batch, params));
      const probabilities = await this.probabilities(pixels);
      for (let row = 0; row < batch.length; row++) out.push(Array.from(probabilities.subarray(row * classCount, (row + 1) * classCount)));
      job.progress(first + batch.length, places.length);
    }
    return out;
  }

  release(): void {
    this.lease.release();
  }
}

/**
 * LoRA fine-tuning as the reference does it: pseudo-epochs of sampled, augmented patches (data/),
 * one generated train-step graph run per batch in a session worker (loss, logits, gradients of
 * the LoRA matrices and the head), Adam(W) in TypeScript, validation loss and balanced accuracy
 * after each pseudo-epoch, the best parameters kept, early stopping after `patience` epochs
 * without improvement. Each pseudo-epoch's batches derive from (seed, batch index) alone and
 * dropout masks from (seed, step), and the state is checkpointed after each pseudo-epoch, so a
 * cancelled run resumes on the same trajectory.
 */
export async function trainLora(context: LoraContext): Promise<'done' | 'cancelled'> {
  const { adapter, model, split, store, job } = context;
  const settings = adapter.spec.lora;
  const seed = adapter.spec.seed;
  const spec = await loraSpecOf(adapter, model);
  const params = patchParameters(model);
  if (params.width !== spec.vit.imageSize || params.height !== spec.vit.imageSize) {
    throw new UserFacingError('internal', `"${model.name}": patches are ${params.width} × ${params.height} but the ViT takes ${spec.vit.imageSize}`);
  }
  job.progress(0, null, 'building the train-step graph');
  const trainPath = await loraGraphFile(model, spec, 'train');
  const checkpoint = store.checkpoint(adapter.id);
  const restored = checkpoint ? decodeCheckpoint(checkpoint, `adapter "${adapter.name}"`) : null;
  const parameters = restored?.parameters ?? initialLoraParameters(spec, seed);
  const optimiser = restored?.optimiser ?? AdamW.create(parameters, { learningRate: settings.learningRate, weightDecay: settings.weightDecay });
  const history: EpochRecord[] = [...adapter.history];
  let bestLoss = history.reduce((best, record) => Math.min(best, record.validationLoss), Infinity);
  let epochsWithoutImprovement = history.length - 1 - history.findIndex((record) => record.validationLoss === bestLoss);
  if (!Number.isFinite(bestLoss)) epochsWithoutImprovement = 0;

  const stepsPerEpoch = Math.ceil(settings.patchesPerEpoch / settings.batchSize);
  const totalSteps = stepsPerEpoch * settings.maxEpochs;
  const sourceSize = settings.augment ? augmentationSourceSize(params.width, params.height).width : params.width;
  const pool = new AugmentPool(context.augmentEntry);
  let trainLease: SessionLease<OpenSession> | undefined;
  let validation: LoraSession | undefined;
  try {
    trainLease = await context.runtime.acquire(trainPath, adapter.spec.provider);
    validation = await LoraSession.open(context, parameters, spec);
    const batches = new TrainingBatches(
      {
        cells: split.train,
        batchSize: settings.batchSize,
        seed,
        patchSize: params.width,
        // The patch's side in level-0 pixels differs between slides scanned at different µm per pixel.
        patchSizePx: (slideId) => (params.width * params.umPerPixel) / context.library.get(slideId).mppX!,
        sourceSize,
        mean: params.mean as Triple,
        std: params.std as Triple,
        positiveLabel: adapter.spec.positiveClassId === undefined ? null : adapter.spec.classIds.indexOf(adapter.spec.positiveClassId),
        augmentation: settings.augment ? REFERENCE_AUGMENTATION : null,
        reader: slidePatchReader(context.library, sourceSize, params.umPerPixel, params.interpolation),
        pool,
      },
      (restored?.epochsDone ?? 0) * stepsPerEpoch,
    );
    const trainable = trainableParameters(spec);
    const outputNames = [LOSS, ...trainable.map(({ name }) => gradientName(name))];
    const masks = new DropoutMaskSupply(spec, seed);
    const dims = [settings.batchSize, spec.vit.inChannels, spec.vit.imageSize, spec.vit.imageSize];
    for (let epoch = restored?.epochsDone ?? 0; epoch < settings.maxEpochs; epoch++) {
      const started = performance.now();
      let lossSum = 0;
      for (let step = 0; step < stepsPerEpoch; step++) {
        if (job.signal.aborted) return 'cancelled';
        const globalStep = epoch * stepsPerEpoch + step;
        const batch = await batches.next();
        const feeds: Record<string, WorkerTensor> = { [PIXELS]: { dims, data: batch.pixels }, [LABELS]: { dims: [settings.batchSize], data: batch.labels } };
        for (const { name, shape } of trainable) feeds[name] = { dims: shape, data: parameters[name]! };
        // Pixels are moved to the worker and the masks (~10⁸ bytes for ViT-S) lent to it, not copied.
        const outputs = await masks.runStep(trainLease.session.worker, feeds, outputNames, globalStep, [PIXELS]);
        const gradients: Record<string, ArrayLike<number>> = {};
        for (const { name } of trainable) gradients[name] = outputs[gradientName(name)]!.data as Float32Array;
        optimiser.update(parameters, gradients, learningRateAt(settings.schedule, settings.learningRate, globalStep, totalSteps));
        lossSum += Number(outputs[LOSS]!.data[0]);
        job.progress(globalStep + 1, totalSteps, `pseudo-epoch ${epoch + 1}: training loss ${(lossSum / (step + 1)).toFixed(4)}`);
      }
      const trainSeconds = (performance.now() - started) / 1000;
      const scored = await validate(validation, batches, split.validation.length > 0 ? split.validation : split.train, spec.head.classCount, parameters, job);
      if (scored === null) return 'cancelled';
      const record: EpochRecord = {
        epoch,
        trainLoss: lossSum / stepsPerEpoch,
        validationLoss: scored.loss,
        validationBalancedAccuracy: scored.balancedAccuracy,
        samplesPerSecond: (stepsPerEpoch * settings.batchSize) / trainSeconds,
        provider: trainLease.session.provider,
        seconds: (performance.now() - started) / 1000,
      };
      history.push(record);
      const improved = record.validationLoss < bestLoss;
      if (improved) {
        bestLoss = record.validationLoss;
        epochsWithoutImprovement = 0;
      } else epochsWithoutImprovement++;
      store.recordEpoch(adapter.id, history, encodeCheckpoint(parameters, optimiser, epoch + 1), improved ? encodeParameters(parameters, {}) : null);
      if (epochsWithoutImprovement >= settings.patience) break;
    }
    return 'done';
  } finally {
    validation?.release();
    trainLease?.release();
    await pool.close();
  }
}

/** Validation loss and balanced accuracy on centred, unaugmented patches; null when cancelled. */
async function validate(
  session: LoraSession,
  batches: TrainingBatches,
  cells: readonly TrainingCell[],
  classCount: number,
  parameters: ParameterSet,
  job: JobContext,
): Promise<{ loss: number; balancedAccuracy: number | null } | null> {
  const probabilities: number[] = [];
  for await (const batch of batches.validationBatches(cells)) {
    if (job.signal.aborted) return null;
    const out = await session.probabilities(batch.pixels, parameters);
    probabilities.push(...out.subarray(0, batch.realCount * classCount));
  }
  const labels = cells.map((cell) => cell.label);
  const { loss, predicted } = evaluateProbabilities(probabilities, labels, classCount);
  return { loss, balancedAccuracy: new Set(labels).size > 1 ? balancedAccuracy(labels, predicted) : null };
}
