import { z } from 'zod';
import { pathSchema, recordIdSchema } from './schemas';

/** Registered foundation models and the execution providers that run them (services/models). */

export const executionProviderSchema = z.enum(['cpu', 'webgpu', 'cuda', 'dml', 'coreml']);
export type ExecutionProviderName = z.infer<typeof executionProviderSchema>;

export const modelConfigSchema = z.object({
  /** "timm vit_base_patch16_224", or "ONNX file (producer)". */
  architecture: z.string(),
  inputName: z.string(),
  /** At batch 1; a test run feeds random values of this shape. */
  inputShape: z.array(z.number().int().positive()),
  imageSize: z.number().int().positive().nullable(),
  patchSize: z.number().int().positive().nullable(),
  dim: z.number().int().positive().nullable(),
  depth: z.number().int().positive().nullable(),
  heads: z.number().int().positive().nullable(),
  mlp: z.string().nullable(),
  mean: z.array(z.number()).nullable(),
  std: z.array(z.number()).nullable(),
  interpolation: z.string().nullable(),
  umPerPixel: z.number().nullable(),
  /** 'cls' or 'cls-mean-patches' for compiled checkpoints; null for ONNX files (the output is the embedding). */
  embeddingRule: z.string().nullable(),
  embeddingSize: z.number().int().positive().nullable(),
});
export type ModelConfig = z.infer<typeof modelConfigSchema>;

export const modelInfoSchema = z.object({
  id: recordIdSchema,
  name: z.string(),
  kind: z.enum(['checkpoint-folder', 'onnx-file']),
  sourcePath: z.string(),
  fileHash: z.string(),
  presetId: z.string().nullable(),
  config: modelConfigSchema,
  embeddingOutput: z.string(),
  parameterCount: z.number().int().nonnegative(),
  onnxPath: z.string(),
  createdAt: z.string(),
});
export type ModelInfo = z.infer<typeof modelInfoSchema>;

export const providerStatusSchema = z.object({
  provider: executionProviderSchema,
  available: z.boolean(),
  reason: z.string().optional(),
});
export type ProviderStatusInfo = z.infer<typeof providerStatusSchema>;

export const testRunResultSchema = z.object({
  provider: executionProviderSchema,
  msPerImage: z.number().nonnegative(),
  fellBackFrom: executionProviderSchema.optional(),
  reason: z.string().optional(),
});
export type TestRunResult = z.infer<typeof testRunResultSchema>;

export const modelsCallSchemas = {
  'models.list': { input: z.object({}), output: z.array(modelInfoSchema) },
  /** A checkpoint folder (config.json + weights) or an .onnx file; runs as a job. */
  'models.register': {
    input: z.object({ path: pathSchema, embeddingOutput: z.string().min(1).max(1000).optional() }),
    output: modelInfoSchema,
  },
  'models.remove': { input: z.object({ modelId: recordIdSchema }), output: z.object({}) },
  'models.providers': { input: z.object({}), output: z.array(providerStatusSchema) },
  'models.testRun': {
    input: z.object({ modelId: recordIdSchema, provider: executionProviderSchema.optional() }),
    output: testRunResultSchema,
  },
};
