import { type ConfusionMatrix, confusionMatrix, rowSums } from './confusion';
import {
  accuracy,
  auroc,
  averagePrecision,
  balancedAccuracy,
  quadraticWeightedKappa,
  sensitivity,
  specificity,
  weightedF1,
} from './metrics';

export const METRIC_NAMES = [
  'balancedAccuracy',
  'auroc',
  'weightedF1',
  'accuracy',
  'quadraticKappa',
  'sensitivity',
  'specificity',
  'averagePrecision',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export interface ClassificationSummary {
  /** NaN where a metric is undefined on this input; `undefinedReasons` says why. */
  values: Record<MetricName, number>;
  undefinedReasons: Partial<Record<MetricName, string>>;
  confusion: ConfusionMatrix;
}

export interface PredictionSet {
  yTrue: readonly number[];
  yPred: readonly number[];
  /** Each cell's score for `positiveClass`; without it AUROC and AP are NaN. */
  positiveScores?: readonly number[];
  /** The class of interest (mitotic figure) for sensitivity, specificity, AUROC and AP. */
  positiveClass: number;
}

function reasonFor(name: MetricName, set: PredictionSet, confusion: ConfusionMatrix): string {
  const positives = rowSums(confusion)[set.positiveClass] ?? 0;
  const negatives = set.yTrue.length - positives;
  const needsScores = name === 'auroc' || name === 'averagePrecision';
  if (needsScores && set.positiveScores === undefined) return 'no scores were given';
  if (positives === 0 && name !== 'specificity' && name !== 'quadraticKappa') return `no true cell of class ${set.positiveClass}`;
  if (negatives === 0 && (name === 'specificity' || name === 'auroc')) return `every true cell is of class ${set.positiveClass}`;
  if (name === 'quadraticKappa') return 'truth and prediction use one and the same single class, so chance agreement is total';
  return 'undefined on this input';
}

/** Every headline metric of one prediction set at once, with the reason for each undefined one. */
export function summarizeClassification(set: PredictionSet): ClassificationSummary {
  const { yTrue, yPred, positiveScores, positiveClass } = set;
  const confusion = confusionMatrix(yTrue, yPred);
  const values: Record<MetricName, number> = {
    balancedAccuracy: balancedAccuracy(yTrue, yPred),
    auroc: positiveScores === undefined ? Number.NaN : auroc(yTrue, positiveScores, positiveClass),
    weightedF1: weightedF1(yTrue, yPred),
    accuracy: accuracy(yTrue, yPred),
    quadraticKappa: quadraticWeightedKappa(yTrue, yPred),
    sensitivity: sensitivity(yTrue, yPred, positiveClass),
    specificity: specificity(yTrue, yPred, positiveClass),
    averagePrecision: positiveScores === undefined ? Number.NaN : averagePrecision(yTrue, positiveScores, positiveClass),
  };
  const undefinedReasons: Partial<Record<MetricName, string>> = {};
  for (const name of METRIC_NAMES) {
    if (Number.isNaN(values[name])) undefinedReasons[name] = reasonFor(name, set, confusion);
  }
  return { values, undefinedReasons, confusion };
}
