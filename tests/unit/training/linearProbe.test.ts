import { describe, expect, it } from 'vitest';
import { defaultInverseRegularisation, fitLinearProbe, logisticProblem, predictProbabilities, probeParameters } from '../../../src-main/services/training/linearProbe';
import type { FeatureMatrix } from '../../../src-main/services/training/linearProbe';
import { totalObjective } from '../../../src-main/services/training/logisticLoss';
import { TrainingError } from '../../../src-main/services/training/TrainingError';
import { readBundle } from './goldenBundle';

interface ProbeMeta {
  samples: number;
  dim: number;
  classCount: number;
  C: number;
  objective: number;
}

function maxAbsDifference(a: Float64Array, b: Float64Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i]!)), 0);
}

describe.each(['binary', '3class'])('linear probe against scikit-learn (%s)', (name) => {
  const golden = readBundle<ProbeMeta>(`linear-probe-${name}`);
  const { samples, dim, classCount, C } = golden.meta;
  const features: FeatureMatrix = { values: golden.tensor('features'), rows: samples, columns: dim };
  const labels = golden.tensor('labels');
  const sklearn = { weights: golden.tensor('coef'), bias: golden.tensor('intercept') };
  const probe = fitLinearProbe(features, labels, { gradientTolerance: 1e-10, maxIterations: 10_000 });

  it('uses the UNI/FMC default C = dim × classes / 100, as the golden fit did', () => {
    expect(probe.inverseRegularisation).toBeCloseTo(C, 12);
    expect(defaultInverseRegularisation(dim, classCount)).toBeCloseTo(C, 12);
  });

  it('computes the same objective as scikit-learn at its solution', () => {
    const problem = logisticProblem(features, labels);
    expect(totalObjective(problem, probeParameters(sklearn))).toBeCloseTo(golden.meta.objective, 9);
  });

  it('reaches an objective no worse than scikit-learn’s (1e-8 relative)', () => {
    const problem = logisticProblem(features, labels);
    const ours = totalObjective(problem, probeParameters(probe));
    expect(probe.stopReason).not.toBe('max-iterations');
    expect(ours).toBeLessThanOrEqual(golden.meta.objective * (1 + 1e-8));
  });

  it('predicts scikit-learn’s probabilities within 1e-4', () => {
    const ours = predictProbabilities(probe, features);
    expect(maxAbsDifference(ours, golden.tensor('proba'))).toBeLessThan(1e-4);
  });

  it('finds scikit-learn’s coefficients in its parameterisation', () => {
    // f is (1/C)-strongly convex in W, so f(W) − f* ≥ ‖W − W*‖² / (2C). Both solvers end within
    // ~1e-12 relative (≈ 2e-10 absolute here) of f*, so ‖ΔW‖ ≤ √(2C · 2e-10) ≈ 2e-5. The
    // unpenalised intercept is pinned by the data; measured differences are ~3e-6 for both.
    expect(probe.weights.length).toBe(sklearn.weights.length);
    expect(maxAbsDifference(probe.weights, sklearn.weights)).toBeLessThan(2e-5);
    expect(maxAbsDifference(probe.bias, sklearn.bias)).toBeLessThan(2e-5);
  });
});

describe('linear probe input checks', () => {
  const features: FeatureMatrix = { values: new Float64Array([0, 1, 1, 0, 2, 2, 3, 1]), rows: 4, columns: 2 };
  const fit = (overrides: Partial<FeatureMatrix>, labels: ArrayLike<number>, classCount?: number): (() => unknown) => () =>
    fitLinearProbe({ ...features, ...overrides }, labels, { classCount });

  it('names the row and column of a NaN feature', () => {
    const values = Float64Array.from(features.values);
    values[5] = NaN;
    expect(fit({ values }, [0, 1, 0, 1])).toThrow(new TrainingError('linear probe', 'feature at row 2, column 1 is NaN'));
  });

  it('refuses labels of one class only', () => {
    expect(fit({}, [1, 1, 1, 1])).toThrow(/at least two classes, got only class 1/);
  });

  it('refuses label and feature counts that differ', () => {
    expect(fit({}, [0, 1, 0])).toThrow(/got 3 labels for 4 feature rows/);
  });

  it('refuses a feature buffer that is not rows × columns', () => {
    expect(fit({ rows: 3 }, [0, 1, 0])).toThrow(/features hold 8 values, expected 3 rows × 2 columns = 6/);
  });

  it('refuses a class without samples and labels that are not class indices', () => {
    expect(fit({}, [0, 2, 0, 2])).toThrow(/class 1 of 3 has no samples/);
    expect(fit({}, [0, 1, 0.5, 1])).toThrow(/label of row 2 is 0.5/);
    expect(fit({}, [0, 1, 0, 1], 1)).toThrow(/label 1 is out of range for 1 classes/);
  });

  it('refuses a non-positive C and prediction on features of another width', () => {
    expect(() => fitLinearProbe(features, [0, 1, 0, 1], { inverseRegularisation: 0 })).toThrow(/C must be a positive number, got 0/);
    const probe = fitLinearProbe(features, [0, 1, 0, 1]);
    expect(() => predictProbabilities(probe, { values: new Float64Array(3), rows: 1, columns: 3 })).toThrow(/features have 3 columns, the probe was fitted on 2/);
  });
});
