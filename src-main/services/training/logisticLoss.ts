/**
 * scikit-learn's L2-regularised logistic-regression objective and its gradient, as its lbfgs
 * solver minimises it (sklearn/linear_model/_logistic.py, `l2_reg_strength = 1 / (C · n)`):
 *
 *     f(W, b) = (1/n) Σᵢ logloss(xᵢ, yᵢ) + 1/(2·C·n) · ‖W‖²     (the intercept b is not penalised)
 *
 * which is the textbook Σᵢ logloss + ‖W‖²/(2C) divided by n. The mean form keeps the gradient
 * tolerance independent of the sample count, as in scikit-learn.
 *
 * Two parameterisations, as scikit-learn's:
 *  - binary (2 classes): one coefficient row w and one intercept; z = w·x + b is the log-odds of
 *    class 1, logloss = softplus(−y·z) with y ∈ {−1, +1};
 *  - multinomial (≥ 3 classes): one row and one intercept per class, logloss = logsumexp(z) − z_y.
 * Parameters are packed as [W row-major (rows × dim), b (rows)].
 */

export type FeatureValues = Float32Array | Float64Array;

export interface LogisticProblem {
  /** Row-major features, `sampleCount × dim`. */
  readonly features: FeatureValues;
  readonly sampleCount: number;
  readonly dim: number;
  /** Class index of each sample, in [0, classCount). */
  readonly labels: Int32Array;
  readonly classCount: number;
  /** Inverse regularisation strength (scikit-learn's C). */
  readonly inverseRegularisation: number;
}

/** Coefficient rows: 1 for the binary form, one per class otherwise. */
export function coefficientRows(classCount: number): number {
  return classCount === 2 ? 1 : classCount;
}

export function parameterCount(problem: Pick<LogisticProblem, 'dim' | 'classCount'>): number {
  return coefficientRows(problem.classCount) * (problem.dim + 1);
}

/** log(1 + eˣ) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

function rowDot(features: FeatureValues, offset: number, weights: Float64Array, weightOffset: number, dim: number): number {
  let sum = 0;
  for (let j = 0; j < dim; j++) sum += features[offset + j]! * weights[weightOffset + j]!;
  return sum;
}

function addScaledRow(target: Float64Array, targetOffset: number, features: FeatureValues, offset: number, scale: number, dim: number): void {
  for (let j = 0; j < dim; j++) target[targetOffset + j]! += scale * features[offset + j]!;
}

/** Σᵢ logloss for the binary form; adds ∂/∂(w, b) of it into `gradient` when given. */
function binaryLogLoss(problem: LogisticProblem, parameters: Float64Array, gradient: Float64Array | undefined): number {
  const { features, sampleCount, dim, labels } = problem;
  const bias = parameters[dim]!;
  let loss = 0;
  for (let i = 0; i < sampleCount; i++) {
    const offset = i * dim;
    const sign = labels[i] === 1 ? 1 : -1;
    const margin = sign * (rowDot(features, offset, parameters, 0, dim) + bias);
    loss += softplus(-margin);
    if (gradient === undefined) continue;
    // d softplus(−y·z)/dz = −y·σ(−y·z)
    const dz = -sign / (1 + Math.exp(margin));
    addScaledRow(gradient, 0, features, offset, dz, dim);
    gradient[dim]! += dz;
  }
  return loss;
}

/** Σᵢ logloss for the multinomial form; adds ∂/∂(W, b) of it into `gradient` when given. */
function multinomialLogLoss(problem: LogisticProblem, parameters: Float64Array, gradient: Float64Array | undefined): number {
  const { features, sampleCount, dim, labels, classCount } = problem;
  const biasOffset = classCount * dim;
  const logits = new Float64Array(classCount);
  let loss = 0;
  for (let i = 0; i < sampleCount; i++) {
    const offset = i * dim;
    let max = -Infinity;
    for (let k = 0; k < classCount; k++) {
      logits[k] = rowDot(features, offset, parameters, k * dim, dim) + parameters[biasOffset + k]!;
      if (logits[k]! > max) max = logits[k]!;
    }
    let total = 0;
    for (let k = 0; k < classCount; k++) total += Math.exp(logits[k]! - max);
    loss += max + Math.log(total) - logits[labels[i]!]!;
    if (gradient === undefined) continue;
    for (let k = 0; k < classCount; k++) {
      const dz = Math.exp(logits[k]! - max) / total - (k === labels[i] ? 1 : 0);
      addScaledRow(gradient, k * dim, features, offset, dz, dim);
      gradient[biasOffset + k]! += dz;
    }
  }
  return loss;
}

function sumOfLogLosses(problem: LogisticProblem, parameters: Float64Array, gradient: Float64Array | undefined): number {
  return problem.classCount === 2 ? binaryLogLoss(problem, parameters, gradient) : multinomialLogLoss(problem, parameters, gradient);
}

function squaredWeightNorm(problem: LogisticProblem, parameters: Float64Array): number {
  const weightCount = coefficientRows(problem.classCount) * problem.dim;
  let sum = 0;
  for (let j = 0; j < weightCount; j++) sum += parameters[j]! * parameters[j]!;
  return sum;
}

/** The objective in its textbook scale, Σᵢ logloss + ‖W‖²/(2C): what tests compare across solvers. */
export function totalObjective(problem: LogisticProblem, parameters: Float64Array): number {
  return sumOfLogLosses(problem, parameters, undefined) + squaredWeightNorm(problem, parameters) / (2 * problem.inverseRegularisation);
}

/** The objective in scikit-learn's mean scale with its gradient, for the optimiser. */
export function meanObjective(problem: LogisticProblem): (parameters: Float64Array, gradient: Float64Array) => number {
  const weightCount = coefficientRows(problem.classCount) * problem.dim;
  const n = problem.sampleCount;
  const penalty = 1 / (problem.inverseRegularisation * n);
  return (parameters, gradient) => {
    gradient.fill(0);
    const loss = sumOfLogLosses(problem, parameters, gradient);
    for (let j = 0; j < gradient.length; j++) gradient[j]! /= n;
    for (let j = 0; j < weightCount; j++) gradient[j]! += penalty * parameters[j]!;
    return loss / n + (penalty / 2) * squaredWeightNorm(problem, parameters);
  };
}
