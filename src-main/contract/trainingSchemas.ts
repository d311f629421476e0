import { z } from 'zod';
import { executionProviderSchema } from './modelsSchemas';
import { recordIdSchema } from './schemas';

/** Adapters trained on a registered model (services/training): linear probes and LoRA. */

export const trainingMethodSchema = z.enum(['linear-probe', 'lora']);
export type TrainingMethod = z.infer<typeof trainingMethodSchema>;

/** Whose labels train it: agreed consensus of the people (disagreements left out), or one annotator's votes. */
export const labelSourceSchema = z.union([z.object({ kind: z.literal('consensus') }), z.object({ kind: z.literal('annotator'), annotatorId: recordIdSchema })]);
export type LabelSource = z.infer<typeof labelSourceSchema>;

/** The reference code's defaults (the issue): r = α = 16, dropout 0.1 on qkv/proj/fc1/fc2, Adam 1e-4, batch 16, pseudo-epochs of 1,280 patches, patience 10. */
export const loraSettingsSchema = z.object({
  rank: z.number().int().min(1).max(256).default(16),
  alpha: z.number().positive().max(1024).default(16),
  dropout: z.number().min(0).max(0.9).default(0.1),
  targets: z.array(z.enum(['qkv', 'proj', 'fc1', 'fc2'])).min(1).default(['qkv', 'proj', 'fc1', 'fc2']),
  learningRate: z.number().positive().max(1).default(1e-4),
  weightDecay: z.number().min(0).max(1).default(0),
  batchSize: z.number().int().min(1).max(256).default(16),
  patchesPerEpoch: z.number().int().min(1).max(1_000_000).default(1280),
  maxEpochs: z.number().int().min(1).max(10_000).default(100),
  patience: z.number().int().min(1).max(1000).default(10),
  schedule: z.enum(['constant', 'one-cycle']).default('constant'),
  /** Augmentation of the training patches (flips, rotation, colour jitter 0.1, blur). */
  augment: z.boolean().default(true),
});
export type LoraSettings = z.infer<typeof loraSettingsSchema>;

export const trainingSpecSchema = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  modelId: recordIdSchema,
  method: trainingMethodSchema,
  slideIds: z.array(recordIdSchema).min(1).max(10_000),
  /** The classes to tell apart, in output order (at least two). */
  classIds: z.array(recordIdSchema).min(2).max(64),
  /** Binary tasks: a patch is positive when any training cell of this class lies in it (the reference's rule). */
  positiveClassId: recordIdSchema.optional(),
  labels: labelSourceSchema.default({ kind: 'consensus' }),
  /** Share of slides (of cells, when only one slide is chosen) kept for validation. */
  validationFraction: z.number().min(0.05).max(0.5).default(0.2),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  /** Linear probe: inverse L2 strength; default dim × classes / 100 (UNI's convention). */
  inverseRegularisation: z.number().positive().optional(),
  lora: loraSettingsSchema.default(loraSettingsSchema.parse({})),
  /** Default: the fastest available provider. */
  provider: executionProviderSchema.optional(),
});
export type TrainingSpecInput = z.input<typeof trainingSpecSchema>;
export type TrainingSpec = z.output<typeof trainingSpecSchema>;

export const epochRecordSchema = z.object({
  epoch: z.number().int().nonnegative(),
  trainLoss: z.number().nullable(),
  validationLoss: z.number(),
  validationBalancedAccuracy: z.number().nullable(),
  samplesPerSecond: z.number().nullable(),
  provider: z.string(),
  seconds: z.number().nonnegative(),
});
export type EpochRecord = z.infer<typeof epochRecordSchema>;

/** Everything needed to reproduce an adapter. */
export const trainingRecordSchema = z.object({
  modelName: z.string(),
  modelHash: z.string(),
  labelSnapshotHash: z.string(),
  classNames: z.array(z.string()),
  trainCells: z.number().int().nonnegative(),
  validationCells: z.number().int().nonnegative(),
  trainSlides: z.array(recordIdSchema),
  validationSlides: z.array(recordIdSchema),
  seed: z.number().int(),
  appVersion: z.string(),
});
export type TrainingRecord = z.infer<typeof trainingRecordSchema>;

export const adapterInfoSchema = z.object({
  id: recordIdSchema,
  name: z.string(),
  modelId: recordIdSchema,
  method: trainingMethodSchema,
  status: z.enum(['training', 'ready', 'cancelled', 'failed']),
  spec: trainingSpecSchema,
  record: trainingRecordSchema,
  history: z.array(epochRecordSchema),
  /** The epoch whose parameters were kept (lowest validation loss); null before the first. */
  bestEpoch: z.number().int().nullable(),
  /** Whether a checkpoint lets a cancelled or interrupted run resume. */
  resumable: z.boolean(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AdapterInfo = z.infer<typeof adapterInfoSchema>;

export const predictionSchema = z.object({
  slideId: recordIdSchema,
  x: z.number(),
  y: z.number(),
  annotationId: recordIdSchema.nullable(),
  probabilities: z.array(z.number()),
  /** Index into the adapter's classes of the most probable one. */
  predicted: z.number().int().nonnegative(),
});
export type Prediction = z.infer<typeof predictionSchema>;

export const trainingCallSchemas = {
  /** Starts training as a job and returns at once; progress arrives through jobs and training.get. */
  'training.start': { input: trainingSpecSchema, output: z.object({ adapterId: recordIdSchema }) },
  /** Continues a cancelled or interrupted LoRA run from its last finished pseudo-epoch. */
  'training.resume': { input: z.object({ adapterId: recordIdSchema }), output: z.object({ adapterId: recordIdSchema }) },
  'training.list': { input: z.object({}), output: z.array(adapterInfoSchema) },
  'training.get': { input: z.object({ adapterId: recordIdSchema }), output: adapterInfoSchema },
  'training.remove': { input: z.object({ adapterId: recordIdSchema }), output: z.object({}) },
  /**
   * Predicts, as a job, either the labelled cells of the slides (`slideIds`) or listed positions
   * (`points`, slide pixels); the result is also stored with the adapter.
   */
  'training.predict': {
    input: z.object({
      adapterId: recordIdSchema,
      slideIds: z.array(recordIdSchema).max(10_000).optional(),
      points: z.array(z.object({ slideId: recordIdSchema, x: z.number(), y: z.number() })).max(1_000_000).optional(),
    }),
    output: z.object({ predicted: z.number().int().nonnegative(), cancelled: z.boolean() }),
  },
  'training.predictions': {
    input: z.object({ adapterId: recordIdSchema, slideId: recordIdSchema.optional(), limit: z.number().int().min(1).max(100_000).default(1000) }),
    output: z.array(predictionSchema),
  },
};
