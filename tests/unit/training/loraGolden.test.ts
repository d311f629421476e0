import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VIT_DEFAULTS, vitParameters } from '../../../src-main/services/models/vit';
import type { VitConfig } from '../../../src-main/services/models/vit';
import { byteSize, GOLDEN, readBundle } from './goldenBundle';
import type { GoldenBundle } from './goldenBundle';

/**
 * The peft-equality golden files (tools/reference/training/make_lora_golden.py) are well-formed
 * and name and shape every tensor as Mitobench's ViT does, so the LoRA step graph can be
 * checked against them.
 */

interface GoldenConfig {
  imageSize: number;
  patchSize: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  classCount: number;
}

interface StepMeta {
  config: GoldenConfig;
  lora: { r: number; alpha: number; scaling: number };
  trainable: { module: string; A: string; B: string }[];
  head: { weight: string; bias: string };
  adamw: { lr: number; eps: number; weightDecay: number };
  adam: { lr: number; eps: number; weightDecay: number };
}

const base = readBundle<{ config: GoldenConfig }>('lora-base');
const step = readBundle<StepMeta>('lora-step');
const { config: golden, lora, trainable, head } = step.meta;
const vitConfig: VitConfig = { ...VIT_DEFAULTS, ...golden, mlp: 'gelu' };
const parameters = vitParameters(vitConfig);
const shapeOf = (bundle: GoldenBundle<unknown>, name: string): number[] => bundle.entry(name).shape;
const trainableNames = [...trainable.flatMap(({ A, B }) => [A, B]), head.weight, head.bias];

describe('LoRA golden bundles', () => {
  it.each(['lora-base', 'lora-step'])('%s: tensors lie back to back and fill the .bin exactly', (name) => {
    const bundle = name === 'lora-base' ? base : step;
    let offset = 0;
    for (const entry of bundle.entries) {
      expect(entry.offset, entry.name).toBe(offset);
      expect(entry.length, entry.name).toBe(entry.shape.reduce((a, b) => a * b, 1));
      offset += byteSize(entry);
    }
    expect(fs.statSync(path.join(GOLDEN, `${name}.bin`)).size).toBe(offset);
  });

  it('holds every base weight vitParameters() names, with its shape, plus the head', () => {
    expect(base.meta.config).toEqual(golden);
    const expected = [...parameters.map(({ name, shape }) => [name, [...shape]]), ['head.weight', [golden.classCount, golden.dim]], ['head.bias', [golden.classCount]]];
    expect(base.entries.map(({ name, shape }) => [name, shape]).sort()).toEqual(expected.sort());
  });

  it('has LoRA A [r, in] and B [out, r] on qkv, proj, fc1 and fc2 of every block', () => {
    const modules = trainable.map(({ module }) => module).sort();
    const blocks = Array.from({ length: golden.depth }, (_, i) => [`blocks.${i}.attn.qkv`, `blocks.${i}.attn.proj`, `blocks.${i}.mlp.fc1`, `blocks.${i}.mlp.fc2`]);
    expect(modules).toEqual(blocks.flat().sort());
    expect(lora.scaling).toBe(lora.alpha / lora.r);
    for (const { module, A, B } of trainable) {
      const weight = parameters.find(({ name }) => name === `${module}.weight`);
      if (weight === undefined) throw new Error(`no base weight for ${module}`);
      const [out, inputs] = weight.shape;
      expect(shapeOf(step, `init.${A}`), A).toEqual([lora.r, inputs]);
      expect(shapeOf(step, `init.${B}`), B).toEqual([out, lora.r]);
    }
  });

  it('has the initial value, gradient and both optimiser results of every trainable tensor', () => {
    for (const name of trainableNames) {
      const shape = shapeOf(step, `init.${name}`);
      for (const prefix of ['grad', 'adamw', 'adam']) expect(shapeOf(step, `${prefix}.${name}`), `${prefix}.${name}`).toEqual(shape);
      expect(step.tensor(`grad.${name}`).some((value) => value !== 0), `grad.${name} is all zero`).toBe(true);
    }
    expect(step.tensor(`init.${head.weight}`)).toEqual(base.tensor('head.weight'));
  });

  it('has a batch, logits and a loss that is their mean cross-entropy', () => {
    const batch = shapeOf(step, 'input.pixels')[0]!;
    expect(shapeOf(step, 'input.pixels')).toEqual([batch, vitConfig.inChannels, golden.imageSize, golden.imageSize]);
    expect(shapeOf(step, 'base.logits')).toEqual([batch, golden.classCount]);
    expect(shapeOf(step, 'step.logits')).toEqual([batch, golden.classCount]);
    const labels = step.tensor('input.labels');
    const logits = step.tensor('step.logits');
    let loss = 0;
    labels.forEach((label, i) => {
      const row = logits.subarray(i * golden.classCount, (i + 1) * golden.classCount);
      const max = Math.max(...row);
      loss += max + Math.log(row.reduce((sum, z) => sum + Math.exp(z - max), 0)) - row[label]!;
    });
    expect(step.tensor('step.loss')[0]).toBeCloseTo(loss / batch, 5);
  });

  it('records first Adam/AdamW steps: p − lr·g/(|g| + eps), AdamW decaying p by lr·weightDecay first', () => {
    const { adam, adamw } = step.meta;
    for (const name of trainableNames) {
      const [initial, gradient] = [step.tensor(`init.${name}`), step.tensor(`grad.${name}`)];
      const [afterAdam, afterAdamw] = [step.tensor(`adam.${name}`), step.tensor(`adamw.${name}`)];
      initial.forEach((p, i) => {
        const g = gradient[i]!;
        expect(afterAdam[i]).toBeCloseTo(p - (adam.lr * g) / (Math.abs(g) + adam.eps), 6);
        expect(afterAdamw[i]).toBeCloseTo(p * (1 - adamw.lr * adamw.weightDecay) - (adamw.lr * g) / (Math.abs(g) + adamw.eps), 6);
      });
    }
  });
});
