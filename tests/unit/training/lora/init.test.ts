import { describe, expect, it } from 'vitest';
import { derivedSeed } from '../../../../src-main/services/random/seededRandom';
import { DropoutMaskSupply, drawDropoutMasks, dropoutKeep, dropoutMaskInputs, HEAD_BIAS, HEAD_WEIGHT, initialLoraParameters, trainableParameters } from '../../../../src-main/services/training/lora';
import { DROPOUT_LEVELS } from '../../../../src-main/services/training/lora/loraConfig';
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

  it('are the bytes of the defining loop (low then high 16 bits of each xorshift32 output), for any length', () => {
    // Batch 3 of 5 tokens (4 patches + class token): 15 rows, so 15·32 and 15·64 values, and batch 1 (5·32: not a multiple of 4 rows).
    for (const batchSize of [3, 1]) {
      const spec = tinySpec({ dropout: 0.1, vit: { batchSize } });
      const masks = drawDropoutMasks(spec, 9, 4);
      let state = derivedSeed(9, 'dropout 4') || 0x9e3779b9;
      const threshold = dropoutKeep(0.1) * DROPOUT_LEVELS;
      for (const { name, shape } of dropoutMaskInputs(spec)) {
        const expected = new Uint8Array(shape[0]! * shape[1]!);
        for (let i = 0; i < expected.length; i += 2) {
          state ^= state << 13;
          state ^= state >>> 17;
          state ^= state << 5;
          expected[i] = (state & 0xffff) < threshold ? 1 : 0;
          if (i + 1 < expected.length) expected[i + 1] = state >>> 16 < threshold ? 1 : 0;
        }
        expect(Array.from(masks[name]!), `${name} at batch ${batchSize}`).toEqual(Array.from(expected));
      }
    }
  });

  it('a training loop’s supply draws each step’s masks ahead, into the arrays given back, and the same masks as drawn alone', () => {
    const spec = tinySpec({ dropout: 0.2 });
    const supply = new DropoutMaskSupply(spec, 5);
    const first = supply.take(0);
    supply.drawAhead(1);
    supply.giveBack(first);
    const second = supply.take(1);
    supply.drawAhead(2);
    const third = supply.take(2);
    // Step 2 was drawn into step 0's arrays: no new allocation.
    for (const name of Object.keys(first)) expect(third[name]).toBe(first[name]);
    expect(second).toEqual(drawDropoutMasks(spec, 5, 1));
    expect(third).toEqual(drawDropoutMasks(spec, 5, 2));
    // A step not drawn ahead (after a resume) is drawn when taken.
    expect(supply.take(7)).toEqual(drawDropoutMasks(spec, 5, 7));
  });

  it('a train step adds its masks to the feeds, lends them to the worker, and draws the next step into the arrays given back', async () => {
    const spec = tinySpec({ dropout: 0.1 });
    const supply = new DropoutMaskSupply(spec, 9);
    const lentNames: string[][] = [];
    const lentArrays: Uint8Array[] = [];
    const worker = {
      runLending: async (feeds: Record<string, { data: unknown }>, _outputs: readonly string[], lent: readonly string[], transfer: readonly string[] = []) => {
        lentNames.push([...lent, ...transfer]);
        const returned = Object.fromEntries(lent.map((name) => [name, feeds[name]!.data as Uint8Array]));
        lentArrays.push(...Object.values(returned));
        return { outputs: { loss: { dims: [], data: Float32Array.of(lent.length) } }, returned };
      },
    };
    const maskNames = dropoutMaskInputs(spec).map(({ name }) => name);
    const first = await supply.runStep(worker, { pixels: { dims: [1], data: Float32Array.of(0) } }, ['loss'], 0, ['pixels']);
    expect(first.loss!.data[0]).toBe(maskNames.length);
    const feeds: Record<string, { dims: readonly number[]; data: Float32Array | Uint8Array }> = {};
    await supply.runStep(worker, feeds, ['loss'], 1);
    expect(lentNames).toEqual([[...maskNames, 'pixels'], maskNames]);
    expect(Object.fromEntries(maskNames.map((name) => [name, feeds[name]!.data]))).toEqual(drawDropoutMasks(spec, 9, 1));
    // Step 2 was drawn during step 1 into step 0's arrays, given back after step 0.
    expect(supply.take(2)[maskNames[0]!]).toBe(lentArrays[0]);
  });
});

