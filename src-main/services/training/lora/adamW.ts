import { TrainingError } from '../TrainingError';
import type { ParameterSet } from './init';

export interface AdamWOptions {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Decoupled decay: each step multiplies p by 1 − lr·weightDecay. 0 gives plain Adam. */
  readonly weightDecay: number;
}

/** torch.optim.AdamW's defaults. */
export const ADAMW_DEFAULTS: AdamWOptions = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };

/** torch.optim.Adam without weight decay (the reference code's optimiser, lr 1e-4). */
export const ADAM_DEFAULTS: AdamWOptions = { ...ADAMW_DEFAULTS, learningRate: 1e-4, weightDecay: 0 };

/** Everything needed to continue exactly where a run stopped: store it with a checkpoint. */
export interface AdamWState {
  readonly options: AdamWOptions;
  /** Steps taken so far (torch's `step`, the exponent of the bias corrections). */
  readonly step: number;
  /** First and second moment estimates by parameter name. */
  readonly firstMoments: Readonly<Record<string, Float32Array>>;
  readonly secondMoments: Readonly<Record<string, Float32Array>>;
}

const METHOD = 'AdamW';

function checkOptions(options: AdamWOptions): void {
  const problems: string[] = [];
  if (!(options.learningRate >= 0)) problems.push(`learningRate must be ≥ 0, got ${options.learningRate}`);
  for (const key of ['beta1', 'beta2'] as const) if (!(options[key] >= 0 && options[key] < 1)) problems.push(`${key} must be in [0, 1), got ${options[key]}`);
  if (!(options.epsilon > 0)) problems.push(`epsilon must be positive, got ${options.epsilon}`);
  if (!(options.weightDecay >= 0)) problems.push(`weightDecay must be ≥ 0, got ${options.weightDecay}`);
  if (problems.length > 0) throw new TrainingError(METHOD, problems.join('; '));
}

/**
 * AdamW exactly as torch.optim.AdamW (amsgrad off, maximize off) updates each element:
 *   p ← p·(1 − lr·wd);  m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;
 *   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)   (ε outside the square root).
 * Parameters are updated in place; the moments live here and round-trip through `state()`.
 */
export class AdamW {
  private stepCount: number;
  private readonly first: Map<string, Float32Array>;
  private readonly second: Map<string, Float32Array>;

  private constructor(
    readonly options: AdamWOptions,
    step: number,
    first: Map<string, Float32Array>,
    second: Map<string, Float32Array>,
  ) {
    this.stepCount = step;
    this.first = first;
    this.second = second;
  }

  /** A fresh optimiser for `parameters` (zero moments, step 0). */
  static create(parameters: Readonly<ParameterSet>, options: Partial<AdamWOptions> = {}): AdamW {
    const resolved = { ...ADAMW_DEFAULTS, ...options };
    checkOptions(resolved);
    const zeros = (): Map<string, Float32Array> => new Map(Object.entries(parameters).map(([name, values]) => [name, new Float32Array(values.length)]));
    return new AdamW(resolved, 0, zeros(), zeros());
  }

  /** Continues from a saved state (copied, so the saved object stays as it was). */
  static restore(state: AdamWState): AdamW {
    checkOptions(state.options);
    if (!Number.isInteger(state.step) || state.step < 0) throw new TrainingError(METHOD, `the saved step ${state.step} is not a count`);
    const names = Object.keys(state.firstMoments);
    for (const name of names) {
      if (state.secondMoments[name]?.length !== state.firstMoments[name]!.length) throw new TrainingError(METHOD, `the saved moments of ${name} disagree`);
    }
    if (Object.keys(state.secondMoments).length !== names.length) throw new TrainingError(METHOD, 'the saved first and second moments name different parameters');
    const copy = (moments: Readonly<Record<string, Float32Array>>): Map<string, Float32Array> => new Map(names.map((name) => [name, moments[name]!.slice()]));
    return new AdamW({ ...state.options }, state.step, copy(state.firstMoments), copy(state.secondMoments));
  }

  get step(): number {
    return this.stepCount;
  }

  /** A copy of the optimiser's state, for a checkpoint. */
  state(): AdamWState {
    const copy = (moments: Map<string, Float32Array>): Record<string, Float32Array> => Object.fromEntries([...moments].map(([name, values]) => [name, values.slice()]));
    return { options: { ...this.options }, step: this.stepCount, firstMoments: copy(this.first), secondMoments: copy(this.second) };
  }

  /**
   * One update of every parameter from its gradient (any float array: a step graph's float32
   * or float64 output). `learningRate` overrides the configured one for this step (schedules).
   */
  update(parameters: ParameterSet, gradients: Readonly<Record<string, ArrayLike<number>>>, learningRate = this.options.learningRate): void {
    this.checkSet(parameters, gradients);
    if (!(learningRate >= 0)) throw new TrainingError(METHOD, `learning rate must be ≥ 0, got ${learningRate}`);
    this.stepCount++;
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    const stepSize = learningRate / (1 - beta1 ** this.stepCount);
    const secondCorrection = Math.sqrt(1 - beta2 ** this.stepCount);
    const decay = 1 - learningRate * weightDecay;
    for (const [name, p] of Object.entries(parameters)) {
      const g = gradients[name]!;
      const m = this.first.get(name)!;
      const v = this.second.get(name)!;
      for (let i = 0; i < p.length; i++) {
        const gradient = g[i]!;
        m[i] = beta1 * m[i]! + (1 - beta1) * gradient;
        v[i] = beta2 * v[i]! + (1 - beta2) * gradient * gradient;
        p[i] = p[i]! * decay - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / secondCorrection + epsilon);
      }
    }
  }

  private checkSet(parameters: ParameterSet, gradients: Readonly<Record<string, ArrayLike<number>>>): void {
    const names = Object.keys(parameters);
    if (names.length !== this.first.size) throw new TrainingError(METHOD, `expected ${this.first.size} parameters, got ${names.length}`);
    for (const name of names) {
      const moments = this.first.get(name);
      if (!moments) throw new TrainingError(METHOD, `unknown parameter ${name}`);
      if (parameters[name]!.length !== moments.length) throw new TrainingError(METHOD, `${name} has ${parameters[name]!.length} values, the optimiser was made for ${moments.length}`);
      const gradient = gradients[name];
      if (!gradient) throw new TrainingError(METHOD, `no gradient for ${name}`);
      if (gradient.length !== moments.length) throw new TrainingError(METHOD, `the gradient of ${name} has ${gradient.length} values, expected ${moments.length}`);
    }
  }
}
