import { z } from 'zod';
import { executionProviderSchema, precisionSchema } from './modelsSchemas';
import { recordIdSchema } from './schemas';

/** Cell embeddings of a registered model, and their 2-D map (services/embeddings). */

export const extractResultSchema = z.object({
  total: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  embedded: z.number().int().nonnegative(),
  cancelled: z.boolean(),
  dims: z.number().int().positive().nullable(),
  inferenceMs: z.number().nonnegative(),
  waitMs: z.number().nonnegative(),
  wallMs: z.number().nonnegative(),
});
export type ExtractResult = z.infer<typeof extractResultSchema>;

export const embeddingStatusSchema = z.object({
  /** Labelled cells whose embedding is cached for this model and its patch parameters. */
  cached: z.number().int().nonnegative(),
  /** Labelled cells in the project. */
  total: z.number().int().nonnegative(),
  /** Model pixels of a patch, across and down. */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  umPerPixel: z.number().positive(),
  interpolation: z.string(),
});
export type EmbeddingStatus = z.infer<typeof embeddingStatusSchema>;

export const mapPointSchema = z.object({
  annotationId: recordIdSchema,
  slideId: recordIdSchema,
  slideName: z.string(),
  x: z.number(),
  y: z.number(),
  cellX: z.number(),
  cellY: z.number(),
  classId: z.number().int().nullable(),
  className: z.string().nullable(),
  tags: z.record(z.string(), z.string()),
  group: z.string(),
});
export type EmbeddingMapPoint = z.infer<typeof mapPointSchema>;

export const mapProjectionSchema = z.enum(['pca', 'umap']);
export type MapProjection = z.infer<typeof mapProjectionSchema>;

export const embeddingMapSchema = z.object({
  projection: mapProjectionSchema,
  points: z.array(mapPointSchema),
  groups: z.array(z.object({ name: z.string(), colour: z.string().nullable(), count: z.number().int().nonnegative() })),
  /** PCA: variance share of each axis; null for UMAP. */
  explained: z.tuple([z.number(), z.number()]).nullable(),
  tagKeys: z.array(z.string()),
});
export type EmbeddingMapData = z.infer<typeof embeddingMapSchema>;

export const embeddingsCallSchemas = {
  /** Embeds the labelled cells of the slides that the cache lacks; runs as a job (cancel keeps what is done). */
  'embeddings.extract': {
    input: z.object({
      modelId: recordIdSchema,
      slideIds: z.array(recordIdSchema).min(1).max(10_000),
      batchSize: z.number().int().min(1).max(256).optional(),
      /** float16 runs a half-precision build of a compiled checkpoint (GPU providers gain most). */
      precision: precisionSchema.optional(),
      /** Default: the fastest available provider. */
      provider: executionProviderSchema.optional(),
    }),
    output: extractResultSchema,
  },
  'embeddings.status': { input: z.object({ modelId: recordIdSchema, precision: precisionSchema.optional() }), output: embeddingStatusSchema },
  /** PCA (default) or UMAP of the cached embeddings; colourBy is 'class' or a slide tag key. */
  'embeddings.map': {
    input: z.object({ modelId: recordIdSchema, colourBy: z.string().trim().min(1).max(100), precision: precisionSchema.optional(), projection: mapProjectionSchema.optional() }),
    output: embeddingMapSchema,
  },
};
