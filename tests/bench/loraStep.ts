import path from 'node:path';
import { sharedWeightsOf, writeModel, writeModelSharingData } from '../../src-main/services/graph/writeModel';
import type { WorkerTensor } from '../../src-main/services/models/runtime/protocol';
import { VIT_DEFAULTS, vitParameters } from '../../src-main/services/models/vit';
import type { VitConfig } from '../../src-main/services/models/vit';
import { seededRandom } from '../../src-main/services/random/seededRandom';
import { LORA_DEFAULTS, buildInferenceGraph, buildTrainStepGraph, drawDropoutMasks, dropoutMaskInputs, trainableParameters } from '../../src-main/services/training/lora';
import type { LoraModelSpec } from '../../src-main/services/training/lora';

/*
 * The LoRA step that bench:train (CPU) and tools/gpu-check/trainStepCheck.ts (GPU) measure:
 * ViT-S/16- or ViT-B/16-shaped (224 px, random seeded weights), LoRA r = α = 16 with dropout 0.1
 * on qkv, proj, fc1 and fc2, a two-class head on the class token, static batch 16.
 */

export const LORA_SHAPES: Record<string, { label: string; dim: number; heads: number }> = {
  'vit-s': { label: 'ViT-S/16', dim: 384, heads: 6 },
  'vit-b': { label: 'ViT-B/16', dim: 768, heads: 12 },
};
export const LORA_BATCH = 16;

export function loraBenchSpec(name: string): LoraModelSpec {
  const { dim, heads } = LORA_SHAPES[name]!;
  const vit: VitConfig = { ...VIT_DEFAULTS, imageSize: 224, patchSize: 16, dim, depth: 12, heads, mlpRatio: 4, batchSize: LORA_BATCH };
  return { vit, lora: LORA_DEFAULTS, head: { classCount: 2, embedding: 'cls' } };
}

function uniform(length: number, random: () => number, scale: number): Float32Array {
  return Float32Array.from({ length }, () => (random() * 2 - 1) * scale);
}

/** The app's train-step graph and the inference graph over the same weights file, in `dir`. */
export async function writeLoraGraphs(dir: string, name: string, spec: LoraModelSpec): Promise<{ train: string; forward: string }> {
  const random = seededRandom(7);
  const weights = new Map<string, Float32Array>();
  for (const { name: parameter, shape } of vitParameters(spec.vit)) {
    const length = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 0;
    const values = fanIn ? uniform(length, random, Math.sqrt(3 / fanIn)) : new Float32Array(length);
    if (/norm\d?\.weight$/.test(parameter)) values.fill(1);
    weights.set(parameter, values);
  }
  const vitWeights = ({ name: parameter }: { name: string }) => weights.get(parameter)!;
  const train = path.join(dir, `${name}.train.onnx`);
  const trainGraph = buildTrainStepGraph(spec, vitWeights);
  const shared = sharedWeightsOf(await writeModel(trainGraph, train), trainGraph);
  const forward = path.join(dir, `${name}.forward.onnx`);
  await writeModelSharingData(buildInferenceGraph(spec, vitWeights, { adapter: 'separate' }), forward, shared);
  return { train, forward };
}

/**
 * One seeded batch: pixels, the LoRA matrices (B ≠ 0, so every gradient is non-zero) and the
 * head; for a train step also labels and (unless `withMasks` is false) step 0's dropout masks.
 */
export function loraFeeds(spec: LoraModelSpec, trainStep: boolean, withMasks = true): Record<string, WorkerTensor> {
  const random = seededRandom(11);
  const dims = [LORA_BATCH, 3, 224, 224];
  const feeds: Record<string, WorkerTensor> = { pixels: { dims, data: uniform(LORA_BATCH * 3 * 224 * 224, random, 2) } };
  for (const { name, shape } of trainableParameters(spec)) {
    const length = shape.reduce((a, b) => a * b, 1);
    feeds[name] = { dims: shape, data: uniform(length, random, name.endsWith('lora_B') ? 0.05 : 1 / Math.sqrt(shape[1] ?? 1)) };
  }
  if (!trainStep) return feeds;
  feeds.labels = { dims: [LORA_BATCH], data: BigInt64Array.from({ length: LORA_BATCH }, (_, i) => BigInt(i % 2)) };
  if (!withMasks) return feeds;
  const masks = drawDropoutMasks(spec, 3, 0);
  for (const { name, shape } of dropoutMaskInputs(spec)) feeds[name] = { dims: shape, data: masks[name]! };
  return feeds;
}
