import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIT_DEFAULTS } from '../../../../src-main/services/models/vit';
import type { VitWeights } from '../../../../src-main/services/models/vit';
import { AdamW, buildTrainStepGraph, gradientName, HEAD_BIAS, HEAD_WEIGHT, LABELS, LOGITS, LOSS, PIXELS, trainableParameters } from '../../../../src-main/services/training/lora';
import type { LoraModelSpec, ParameterSet } from '../../../../src-main/services/training/lora';
import type { GraphSession } from '../../graph/autodiff/gradientCheck';
import { expectClose, makeTempDir, removeTempDir } from '../../graph/ortHarness';
import { readBundle } from '../goldenBundle';
import { openSession } from './loraFixtures';
import type { Feeds } from './loraFixtures';

/**
 * Equality with peft + timm on tools/reference/training/make_lora_golden.py's bundles: a tiny
 * timm ViT with peft LoRA (r 4, alpha 8) on qkv, proj, fc1, fc2, a class-token head, one batch,
 * its loss, logits, gradients and the parameters after one torch Adam and AdamW step.
 */

interface StepMeta {
  config: { imageSize: number; patchSize: number; dim: number; depth: number; heads: number; mlpRatio: number; layerNormEps: number; classCount: number };
  lora: { r: number; alpha: number; dropout: number };
  trainable: { module: string; A: string; B: string }[];
  head: { weight: string; bias: string };
  adamw: { lr: number; betas: [number, number]; eps: number; weightDecay: number };
  adam: { lr: number; betas: [number, number]; eps: number; weightDecay: number };
}

const base = readBundle<unknown>('lora-base');
const step = readBundle<StepMeta>('lora-step');
const { config, lora, trainable, head } = step.meta;
const batchSize = step.entry('input.pixels').shape[0]!;
const spec: LoraModelSpec = {
  vit: { ...VIT_DEFAULTS, ...config, mlp: 'gelu', batchSize, dtype: 'float32' },
  lora: { rank: lora.r, alpha: lora.alpha, dropout: lora.dropout, targets: ['qkv', 'proj', 'fc1', 'fc2'] },
  head: { classCount: config.classCount, embedding: 'cls' },
};

/** peft's name of each of our trainable inputs (`blocks.0.attn.qkv.lora_A` → `base_model.model.….lora_A.default.weight`). */
const peftName = new Map<string, string>([
  ...trainable.flatMap(({ module, A, B }): [string, string][] => [
    [`${module}.lora_A`, A],
    [`${module}.lora_B`, B],
  ]),
  [HEAD_WEIGHT, head.weight],
  [HEAD_BIAS, head.bias],
]);

const weights: VitWeights = ({ name }) => Float32Array.from(base.tensor(name));
const f32 = (name: string): Float32Array => Float32Array.from(step.tensor(name));
const initial = (): ParameterSet => Object.fromEntries(trainableParameters(spec).map(({ name }) => [name, f32(`init.${peftName.get(name)}`)]));
const golden = (prefix: string): Record<string, Float32Array> => Object.fromEntries(trainableParameters(spec).map(({ name }) => [name, f32(`${prefix}.${peftName.get(name)}`)]));

const dir = makeTempDir('mitobench-lora-peft-');
let session: GraphSession;
let results: Record<string, ArrayLike<number>>;
const feeds = (parameters: ParameterSet): Feeds => ({ ...parameters, [PIXELS]: f32('input.pixels'), [LABELS]: BigInt64Array.from(step.tensor('input.labels'), BigInt) });

beforeAll(async () => {
  session = await openSession(buildTrainStepGraph(spec, weights), dir);
  results = (await session.run(feeds(initial()))) as Record<string, ArrayLike<number>>;
});
afterAll(async () => {
  await session.close();
  removeTempDir(dir);
});

describe('LoRA step equals peft’s', () => {
  it('maps every trainable tensor to a peft name', () => {
    expect(peftName.size).toBe(trainableParameters(spec).length);
  });

  it('with B = 0, gives timm’s base logits', async () => {
    const zeroB = Object.fromEntries(Object.entries(initial()).map(([name, values]) => [name, name.endsWith('.lora_B') ? new Float32Array(values.length) : values]));
    const atStart = await session.run(feeds(zeroB));
    expectClose(atStart[LOGITS] as Float32Array, step.tensor('base.logits'), 1e-5, 0);
  });

  it('loss and logits within 1e-4', () => {
    expectClose(results[LOSS]!, step.tensor('step.loss'), 1e-4, 0);
    expectClose(results[LOGITS]!, step.tensor('step.logits'), 1e-4, 0);
  });

  it('every LoRA and head gradient within 1e-4', () => {
    for (const { name } of trainableParameters(spec)) {
      const expected = step.tensor(`grad.${peftName.get(name)}`);
      expect(Math.max(...expected.map(Math.abs)), `grad.${name} is not trivially small`).toBeGreaterThan(1e-3);
      expectClose(results[gradientName(name)]!, expected, 1e-4, 0);
    }
  });

  it.each([
    ['adam', step.meta.adam],
    ['adamw', step.meta.adamw],
  ] as const)('parameters after one %s step within 1e-4 (from our gradients) and 1e-6 (from torch’s)', (prefix, settings) => {
    const options = { learningRate: settings.lr, beta1: settings.betas[0], beta2: settings.betas[1], epsilon: settings.eps, weightDecay: settings.weightDecay };
    const ours = initial();
    AdamW.create(ours, options).update(ours, Object.fromEntries(Object.keys(ours).map((name) => [name, results[gradientName(name)]!])));
    const fromTorchGradients = initial();
    AdamW.create(fromTorchGradients, options).update(fromTorchGradients, golden('grad'));
    const expected = golden(prefix);
    for (const name of Object.keys(ours)) {
      expectClose(ours[name]!, expected[name]!, 1e-4, 0);
      expectClose(fromTorchGradients[name]!, expected[name]!, 1e-6, 0);
    }
  });
});
