import { afterAll, describe, expect, it } from 'vitest';
import { appendBackwardPass, softmaxCrossEntropy } from '../../../../src-main/services/graph/autodiff';
import type { TypedArray } from '../../../../src-main/services/graph/dtype';
import { Graph } from '../../../../src-main/services/graph/Graph';
import type { Tensor } from '../../../../src-main/services/graph/Graph';
import * as op from '../../../../src-main/services/graph/ops';
import { buildVitGraph, VIT_DEFAULTS } from '../../../../src-main/services/models/vit';
import type { VitConfig } from '../../../../src-main/services/models/vit';
import { replayGraph } from '../graphReplay';
import { makeTempDir, removeTempDir, seededRandom } from '../ortHarness';
import { directionalDifference, expectWithin, GraphSession } from './gradientCheck';
import type { Tolerance } from './gradientCheck';

const dir = makeTempDir('mitobench-vit-grad-');
afterAll(() => removeTempDir(dir));

const CLASSES = 3;

/** The built graph with the named initializers as trainable inputs (see replayGraph). */
function replayWithTrainableWeights(source: Graph, trainable: ReadonlySet<string>): { graph: Graph; tokens: Tensor; weights: ReadonlyMap<string, TypedArray> } {
  const { graph, mapped, weights } = replayGraph(source, trainable, `${source.name}_train`);
  return { graph, tokens: mapped.get(source.outputs[0]!)!, weights };
}

function randomArray(dtype: 'float32' | 'float64', length: number, random: () => number, scale: number, offset = 0): Float32Array | Float64Array {
  const values = Array.from({ length }, () => offset + (random() * 2 - 1) * scale);
  return dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
}

interface TrainStep {
  readonly session: GraphSession;
  readonly feeds: Record<string, TypedArray>;
  readonly gradients: Record<string, TypedArray>;
  readonly trainable: readonly string[];
}

/** A tiny ViT with a linear head on the class token and cross-entropy, gradients for the named weights. */
async function buildTrainStep(config: VitConfig & { readonly dtype: 'float32' | 'float64' }, blockWeights: readonly string[]): Promise<TrainStep> {
  const random = seededRandom(2024);
  const vit = buildVitGraph(config, ({ name, shape }) => {
    const length = shape.reduce((product, dim) => product * dim, 1);
    const isNormScale = /norm\d?\.weight$|gamma$/.test(name);
    return randomArray(config.dtype, length, random, isNormScale ? 0.1 : 0.2, isNormScale ? 1 : 0);
  });
  const { graph, tokens, weights } = replayWithTrainableWeights(vit, new Set(blockWeights));
  const headWeight = graph.input('head.weight', config.dtype, [CLASSES, config.dim]);
  const headBias = graph.input('head.bias', config.dtype, [CLASSES]);
  const labels = graph.input('labels', 'int64', [config.batchSize]);
  const classToken = op.gather(graph, tokens, 0, 1);
  const logits = op.gemm(graph, classToken, headWeight, headBias, { transB: true });
  const loss = softmaxCrossEntropy(graph, logits, labels);
  const trainableTensors = graph.inputs.filter((input) => input.name.startsWith('head.') || weights.has(input.name));
  const gradients = appendBackwardPass(graph, loss, trainableTensors);
  graph.output(loss, 'loss');
  gradients.forEach((gradient, i) => graph.output(gradient, `grad:${trainableTensors[i]!.name}`));

  const feeds: Record<string, TypedArray> = Object.fromEntries(weights);
  feeds.pixels = randomArray(config.dtype, config.batchSize * 3 * config.imageSize ** 2, random, 1);
  feeds['head.weight'] = randomArray(config.dtype, CLASSES * config.dim, random, 0.5);
  feeds['head.bias'] = randomArray(config.dtype, CLASSES, random, 0.1);
  feeds.labels = BigInt64Array.from({ length: config.batchSize }, (_, i) => BigInt(i % CLASSES));
  const session = await GraphSession.open(graph, dir, `vit-${config.dtype}-${config.mlp}`);
  const results = await session.run(feeds);
  const named = Object.fromEntries(trainableTensors.map((tensor) => [tensor.name, results[`grad:${tensor.name}`]!]));
  return { session, feeds, gradients: named, trainable: trainableTensors.map((tensor) => tensor.name) };
}

/** Compares g·v with the central difference along v for random directions v of every trainable weight. */
async function expectDirectionalDerivatives(step: TrainStep, tolerance: Tolerance, directions: number): Promise<number> {
  const random = seededRandom(99);
  let worst = 0;
  for (const name of step.trainable) {
    const gradient = step.gradients[name] as Float64Array | Float32Array;
    for (let d = 0; d < directions; d++) {
      const direction = Float64Array.from({ length: gradient.length }, () => random() * 2 - 1);
      let analytic = 0;
      for (let i = 0; i < gradient.length; i++) analytic += gradient[i]! * direction[i]!;
      const numeric = await directionalDifference(step.session, step.feeds, name, direction, tolerance.epsilon);
      expectWithin(analytic, numeric, tolerance, `directional derivative along ${name} #${d}`);
      worst = Math.max(worst, Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), 1e-12));
    }
  }
  return worst;
}

const tinyVit: VitConfig = {
  ...VIT_DEFAULTS,
  imageSize: 8,
  patchSize: 4,
  dim: 32,
  depth: 2,
  heads: 4,
  mlpRatio: 2,
  batchSize: 2,
  layerScale: true,
  registerTokens: 1,
};

const BLOCK_WEIGHTS = [
  'cls_token',
  'pos_embed',
  'blocks.0.attn.qkv.weight',
  'blocks.0.attn.proj.bias',
  'blocks.0.ls1.gamma',
  'blocks.1.norm2.weight',
  'blocks.1.mlp.fc1.weight',
  'blocks.1.mlp.fc2.weight',
  'norm.bias',
];

describe('whole tiny ViT (2 blocks, dim 32) against finite differences', () => {
  it('float64 with a SwiGLU MLP: relative error below 1e-6 for head and block weights', async () => {
    const step = await buildTrainStep({ ...tinyVit, dtype: 'float64', mlp: 'swiglu-packed' }, BLOCK_WEIGHTS);
    try {
      expect(step.trainable).toHaveLength(BLOCK_WEIGHTS.length + 2);
      const worst = await expectDirectionalDerivatives(step, { epsilon: 1e-5, relative: 1e-6, absolute: 1e-10 }, 2);
      expect(worst).toBeLessThan(1e-6);
    } finally {
      await step.session.close();
    }
  });

  it('float32 with the exact (Erf) GELU MLP, at float32 precision', async () => {
    const step = await buildTrainStep({ ...tinyVit, dtype: 'float32', mlp: 'gelu' }, ['blocks.0.mlp.fc1.weight', 'blocks.1.mlp.fc2.weight']);
    try {
      await expectDirectionalDerivatives(step, { epsilon: 3e-3, relative: 2e-2, absolute: 1e-4 }, 2);
    } finally {
      await step.session.close();
    }
  });
});
