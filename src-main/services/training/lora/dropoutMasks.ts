import type { RandomSource } from '../../random/seededRandom';
import { dropoutMaskInputs } from './loraConfig';
import type { LoraModelSpec } from './loraConfig';

/**
 * One step's dropout masks, by graph input name: each element is 1 with probability
 * 1 − dropout, else 0. The graph applies the 1/keep scale (inverted dropout), so the caller
 * only draws; with a seeded `random` a step is reproducible (cancel and resume). Empty when
 * dropout is 0 (the train graph then has no mask inputs).
 */
export function drawDropoutMasks(spec: LoraModelSpec, random: RandomSource): Record<string, Float32Array | Float64Array> {
  const keep = 1 - spec.lora.dropout;
  const masks: Record<string, Float32Array | Float64Array> = {};
  for (const { name, shape } of dropoutMaskInputs(spec)) {
    const length = shape[0]! * shape[1]!;
    const mask = spec.vit.dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
    for (let i = 0; i < length; i++) mask[i] = random() < keep ? 1 : 0;
    masks[name] = mask;
  }
  return masks;
}
