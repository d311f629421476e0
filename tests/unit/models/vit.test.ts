import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphError } from '../../../src-main/services/graph/GraphError';
import { float32ToFloat16 } from '../../../src-main/services/graph/halfPrecision';
import { writeModel } from '../../../src-main/services/graph/writeModel';
import type { VitConfig } from '../../../src-main/services/models/vit';
import { VIT_DEFAULTS, buildVitGraph, tokenCount, vitParameterCount, vitParameters } from '../../../src-main/services/models/vit';
import { expectClose, makeTempDir, randomFloat32, removeTempDir, runGraph, seededRandom } from '../graph/ortHarness';
import { vitReference } from './vitReference';

const dir = makeTempDir('mitobench-vit-');
afterAll(() => removeTempDir(dir));

const tiny: VitConfig = { ...VIT_DEFAULTS, imageSize: 16, patchSize: 4, dim: 32, depth: 2, heads: 4, mlpRatio: 4, batchSize: 2 };

/** Random weights of a plausible scale: norms near 1, small linear weights. */
function randomWeights(config: VitConfig, seed: number): Map<string, Float32Array> {
  const random = seededRandom(seed);
  const weights = new Map<string, Float32Array>();
  for (const { name, shape } of vitParameters(config)) {
    const length = shape.reduce((product, dim) => product * dim, 1);
    const values = randomFloat32(length, random, name.endsWith('gamma') ? 0.5 : 0.2);
    if (/norm\d?\.weight$/.test(name)) for (let i = 0; i < length; i++) values[i]! += 1;
    if (name === 'cls_token' || name === 'reg_token' || name === 'pos_embed') for (let i = 0; i < length; i++) values[i]! *= 5;
    weights.set(name, values);
  }
  return weights;
}

async function expectMatchesReference(config: VitConfig, seed: number): Promise<void> {
  const weights = randomWeights(config, seed);
  const graph = buildVitGraph(config, ({ name }) => weights.get(name)!);
  const pixels = randomFloat32(config.batchSize * config.inChannels * config.imageSize ** 2, seededRandom(seed + 1), 2);
  const { tokens } = await runGraph(graph, { pixels }, dir);
  expect([...tokens!.dims]).toEqual([config.batchSize, tokenCount(config), config.dim]);
  expectClose(tokens!.data as Float32Array, vitReference(config, weights, pixels), 1e-4, 1e-4);
}

describe('ViT graph against a plain TypeScript forward', () => {
  it('tiny 2-block ViT: GELU MLP, class token, position embedding over all tokens', async () => {
    await expectMatchesReference(tiny, 10);
  });

  it('with layer scale and 4 register tokens (Virchow2-like: pos_embed covers class and registers)', async () => {
    await expectMatchesReference({ ...tiny, layerScale: true, registerTokens: 4, mlp: 'swiglu-packed', mlpRatio: 5.3375 }, 20);
  });

  it('with no_embed_class, 8 registers, SwiGLU and layer scale (UNI2-h-like)', async () => {
    await expectMatchesReference({ ...tiny, noEmbedClass: true, registerTokens: 8, mlp: 'swiglu-packed', mlpRatio: 2.66667 * 2, layerScale: true }, 30);
  });

  it('with 3 heads, patch 8, batch 1 and a non-square-friendly MLP ratio', async () => {
    await expectMatchesReference({ ...tiny, imageSize: 24, patchSize: 8, dim: 24, heads: 3, mlpRatio: 2.5, batchSize: 1, depth: 1 }, 40);
  });
});

describe('ViT in half precision', () => {
  it('float16 weights and compute, float32 input and output, within half-precision error of the float32 reference', async () => {
    const config: VitConfig = { ...tiny, dtype: 'float16', layerScale: true, registerTokens: 4 };
    const weights = randomWeights(config, 50);
    const graph = buildVitGraph(config, ({ name }) => float32ToFloat16(weights.get(name)!));
    expect(graph.inputs[0]!.dtype).toBe('float32');
    expect(graph.outputs[0]!.dtype).toBe('float32');
    expect(graph.initializers.every(({ tensor }) => tensor.dtype === 'float16')).toBe(true);
    const pixels = randomFloat32(config.batchSize * config.inChannels * config.imageSize ** 2, seededRandom(51), 2);
    const { tokens } = await runGraph(graph, { pixels }, dir);
    const expected = vitReference({ ...config, dtype: 'float32' }, weights, pixels);
    // Half floats keep 11 significant bits (≈ 5e-4 relative); two blocks of LayerNorm'd activations stay within 2e-2.
    expectClose(tokens!.data as Float32Array, expected, 2e-2, 2e-2);
  });
});

describe('ViT parameters and configuration', () => {
  it('uses timm names and layouts', () => {
    const uni2Like = { ...tiny, noEmbedClass: true, registerTokens: 8, mlp: 'swiglu-packed' as const, mlpRatio: 2.66667 * 2, layerScale: true };
    const shapes = new Map(vitParameters(uni2Like).map(({ name, shape }) => [name, shape]));
    expect(shapes.get('patch_embed.proj.weight')).toEqual([32, 3, 4, 4]);
    expect(shapes.get('reg_token')).toEqual([1, 8, 32]);
    expect(shapes.get('pos_embed')).toEqual([1, 16, 32]);
    expect(shapes.get('blocks.1.mlp.fc1.weight')).toEqual([170, 32]);
    expect(shapes.get('blocks.1.mlp.fc2.weight')).toEqual([32, 85]);
    expect(shapes.get('blocks.0.ls2.gamma')).toEqual([32]);
    expect(new Map(vitParameters(tiny).map(({ name, shape }) => [name, shape])).get('pos_embed')).toEqual([1, 17, 32]);
  });

  it('counts ViT-B/16 parameters as timm does (86.6 M with no head)', () => {
    const base: VitConfig = { ...VIT_DEFAULTS, imageSize: 224, patchSize: 16, dim: 768, depth: 12, heads: 12, mlpRatio: 4 };
    expect(vitParameterCount(base)).toBe(85_798_656);
  });

  it('refuses inconsistent configurations with every problem named', () => {
    expect(() => vitParameters({ ...tiny, imageSize: 18, heads: 5 })).toThrow(GraphError);
    expect(() => vitParameters({ ...tiny, imageSize: 18, heads: 5 })).toThrow(
      'ViT: imageSize 18 is not a multiple of patchSize 4; dim 32 is not divisible by heads 5',
    );
  });

  it('writes its weights to external data, streamed from a lazy source', async () => {
    const weights = randomWeights(tiny, 50);
    const loaded: string[] = [];
    const graph = buildVitGraph(tiny, ({ name }) => () => {
      loaded.push(name);
      return weights.get(name)!;
    });
    const modelPath = path.join(dir, 'tiny-vit.onnx');
    const written = await writeModel(graph, modelPath);
    expect(loaded.length).toBe(vitParameters(tiny).length);
    expect(written.externalBytes).toBeGreaterThan(4 * 0.9 * vitParameterCount(tiny));
    expect(fs.statSync(modelPath).size).toBeLessThan(written.externalBytes / 4);
  });
});
