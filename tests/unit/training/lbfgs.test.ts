import { describe, expect, it } from 'vitest';
import { minimizeLbfgs } from '../../../src-main/services/training/lbfgs';
import type { Objective } from '../../../src-main/services/training/lbfgs';

/** Rosenbrock's banana valley in n dimensions: minimum 0 at (1, …, 1), badly conditioned. */
const rosenbrock: Objective = (x, gradient) => {
  gradient.fill(0);
  let value = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1]! - x[i]! * x[i]!;
    const b = 1 - x[i]!;
    value += 100 * a * a + b * b;
    gradient[i]! += -400 * a * x[i]! - 2 * b;
    gradient[i + 1]! += 200 * a;
  }
  return value;
};

describe('L-BFGS with a strong Wolfe line search', () => {
  it('finds the minimum of the Rosenbrock function', () => {
    const result = minimizeLbfgs(rosenbrock, Float64Array.from([-1.2, 1, -1.2, 1, -1.2, 1]), { gradientTolerance: 1e-10, relativeDecreaseTolerance: 0 });
    expect(result.stopReason).toBe('gradient');
    for (const value of result.x) expect(value).toBeCloseTo(1, 8);
    expect(result.value).toBeLessThan(1e-16);
  });

  it('accepts only steps that satisfy the strong Wolfe conditions', () => {
    const dot = (a: Float64Array, b: Float64Array): number => a.reduce((sum, value, i) => sum + value * b[i]!, 0);
    // Running k and k + 1 iterations from the same start gives consecutive iterates x_k, x_{k+1}.
    const iterates = Array.from({ length: 25 }, (_, k) => minimizeLbfgs(rosenbrock, Float64Array.from([-1.2, 1]), { maxIterations: k }));
    for (let k = 0; k + 1 < iterates.length; k++) {
      const [now, next] = [iterates[k]!, iterates[k + 1]!];
      expect(now.iterations).toBe(k);
      const step = next.x.map((value, i) => value - now.x[i]!);
      const slope = dot(now.gradient, step);
      expect(slope).toBeLessThan(0);
      expect(next.value).toBeLessThanOrEqual(now.value + 1e-4 * slope);
      expect(Math.abs(dot(next.gradient, step))).toBeLessThanOrEqual(0.9 * Math.abs(slope));
    }
  });

  it('solves a badly scaled quadratic to the requested gradient', () => {
    const scales = [1e-3, 1, 1e3];
    const quadratic: Objective = (x, gradient) => {
      let value = 0;
      for (let i = 0; i < x.length; i++) {
        gradient[i] = scales[i]! * (x[i]! - i);
        value += 0.5 * scales[i]! * (x[i]! - i) ** 2;
      }
      return value;
    };
    const result = minimizeLbfgs(quadratic, new Float64Array(3), { gradientTolerance: 1e-12, relativeDecreaseTolerance: 0 });
    expect(result.stopReason).toBe('gradient');
    expect(Math.max(...result.gradient.map(Math.abs))).toBeLessThanOrEqual(1e-12);
    expect(result.x[1]).toBeCloseTo(1, 10);
    expect(result.x[2]).toBeCloseTo(2, 14);
  });

  it('refuses a starting point where the objective is not finite', () => {
    const broken: Objective = () => NaN;
    expect(() => minimizeLbfgs(broken, new Float64Array(2))).toThrow(/objective is NaN at the starting point/);
  });
});
