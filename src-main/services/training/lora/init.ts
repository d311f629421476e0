import { derivedSeed, seededRandom } from '../../random/seededRandom';
import type { RandomSource } from '../../random/seededRandom';
import { HEAD_WEIGHT, trainableParameters } from './loraConfig';
import type { LoraModelSpec } from './loraConfig';

/** Trainable tensors by graph input name, float32 as the optimiser keeps them. */
export type ParameterSet = Record<string, Float32Array>;

/** Standard normal by Box–Muller (1 − u keeps the logarithm finite). */
function standardNormal(random: RandomSource): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const HEAD_WEIGHT_STD = 0.02;

/**
 * The starting point of LoRA training, as peft and timm set it up:
 * - A [rank, in]: peft's `kaiming_uniform_(a=√5)`, i.e. U(−b, b) with b = gain·√(3/fan_in),
 *   gain = √(2/(1 + a²)) = √(1/3), so b = 1/√in (nn.Linear's own default);
 * - B [out, rank]: zeros, so the adapted model starts as the base model;
 * - head weight: N(0, 0.02²), timm's `trunc_normal_(std=.02)` for a ViT's Linear layers (its
 *   truncation at ±2 is 100 σ away and never bites); head bias: zeros.
 * Each tensor draws from its own stream derived from `seed` and its name, so adding or removing
 * a target leaves the others' values unchanged.
 */
export function initialLoraParameters(spec: LoraModelSpec, seed: number): ParameterSet {
  const parameters: ParameterSet = {};
  for (const { name, shape } of trainableParameters(spec)) {
    const values = new Float32Array(shape.reduce((product, dim) => product * dim, 1));
    const random = seededRandom(derivedSeed(seed, name));
    if (name.endsWith('.lora_A')) {
      const bound = 1 / Math.sqrt(shape[1]!);
      for (let i = 0; i < values.length; i++) values[i] = (random() * 2 - 1) * bound;
    } else if (name === HEAD_WEIGHT) {
      for (let i = 0; i < values.length; i++) values[i] = HEAD_WEIGHT_STD * standardNormal(random);
    }
    parameters[name] = values;
  }
  return parameters;
}
