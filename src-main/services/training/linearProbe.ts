import { minimizeLbfgs } from './lbfgs';
import type { LbfgsStopReason } from './lbfgs';
import { featureScaling, inScaledCoordinates, toOriginalParameters } from './featureScaling';
import { coefficientRows, meanObjective, parameterCount } from './logisticLoss';
import type { FeatureValues, LogisticProblem } from './logisticLoss';
import { TrainingError } from './TrainingError';

/**
 * Linear probe: L2-regularised logistic regression on frozen embeddings, fitted by L-BFGS to the
 * same objective and solution as scikit-learn's `LogisticRegression(solver='lbfgs')`.
 *
 * Features are used as they come, not standardised: UNI's evaluation code
 * (mahmoodlab/UNI, uni/downstream/eval_patch_features/linear_probe.py, `train_linear_probe`)
 * hands the raw embeddings to the classifier, and so does this probe.
 */

const METHOD = 'linear probe';

/** Row-major `rows × columns` matrix of embeddings (one row per cell). */
export interface FeatureMatrix {
  readonly values: FeatureValues;
  readonly rows: number;
  readonly columns: number;
}

export interface LinearProbeOptions {
  /** Inverse regularisation strength; defaults to {@link defaultInverseRegularisation}. */
  readonly inverseRegularisation?: number;
  /** Number of classes; defaults to the largest label + 1. Every class needs a sample. */
  readonly classCount?: number;
  /** UNI's evaluation uses 1,000. */
  readonly maxIterations?: number;
  /**
   * Stop when the largest gradient entry of the mean-scaled objective, in the coordinates of
   * standardised features (featureScaling.ts), is below this.
   */
  readonly gradientTolerance?: number;
}

export interface LinearProbe {
  readonly dim: number;
  readonly classCount: number;
  /**
   * Row-major coefficients. Binary: one row (scikit-learn's `coef_`, the log-odds of class 1).
   * Multiclass: one row per class.
   */
  readonly weights: Float64Array;
  /** One intercept per coefficient row (scikit-learn's `intercept_`). */
  readonly bias: Float64Array;
  readonly inverseRegularisation: number;
  readonly iterations: number;
  readonly stopReason: LbfgsStopReason;
}

/**
 * C = dim × classes / 100: the convention of UNI's linear probe
 * (mahmoodlab/UNI, uni/downstream/eval_patch_features/linear_probe.py:
 * `cost = (train_feats.shape[1] * NUM_C) / 100`, NUM_C the number of distinct training labels),
 * which FMC follows. That code's default path fits its own torch L-BFGS to
 * mean(CE) + ‖W‖/(2C) (an unsquared norm); with `use_sklearn=True` it fits scikit-learn's
 * objective, which is the one matched here.
 */
export function defaultInverseRegularisation(dim: number, classCount: number): number {
  return (dim * classCount) / 100;
}

function checkFeatures(features: FeatureMatrix): void {
  const { values, rows, columns } = features;
  if (!Number.isInteger(rows) || rows < 1) throw new TrainingError(METHOD, `features need at least one row, got ${rows}`);
  if (!Number.isInteger(columns) || columns < 1) throw new TrainingError(METHOD, `features need at least one column, got ${columns}`);
  if (values.length !== rows * columns) throw new TrainingError(METHOD, `features hold ${values.length} values, expected ${rows} rows × ${columns} columns = ${rows * columns}`);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new TrainingError(METHOD, `feature at row ${Math.floor(i / columns)}, column ${i % columns} is ${values[i]}`);
    }
  }
}

function checkedLabels(labels: ArrayLike<number>, rows: number, classCountOption: number | undefined): { labels: Int32Array; classCount: number } {
  if (labels.length !== rows) throw new TrainingError(METHOD, `got ${labels.length} labels for ${rows} feature rows`);
  const checked = new Int32Array(rows);
  let largest = 0;
  for (let i = 0; i < rows; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0) throw new TrainingError(METHOD, `label of row ${i} is ${label}, expected a class index ≥ 0`);
    checked[i] = label;
    largest = Math.max(largest, label);
  }
  const classCount = classCountOption ?? largest + 1;
  if (largest >= classCount) throw new TrainingError(METHOD, `label ${largest} is out of range for ${classCount} classes`);
  const counts = new Int32Array(classCount);
  for (const label of checked) counts[label]!++;
  const present = counts.filter((count) => count > 0).length;
  if (present < 2) throw new TrainingError(METHOD, `needs samples of at least two classes, got only class ${checked[0]}`);
  const missing = counts.findIndex((count) => count === 0);
  if (missing >= 0) throw new TrainingError(METHOD, `class ${missing} of ${classCount} has no samples`);
  return { labels: checked, classCount };
}

function checkedInverseRegularisation(value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new TrainingError(METHOD, `inverse regularisation C must be a positive number, got ${value}`);
  return value;
}

/** Validates the input and packs it as the optimiser's problem. */
export function logisticProblem(features: FeatureMatrix, labels: ArrayLike<number>, options: Pick<LinearProbeOptions, 'inverseRegularisation' | 'classCount'> = {}): LogisticProblem {
  checkFeatures(features);
  const checked = checkedLabels(labels, features.rows, options.classCount);
  const inverseRegularisation = checkedInverseRegularisation(options.inverseRegularisation ?? defaultInverseRegularisation(features.columns, checked.classCount));
  return {
    features: features.values,
    sampleCount: features.rows,
    dim: features.columns,
    labels: checked.labels,
    classCount: checked.classCount,
    inverseRegularisation,
  };
}

/** Packs a probe's coefficients in the optimiser's layout [W, b]. */
export function probeParameters(probe: Pick<LinearProbe, 'weights' | 'bias'>): Float64Array {
  const parameters = new Float64Array(probe.weights.length + probe.bias.length);
  parameters.set(probe.weights);
  parameters.set(probe.bias, probe.weights.length);
  return parameters;
}

/** Fits the probe from zero coefficients, as scikit-learn starts. */
export function fitLinearProbe(features: FeatureMatrix, labels: ArrayLike<number>, options: LinearProbeOptions = {}): LinearProbe {
  const problem = logisticProblem(features, labels, options);
  const rows = coefficientRows(problem.classCount);
  const scaling = featureScaling(problem.features, problem.sampleCount, problem.dim);
  const result = minimizeLbfgs(inScaledCoordinates(meanObjective(problem), scaling, rows), new Float64Array(parameterCount(problem)), {
    maxIterations: options.maxIterations ?? 1000,
    gradientTolerance: options.gradientTolerance ?? 1e-6,
  });
  const parameters = toOriginalParameters(result.x, scaling, rows);
  const weightCount = rows * problem.dim;
  return {
    dim: problem.dim,
    classCount: problem.classCount,
    weights: parameters.slice(0, weightCount),
    bias: parameters.slice(weightCount),
    inverseRegularisation: problem.inverseRegularisation,
    iterations: result.iterations,
    stopReason: result.stopReason,
  };
}

/** Class probabilities, row-major `rows × classCount` (binary: [P(class 0), P(class 1)]). */
export function predictProbabilities(probe: LinearProbe, features: FeatureMatrix): Float64Array {
  checkFeatures(features);
  if (features.columns !== probe.dim) throw new TrainingError(METHOD, `features have ${features.columns} columns, the probe was fitted on ${probe.dim}`);
  const { values, rows, columns: dim } = features;
  const rowsOfWeights = coefficientRows(probe.classCount);
  const logits = new Float64Array(rowsOfWeights);
  const probabilities = new Float64Array(rows * probe.classCount);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < rowsOfWeights; k++) {
      let z = probe.bias[k]!;
      for (let j = 0; j < dim; j++) z += values[i * dim + j]! * probe.weights[k * dim + j]!;
      logits[k] = z;
    }
    const out = i * probe.classCount;
    if (probe.classCount === 2) {
      probabilities[out] = 1 / (1 + Math.exp(logits[0]!));
      probabilities[out + 1] = 1 / (1 + Math.exp(-logits[0]!));
      continue;
    }
    const max = logits.reduce((a, b) => Math.max(a, b), -Infinity);
    let total = 0;
    for (let k = 0; k < rowsOfWeights; k++) total += Math.exp(logits[k]! - max);
    for (let k = 0; k < rowsOfWeights; k++) probabilities[out + k] = Math.exp(logits[k]! - max) / total;
  }
  return probabilities;
}
