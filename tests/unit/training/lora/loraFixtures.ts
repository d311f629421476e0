import type { TypedArray } from '../../../../src-main/services/graph/dtype';
import { Graph } from '../../../../src-main/services/graph/Graph';
import { VIT_DEFAULTS } from '../../../../src-main/services/models/vit';
import type { VitConfig, VitWeights } from '../../../../src-main/services/models/vit';
import { HEAD_BIAS, HEAD_WEIGHT, trainableParameters } from '../../../../src-main/services/training/lora';
import type { EmbeddingRule, LoraModelSpec } from '../../../../src-main/services/training/lora';
import { GraphSession } from '../../graph/autodiff/gradientCheck';
import { replayGraph } from '../../graph/graphReplay';
import { seededRandom } from '../../graph/ortHarness';

export type FloatArray = Float32Array | Float64Array;

/** The tiny ViT: 2 blocks of dim 32, LoRA on all four targets. */
export function tinySpec(overrides: { vit?: Partial<VitConfig>; rank?: number; alpha?: number; dropout?: number; embedding?: EmbeddingRule; classCount?: number } = {}): LoraModelSpec {
  const vit: VitConfig = { ...VIT_DEFAULTS, imageSize: 8, patchSize: 4, dim: 32, depth: 2, heads: 4, mlpRatio: 2, batchSize: 3, ...overrides.vit };
  return {
    vit,
    lora: { rank: overrides.rank ?? 4, alpha: overrides.alpha ?? 8, dropout: overrides.dropout ?? 0, targets: ['qkv', 'proj', 'fc1', 'fc2'] },
    head: { classCount: overrides.classCount ?? 3, embedding: overrides.embedding ?? 'cls' },
  };
}

export function floatArray(dtype: VitConfig['dtype'], values: ArrayLike<number>): FloatArray {
  return dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
}

function uniform(length: number, random: () => number, scale: number, offset = 0): number[] {
  return Array.from({ length }, () => offset + (random() * 2 - 1) * scale);
}

/** Seeded random backbone weights, norm scales near 1 so every block contributes. */
export function randomVitWeights(config: VitConfig, seed: number): VitWeights {
  const random = seededRandom(seed);
  const cache = new Map<string, FloatArray>();
  return ({ name, shape }) => {
    let values = cache.get(name);
    if (!values) {
      const length = shape.reduce((product, dim) => product * dim, 1);
      const isNormScale = /norm\d?\.weight$|gamma$/.test(name);
      values = floatArray(config.dtype, uniform(length, random, isNormScale ? 0.1 : 0.2, isNormScale ? 1 : 0));
      cache.set(name, values);
    }
    return values;
  };
}

/** Random values for every trainable input; `bScale` 0 gives peft's B = 0 start. */
export function randomTrainables(spec: LoraModelSpec, seed: number, bScale: number): Record<string, FloatArray> {
  const random = seededRandom(seed);
  const values: Record<string, FloatArray> = {};
  for (const { name, shape } of trainableParameters(spec)) {
    const length = shape.reduce((product, dim) => product * dim, 1);
    const scale = name.endsWith('.lora_B') ? bScale : name === HEAD_WEIGHT ? 0.5 : name === HEAD_BIAS ? 0.1 : 1 / Math.sqrt(shape[1]!);
    values[name] = floatArray(spec.vit.dtype, uniform(length, random, scale));
  }
  return values;
}

export function randomPixels(spec: LoraModelSpec, seed: number): FloatArray {
  const { batchSize, inChannels, imageSize } = spec.vit;
  return floatArray(spec.vit.dtype, uniform(batchSize * inChannels * imageSize ** 2, seededRandom(seed), 1));
}

export function labelsOf(values: readonly number[]): BigInt64Array {
  return BigInt64Array.from(values, (value) => BigInt(value));
}

let sessionCounter = 0;

/** Opens a session on `graph` (float64 graphs with their Conv in float32). */
export function openSession(graph: Graph, dir: string): Promise<GraphSession> {
  const runnable = graph.inputs.some((input) => input.dtype === 'float64') ? replayGraph(graph).graph : graph;
  return GraphSession.open(runnable, dir, `${graph.name}-${sessionCounter++}`);
}

export type Feeds = Record<string, TypedArray>;

/** Cross-entropy of one row of probabilities, averaged over the batch. */
export function meanCrossEntropy(probabilities: ArrayLike<number>, labels: readonly number[], classCount: number): number {
  return labels.reduce((sum, label, i) => sum - Math.log(probabilities[i * classCount + label]!), 0) / labels.length;
}
