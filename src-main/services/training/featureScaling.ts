import type { Objective } from './lbfgs';
import type { FeatureValues } from './logisticLoss';

/**
 * Preconditioning of the logistic objective by an exact change of variables. Raw embeddings have
 * offsets and per-feature scales that make L-BFGS crawl (hundreds of iterations on 768-d
 * features); optimising in the coordinates of standardised features fixes that. Unlike
 * standardising the data, this leaves the problem itself unchanged: with xⱼ' = (xⱼ − μⱼ)/σⱼ,
 *
 *     w·x + b = u·x' + v   where  wⱼ = uⱼ/σⱼ,  b = v − Σⱼ μⱼ·uⱼ/σⱼ,
 *
 * and the penalty stays ‖w‖², so the minimiser mapped back is scikit-learn's, not that of a
 * probe on standardised features. No standardised copy of the data is made.
 */
export interface FeatureScaling {
  readonly mean: Float64Array;
  /** Standard deviation per column; 1 for a constant column. */
  readonly scale: Float64Array;
}

export function featureScaling(features: FeatureValues, rows: number, dim: number): FeatureScaling {
  const mean = new Float64Array(dim);
  const scale = new Float64Array(dim);
  for (let i = 0; i < rows; i++) for (let j = 0; j < dim; j++) mean[j]! += features[i * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j]! /= rows;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < dim; j++) {
      const centred = features[i * dim + j]! - mean[j]!;
      scale[j]! += centred * centred;
    }
  }
  for (let j = 0; j < dim; j++) {
    const deviation = Math.sqrt(scale[j]! / rows);
    scale[j] = deviation > 0 ? deviation : 1;
  }
  return { mean, scale };
}

/** Maps scaled-coordinate parameters [U, v] to the problem's own [W, b] (same packing). */
export function toOriginalParameters(scaled: Float64Array, scaling: FeatureScaling, coefficientRows: number, into = new Float64Array(scaled.length)): Float64Array {
  const dim = scaling.mean.length;
  const biasOffset = coefficientRows * dim;
  for (let k = 0; k < coefficientRows; k++) {
    let shift = 0;
    for (let j = 0; j < dim; j++) {
      const weight = scaled[k * dim + j]! / scaling.scale[j]!;
      into[k * dim + j] = weight;
      shift += scaling.mean[j]! * weight;
    }
    into[biasOffset + k] = scaled[biasOffset + k]! - shift;
  }
  return into;
}

/** The objective as a function of the scaled-coordinate parameters, by the chain rule. */
export function inScaledCoordinates(objective: Objective, scaling: FeatureScaling, coefficientRows: number): Objective {
  const dim = scaling.mean.length;
  const biasOffset = coefficientRows * dim;
  let original = new Float64Array(0);
  let originalGradient = new Float64Array(0);
  return (scaled, gradient) => {
    if (original.length !== scaled.length) {
      original = new Float64Array(scaled.length);
      originalGradient = new Float64Array(scaled.length);
    }
    toOriginalParameters(scaled, scaling, coefficientRows, original);
    const value = objective(original, originalGradient);
    for (let k = 0; k < coefficientRows; k++) {
      const biasGradient = originalGradient[biasOffset + k]!;
      for (let j = 0; j < dim; j++) {
        gradient[k * dim + j] = (originalGradient[k * dim + j]! - scaling.mean[j]! * biasGradient) / scaling.scale[j]!;
      }
      gradient[biasOffset + k] = biasGradient;
    }
    return value;
  };
}
