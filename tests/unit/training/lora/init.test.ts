import { describe, expect, it } from 'vitest';
import { drawDropoutMasks, dropoutKeep, dropoutMaskInputs, HEAD_BIAS, HEAD_WEIGHT, initialLoraParameters, trainableParameters } from '../../../../src-main/services/training/lora';
import { tinySpec } from './loraFixtures';

const mean = (values: Float32Array): number => values.reduce((sum, value) => sum + value, 0) / values.length;
const std = (values: Float32Array): number => Math.sqrt(values.reduce((sum, value) => sum + (value - mean(values)) ** 2, 0) / values.length);

describe('peft-style LoRA initialisation', () => {
  const spec = tinySpec({ rank: 16, vit: { dim: 64, mlpRatio: 4 }, classCount: 2 });
  const parameters = initialLoraParameters(spec, 42);

  it('draws A from U(−1/√in, 1/√in) (kaiming_uniform_, a = √5) and sets B to zero', () => {
    for (const { name, shape } of trainableParameters(spec)) {
      const values = parameters[name]!;
      expect(values, name).toHaveLength(shape.reduce((product, dim) => product * dim, 1));
      if (name.endsWith('.lora_B')) expect(values.every((value) => value === 0), name).toBe(true);
      if (!name.endsWith('.lora_A')) continue;
      const bound = 1 / Math.sqrt(shape[1]!);
      expect(Math.max(...values.map(Math.abs)), name).toBeLessThanOrEqual(bound);
      expect(Math.max(...values.map(Math.abs)), name).toBeGreaterThan(0.95 * bound);
      // A uniform variable on (−b, b) has standard deviation b/√3.
      expect(std(values) / (bound / Math.sqrt(3)), name).toBeCloseTo(1, 1);
    }
    expect(parameters['blocks.0.mlp.fc2.lora_A']).toHaveLength(16 * 256);
  });

  it('initialises the head as timm: weight N(0, 0.02²), bias zero', () => {
    expect(std(parameters[HEAD_WEIGHT]!)).toBeGreaterThan(0.017);
    expect(std(parameters[HEAD_WEIGHT]!)).toBeLessThan(0.023);
    expect(Array.from(parameters[HEAD_BIAS]!)).toEqual([0, 0]);
  });

  it('is reproducible by seed, and each tensor’s values do not depend on the other targets', () => {
    expect(initialLoraParameters(spec, 42)).toEqual(parameters);
    expect(initialLoraParameters(spec, 43)['blocks.0.attn.qkv.lora_A']).not.toEqual(parameters['blocks.0.attn.qkv.lora_A']);
    const fewerTargets = initialLoraParameters({ ...spec, lora: { ...spec.lora, targets: ['fc1'] } }, 42);
    expect(Object.keys(fewerTargets)).toEqual(['blocks.0.mlp.fc1.lora_A', 'blocks.0.mlp.fc1.lora_B', 'blocks.1.mlp.fc1.lora_A', 'blocks.1.mlp.fc1.lora_B', HEAD_WEIGHT, HEAD_BIAS]);
    expect(fewerTargets['blocks.1.mlp.fc1.lora_A']).toEqual(parameters['blocks.1.mlp.fc1.lora_A']);
  });
});

describe('dropout masks', () => {
  it('are 0/1 with the keep probability, one per target, reproducible by seed', () => {
    const spec = tinySpec({ dropout: 0.1, vit: { batchSize: 8 } });
    const masks = drawDropoutMasks(spec, 1, 0);
    expect(Object.keys(masks)).toEqual(dropoutMaskInputs(spec).map(({ name }) => name));
    const all = Object.values(masks).flatMap((mask) => Array.from(mask));
    expect(all.every((value) => value === 0 || value === 1)).toBe(true);
    // Binomial standard deviation √(0.9·0.1/n): within 5 of it.
    expect(Math.abs(all.reduce((sum, value) => sum + value, 0) / all.length - dropoutKeep(0.1))).toBeLessThan(5 * Math.sqrt(0.09 / all.length));
    expect(drawDropoutMasks(spec, 1, 0)).toEqual(masks);
    // Another step draws other masks: independent masks differ in 2·0.9·0.1 = 18 % of their elements.
    const other = Object.values(drawDropoutMasks(spec, 1, 1)).flatMap((mask) => Array.from(mask));
    expect(Math.abs(all.filter((value, i) => value !== other[i]).length / all.length - 0.18)).toBeLessThan(0.02);
    expect(drawDropoutMasks(tinySpec({ dropout: 0 }), 1, 0)).toEqual({});
    expect(dropoutKeep(0.1)).toBeCloseTo(0.9, 4);
  });
});
