import type { TypedArray } from '../../graph/dtype';
import type { VitWeights } from '../../models/vit';
import { TrainingError } from '../TrainingError';
import { loraTargets } from './loraConfig';
import type { LoraModelSpec } from './loraConfig';

type FloatArray = Float32Array | Float64Array;

/** LoRA matrices by graph input name (`blocks.0.attn.qkv.lora_A`, …). */
export type LoraMatrices = Readonly<Record<string, FloatArray>>;

/**
 * W + (alpha/rank)·B·A for W [out, in], B [out, rank], A [rank, in], in W's precision: the
 * adapted layer as one plain linear layer, so prediction costs what the base model costs.
 */
export function mergeLora<T extends FloatArray>(weight: T, a: FloatArray, b: FloatArray, alpha: number, rank: number): T {
  if (!Number.isInteger(rank) || rank < 1 || a.length % rank !== 0 || b.length % rank !== 0) {
    throw new TrainingError('LoRA merge', `rank ${rank} does not divide A (${a.length} values) and B (${b.length} values)`);
  }
  const inFeatures = a.length / rank;
  const outFeatures = b.length / rank;
  if (weight.length !== inFeatures * outFeatures) {
    throw new TrainingError('LoRA merge', `W has ${weight.length} values, A and B of rank ${rank} need [${outFeatures}, ${inFeatures}]`);
  }
  const scale = alpha / rank;
  const merged = weight.slice() as T;
  for (let o = 0; o < outFeatures; o++) {
    for (let k = 0; k < rank; k++) {
      const factor = scale * b[o * rank + k]!;
      if (factor === 0) continue;
      const row = o * inFeatures;
      const aRow = k * inFeatures;
      for (let i = 0; i < inFeatures; i++) merged[row + i]! += factor * a[aRow + i]!;
    }
  }
  return merged;
}

/**
 * The base weights with every LoRA target's weight merged, for `buildInferenceGraph` with
 * adapter 'merged'. Merged weights stay lazy when the base weights are (read on graph write).
 */
export function mergedVitWeights(spec: LoraModelSpec, weights: VitWeights, matrices: LoraMatrices): VitWeights {
  const byWeight = new Map(loraTargets(spec).map((target) => [`${target.module}.weight`, target]));
  for (const target of byWeight.values()) {
    for (const name of [target.aName, target.bName]) if (!matrices[name]) throw new TrainingError('LoRA merge', `no values for ${name}`);
  }
  const { alpha, rank } = spec.lora;
  return (parameter) => {
    const target = byWeight.get(parameter.name);
    if (!target) return weights(parameter);
    const merge = (base: TypedArray): TypedArray => {
      if (!(base instanceof Float32Array || base instanceof Float64Array)) throw new TrainingError('LoRA merge', `${parameter.name} is not float32 or float64`);
      return mergeLora(base, matrices[target.aName]!, matrices[target.bName]!, alpha, rank);
    };
    const data = weights(parameter);
    return typeof data === 'function' ? async () => merge(await data()) : merge(data);
  };
}
