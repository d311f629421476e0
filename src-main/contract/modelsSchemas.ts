import { z } from 'zod';
import { pathSchema, recordIdSchema } from './schemas';

/** Registered foundation models and the execution providers that run them (services/models). */

export const executionProviderSchema = z.enum(['cpu', 'webgpu', 'cuda', 'dml', 'coreml']);
export type ExecutionProviderName = z.infer<typeof executionProviderSchema>;

/** What a compiled network computes in: float16 halves weight memory and is faster on GPU providers. */
export const precisionSchema = z.enum(['float32', 'float16']);
export type Precision = z.infer<typeof precisionSchema>;

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

/** A tensor of an ONNX file that may be chosen as the embedding (services/models/onnxEmbedder). */
export const embeddingCandidateSchema = z.object({
  name: z.string(),
  /** 'output' for a graph output; else the op type that makes it (GlobalAveragePool, Flatten, ReduceMean, Gemm, …). */
  source: z.string(),
  /** Declared shape: sizes, symbolic names, null where unknown; absent when undeclared. */
  shape: z.array(z.union([z.number(), z.string(), z.null()])).optional(),
});
export type EmbeddingCandidateInfo = z.infer<typeof embeddingCandidateSchema>;

export const modelsCallSchemas = {
  'models.list': { input: z.object({}), output: z.array(modelInfoSchema) },
  /** A checkpoint folder (config.json + weights) or an .onnx file; runs as a job. */
  'models.register': {
    input: z.object({
      path: pathSchema,
      /** ONNX files: a graph output, or any node's output tensor (then a derived copy exposes it). */
      embeddingOutput: z.string().min(1).max(1000).optional(),
      /** ONNX files: the shape fed at batch 1, overriding the model's symbolic dimensions. */
      inputShape: z.array(z.number().int().positive().max(65536)).min(1).max(8).optional(),
      mean: z.array(z.number().finite()).min(1).max(8).optional(),
      std: z.array(z.number().finite().positive()).min(1).max(8).optional(),
    }),
    output: modelInfoSchema,
  },
  /** An .onnx file's candidate embedding tensors, for the register form. */
  'models.embeddingCandidates': { input: z.object({ path: pathSchema }), output: z.array(embeddingCandidateSchema) },
  'models.remove': { input: z.object({ modelId: recordIdSchema }), output: z.object({}) },
  'models.providers': { input: z.object({}), output: z.array(providerStatusSchema) },
  'models.testRun': {
    input: z.object({ modelId: recordIdSchema, provider: executionProviderSchema.optional() }),
    output: testRunResultSchema,
  },
};
