/**
 * Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.4 and 7.5) with a
 * line search that satisfies the strong Wolfe conditions (Alg. 3.5 and 3.6, cubic interpolation in
 * the zoom). Pure float64, no allocation inside the iteration loop beyond the trial point.
 *
 * The strong Wolfe curvature condition guarantees sᵀy > 0, so every stored pair keeps the inverse
 * Hessian approximation positive definite and each direction is a descent direction.
 */

/** Writes ∇f(x) into `gradient` and returns f(x). */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export interface LbfgsOptions {
  /** Stored correction pairs (scipy's `maxcor`, 10 by default there and here). */
  readonly memory?: number;
  readonly maxIterations?: number;
  /** Stop when max |∂f/∂xᵢ| ≤ this (scipy's `gtol`). */
  readonly gradientTolerance?: number;
  /** Stop when (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ this (scipy's `ftol`). */
  readonly relativeDecreaseTolerance?: number;
  /** Sufficient-decrease constant c₁ of the Wolfe conditions. */
  readonly c1?: number;
  /** Curvature constant c₂ (0.9 is the usual choice for quasi-Newton methods). */
  readonly c2?: number;
  readonly maxLineSearchEvaluations?: number;
}

export type LbfgsStopReason = 'gradient' | 'relative-decrease' | 'max-iterations' | 'line-search';

export interface LbfgsResult {
  readonly x: Float64Array;
  readonly value: number;
  readonly gradient: Float64Array;
  readonly iterations: number;
  readonly evaluations: number;
  readonly stopReason: LbfgsStopReason;
}

const DEFAULTS: Required<LbfgsOptions> = {
  memory: 10,
  maxIterations: 1000,
  gradientTolerance: 1e-6,
  relativeDecreaseTolerance: 64 * Number.EPSILON,
  c1: 1e-4,
  c2: 0.9,
  maxLineSearchEvaluations: 50,
};

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function maxAbs(a: Float64Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const value = Math.abs(a[i]!);
    if (value > max) max = value;
  }
  return max;
}

/** The stored pairs sᵢ = x_{i+1} − xᵢ, yᵢ = g_{i+1} − gᵢ, oldest first, in a ring. */
class CorrectionPairs {
  private readonly s: Float64Array[];
  private readonly y: Float64Array[];
  private readonly rho: Float64Array;
  private readonly alpha: Float64Array;
  private count = 0;
  private next = 0;

  constructor(
    private readonly memory: number,
    size: number,
  ) {
    this.s = Array.from({ length: memory }, () => new Float64Array(size));
    this.y = Array.from({ length: memory }, () => new Float64Array(size));
    this.rho = new Float64Array(memory);
    this.alpha = new Float64Array(memory);
  }

  /** Stores a pair; returns false (and stores nothing) if sᵀy is not safely positive. */
  push(step: Float64Array, gradientChange: Float64Array): boolean {
    const sy = dot(step, gradientChange);
    if (!(sy > 1e-12 * Math.sqrt(dot(step, step) * dot(gradientChange, gradientChange)))) return false;
    this.s[this.next]!.set(step);
    this.y[this.next]!.set(gradientChange);
    this.rho[this.next] = 1 / sy;
    this.next = (this.next + 1) % this.memory;
    this.count = Math.min(this.count + 1, this.memory);
    return true;
  }

  /** Two-loop recursion: writes −H·g into `direction`, with H₀ = (sᵀy / yᵀy)·I from the newest pair. */
  descentDirection(gradient: Float64Array, direction: Float64Array): void {
    for (let i = 0; i < direction.length; i++) direction[i] = -gradient[i]!;
    const slot = (age: number): number => (this.next - 1 - age + this.memory) % this.memory;
    for (let age = 0; age < this.count; age++) {
      const k = slot(age);
      const a = this.rho[k]! * dot(this.s[k]!, direction);
      this.alpha[k] = a;
      const yk = this.y[k]!;
      for (let i = 0; i < direction.length; i++) direction[i]! -= a * yk[i]!;
    }
    if (this.count > 0) {
      const newest = slot(0);
      const gamma = 1 / (this.rho[newest]! * dot(this.y[newest]!, this.y[newest]!));
      for (let i = 0; i < direction.length; i++) direction[i]! *= gamma;
    }
    for (let age = this.count - 1; age >= 0; age--) {
      const k = slot(age);
      const b = this.rho[k]! * dot(this.y[k]!, direction);
      const coefficient = this.alpha[k]! - b;
      const sk = this.s[k]!;
      for (let i = 0; i < direction.length; i++) direction[i]! += coefficient * sk[i]!;
    }
  }
}

interface LinePoint {
  readonly step: number;
  readonly value: number;
  /** Directional derivative ∇f(x + step·d)ᵀd. */
  readonly slope: number;
}

/**
 * Minimiser of the cubic through two points with their values and slopes, kept well inside
 * [lo, hi] (bisection when the cubic has no usable minimiser there).
 */
function cubicStep(a: LinePoint, b: LinePoint): number {
  const lo = Math.min(a.step, b.step);
  const hi = Math.max(a.step, b.step);
  const d1 = a.slope + b.slope - (3 * (a.value - b.value)) / (a.step - b.step);
  const radicand = d1 * d1 - a.slope * b.slope;
  const margin = 0.1 * (hi - lo);
  if (radicand >= 0) {
    const d2 = Math.sign(b.step - a.step) * Math.sqrt(radicand);
    const step = b.step - (b.step - a.step) * ((b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2));
    if (Number.isFinite(step) && step >= lo + margin && step <= hi - margin) return step;
  }
  return (lo + hi) / 2;
}

/** Evaluates f along x + step·d, reusing the caller's buffers. */
class LineFunction {
  evaluations = 0;
  constructor(
    private readonly objective: Objective,
    private readonly origin: Float64Array,
    private readonly direction: Float64Array,
    readonly trial: Float64Array,
    readonly trialGradient: Float64Array,
  ) {}

  at(step: number): LinePoint {
    for (let i = 0; i < this.origin.length; i++) this.trial[i] = this.origin[i]! + step * this.direction[i]!;
    this.evaluations++;
    const value = this.objective(this.trial, this.trialGradient);
    return { step, value, slope: dot(this.trialGradient, this.direction) };
  }
}

/**
 * Strong Wolfe line search (Nocedal & Wright Alg. 3.5/3.6). Returns the accepted point, whose
 * position and gradient are left in `line.trial` / `line.trialGradient`, or undefined if no such
 * point was found within the evaluation budget.
 */
function strongWolfeSearch(line: LineFunction, start: LinePoint, initialStep: number, options: Required<LbfgsOptions>): LinePoint | undefined {
  const sufficient = (p: LinePoint): boolean => p.value <= start.value + options.c1 * p.step * start.slope;
  const curvature = (p: LinePoint): boolean => Math.abs(p.slope) <= -options.c2 * start.slope;
  const zoom = (low: LinePoint, high: LinePoint): LinePoint | undefined => {
    while (line.evaluations < options.maxLineSearchEvaluations) {
      const p = line.at(cubicStep(low, high));
      if (!Number.isFinite(p.value) || !sufficient(p) || p.value >= low.value) {
        high = p;
      } else {
        if (curvature(p)) return p;
        if (p.slope * (high.step - low.step) >= 0) high = low;
        low = p;
      }
      if (Math.abs(high.step - low.step) <= 1e-16 * Math.max(1, Math.abs(low.step))) break;
    }
    return undefined;
  };
  let previous = start;
  let step = initialStep;
  for (let first = true; line.evaluations < options.maxLineSearchEvaluations; first = false) {
    const p = line.at(step);
    if (!Number.isFinite(p.value)) {
      // Overflow far along the direction: shrink the bracket towards the last good point.
      step = previous.step + (step - previous.step) / 4;
      continue;
    }
    if (!sufficient(p) || (!first && p.value >= previous.value)) return zoom(previous, p);
    if (curvature(p)) return p;
    if (p.slope >= 0) return zoom(p, previous);
    previous = p;
    step *= 2;
  }
  return undefined;
}

/**
 * Minimises a smooth function from `x0`. Like scipy's L-BFGS-B (what scikit-learn calls) it stops
 * on a small projected gradient or a relative decrease at machine precision.
 */
export function minimizeLbfgs(objective: Objective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const settings: Required<LbfgsOptions> = { ...DEFAULTS, ...options };
  const size = x0.length;
  const x = Float64Array.from(x0);
  let gradient = new Float64Array(size);
  let value = objective(x, gradient);
  if (!Number.isFinite(value)) throw new RangeError(`L-BFGS: the objective is ${value} at the starting point`);
  let evaluations = 1;
  const pairs = new CorrectionPairs(settings.memory, size);
  const direction = new Float64Array(size);
  const step = new Float64Array(size);
  const gradientChange = new Float64Array(size);
  let trialGradient = new Float64Array(size);
  const trial = new Float64Array(size);
  let iterations = 0;
  let stopReason: LbfgsStopReason = 'max-iterations';
  while (true) {
    if (maxAbs(gradient) <= settings.gradientTolerance) {
      stopReason = 'gradient';
      break;
    }
    if (iterations >= settings.maxIterations) break;
    pairs.descentDirection(gradient, direction);
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // Lost descent (only through rounding): restart from steepest descent.
      for (let i = 0; i < size; i++) direction[i] = -gradient[i]!;
      slope = dot(gradient, direction);
    }
    // First step has no curvature information: scale it so the first trial moves x by about 1.
    const initialStep = iterations === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    const line = new LineFunction(objective, x, direction, trial, trialGradient);
    const accepted = strongWolfeSearch(line, { step: 0, value, slope }, initialStep, settings);
    evaluations += line.evaluations;
    if (accepted === undefined) {
      stopReason = 'line-search';
      break;
    }
    iterations++;
    for (let i = 0; i < size; i++) {
      step[i] = trial[i]! - x[i]!;
      gradientChange[i] = trialGradient[i]! - gradient[i]!;
    }
    pairs.push(step, gradientChange);
    x.set(trial);
    [gradient, trialGradient] = [trialGradient, gradient];
    const decrease = (value - accepted.value) / Math.max(Math.abs(value), Math.abs(accepted.value), 1);
    value = accepted.value;
    if (decrease <= settings.relativeDecreaseTolerance) {
      stopReason = 'relative-decrease';
      break;
    }
  }
  return { x, value, gradient, iterations, evaluations, stopReason };
}
