import { describe, expect, it } from 'vitest';
import { featureScaling, inScaledCoordinates, toOriginalParameters } from '../../../src-main/services/training/featureScaling';
import type { Objective } from '../../../src-main/services/training/lbfgs';
import { coefficientRows, meanObjective, parameterCount, totalObjective } from '../../../src-main/services/training/logisticLoss';
import type { LogisticProblem } from '../../../src-main/services/training/logisticLoss';

/** A small deterministic problem with offsets and uneven scales, like raw embeddings. */
function problem(classCount: number): LogisticProblem {
  const sampleCount = 12;
  const dim = 3;
  const features = Float64Array.from({ length: sampleCount * dim }, (_, i) => Math.sin(1.7 * i + 0.3) * (1 + (i % dim)) + (i % dim) - 1);
  const labels = Int32Array.from({ length: sampleCount }, (_, i) => (i * 7) % classCount);
  return { features, sampleCount, dim, labels, classCount, inverseRegularisation: 0.4 };
}

function someParameters(size: number): Float64Array {
  return Float64Array.from({ length: size }, (_, i) => 0.3 * Math.cos(2.1 * i + 1));
}

/** Max |analytic − central difference| over all coordinates. */
function gradientError(objective: Objective, at: Float64Array): number {
  const analytic = new Float64Array(at.length);
  objective(at, analytic);
  const scratch = new Float64Array(at.length);
  let worst = 0;
  for (let i = 0; i < at.length; i++) {
    const h = 1e-6;
    const plus = Float64Array.from(at);
    const minus = Float64Array.from(at);
    plus[i]! += h;
    minus[i]! -= h;
    const numeric = (objective(plus, scratch) - objective(minus, scratch)) / (2 * h);
    worst = Math.max(worst, Math.abs(numeric - analytic[i]!));
  }
  return worst;
}

describe.each([2, 3])('logistic objective with %i classes', (classCount) => {
  const p = problem(classCount);
  const at = someParameters(parameterCount(p));

  it('has the gradient of its value (central differences)', () => {
    expect(gradientError(meanObjective(p), at)).toBeLessThan(1e-8);
  });

  it('is the total objective divided by the sample count', () => {
    expect(meanObjective(p)(at, new Float64Array(at.length)) * p.sampleCount).toBeCloseTo(totalObjective(p, at), 12);
  });

  it('keeps value and gradient through the change to standardised coordinates', () => {
    const scaling = featureScaling(p.features, p.sampleCount, p.dim);
    const scaled = inScaledCoordinates(meanObjective(p), scaling, coefficientRows(classCount));
    expect(scaled(at, new Float64Array(at.length))).toBeCloseTo(meanObjective(p)(toOriginalParameters(at, scaling, coefficientRows(classCount)), new Float64Array(at.length)), 14);
    expect(gradientError(scaled, at)).toBeLessThan(1e-8);
  });
});

describe('feature scaling', () => {
  it('gives zero-mean unit-variance columns and leaves constant columns unscaled', () => {
    const features = Float64Array.from([1, 5, 3, 5, 5, 5]);
    const { mean, scale } = featureScaling(features, 3, 2);
    expect([...mean]).toEqual([3, 5]);
    expect(scale[0]).toBeCloseTo(Math.sqrt(8 / 3), 14);
    expect(scale[1]).toBe(1);
  });
});
