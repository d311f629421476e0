import { cohenKappa } from './agreement';
import { type ConfusionMatrix, confusionMatrix, rowSums } from './confusion';
import { InvalidEvaluationInputError } from './errors';
import { checkClassLabels, checkFiniteNumbers, checkLabelPairs, checkSameLength } from './inputChecks';

/*
 * Classification metrics as scikit-learn defines them, so a number in a Mitobench report means what
 * it means in the paper's code. Labels are class indices 0..K-1. A metric that is undefined on its
 * input (e.g. AUROC with one class absent) is NaN, never a made-up 0 or 1; `undefinedReason` says why.
 */

export function accuracy(yTrue: readonly number[], yPred: readonly number[]): number {
  checkLabelPairs('yTrue', yTrue, 'yPred', yPred);
  return yTrue.filter((label, i) => label === yPred[i]).length / yTrue.length;
}

/** Recall of each class; NaN for a class with no true cells. */
export function recallPerClass(matrix: ConfusionMatrix): number[] {
  const support = rowSums(matrix);
  return matrix.map((row, c) => (support[c] === 0 ? Number.NaN : (row[c] as number) / (support[c] as number)));
}

/**
 * Mean recall over the classes present in `yTrue` (scikit-learn's `balanced_accuracy_score`: a class
 * that is only predicted, never true, is left out rather than counted as 0).
 */
export function balancedAccuracy(yTrue: readonly number[], yPred: readonly number[]): number {
  const recalls = recallPerClass(confusionMatrix(yTrue, yPred)).filter((recall) => !Number.isNaN(recall));
  return recalls.reduce((sum, recall) => sum + recall, 0) / recalls.length;
}

/** F1 of each class weighted by its true count (`f1_score(average='weighted')`); F1 = 2TP / (2TP + FP + FN). */
export function weightedF1(yTrue: readonly number[], yPred: readonly number[]): number {
  const matrix = confusionMatrix(yTrue, yPred);
  const support = rowSums(matrix);
  let weighted = 0;
  matrix.forEach((row, c) => {
    const classSupport = support[c] as number;
    if (classSupport === 0) return;
    const truePositives = row[c] as number;
    const predicted = matrix.reduce((sum, otherRow) => sum + (otherRow[c] as number), 0);
    weighted += (classSupport * (2 * truePositives)) / (classSupport + predicted);
  });
  return weighted / yTrue.length;
}

/**
 * Quadratic-weighted Cohen's κ between truth and prediction, class distance = index distance
 * (`cohen_kappa_score(weights='quadratic', labels=range(K))`). NaN when both use one single class.
 */
export function quadraticWeightedKappa(yTrue: readonly number[], yPred: readonly number[]): number {
  return cohenKappa(yTrue, yPred, 'quadratic');
}

/** Recall of `positiveClass` (one-vs-rest); NaN when no true cell has that class. */
export function sensitivity(yTrue: readonly number[], yPred: readonly number[], positiveClass = 1): number {
  checkLabelPairs('yTrue', yTrue, 'yPred', yPred);
  const positives = yTrue.flatMap((label, i) => (label === positiveClass ? [yPred[i]] : []));
  return positives.length === 0 ? Number.NaN : positives.filter((predicted) => predicted === positiveClass).length / positives.length;
}

/** Share of cells not of `positiveClass` that are not predicted as it; NaN when every true cell is positive. */
export function specificity(yTrue: readonly number[], yPred: readonly number[], positiveClass = 1): number {
  checkLabelPairs('yTrue', yTrue, 'yPred', yPred);
  const negatives = yTrue.flatMap((label, i) => (label === positiveClass ? [] : [yPred[i]]));
  return negatives.length === 0 ? Number.NaN : negatives.filter((predicted) => predicted !== positiveClass).length / negatives.length;
}

/** Cumulative counts at each distinct score, highest score first (scikit-learn's `_binary_clf_curve`). */
interface ThresholdCounts {
  thresholds: number[];
  truePositives: number[];
  falsePositives: number[];
}

function countsAtThresholds(yTrue: readonly number[], scores: readonly number[], positiveClass: number): ThresholdCounts {
  checkClassLabels('yTrue', yTrue);
  checkFiniteNumbers('scores', scores);
  checkSameLength('yTrue', yTrue, 'scores', scores);
  const order = scores.map((_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  const counts: ThresholdCounts = { thresholds: [], truePositives: [], falsePositives: [] };
  let truePositives = 0;
  let falsePositives = 0;
  order.forEach((cell, rank) => {
    if (yTrue[cell] === positiveClass) truePositives += 1;
    else falsePositives += 1;
    const next = order[rank + 1];
    // Tied scores form one threshold: the curve moves diagonally across them.
    if (next !== undefined && scores[next] === scores[cell]) return;
    counts.thresholds.push(scores[cell] as number);
    counts.truePositives.push(truePositives);
    counts.falsePositives.push(falsePositives);
  });
  return counts;
}

export interface RocCurve {
  falsePositiveRate: number[];
  truePositiveRate: number[];
  /** Score cut-offs (predict positive when score ≥ threshold), descending; the first is +∞. */
  thresholds: number[];
}

/** True when point k lies on the straight line through its neighbours, so it adds nothing to a plot. */
function isCollinear(values: readonly number[], k: number): boolean {
  return (values[k + 1] as number) - 2 * (values[k] as number) + (values[k - 1] as number) === 0;
}

/**
 * ROC curve points as `roc_curve(..., drop_intermediate=True)` gives them: a (0, 0) point at +∞
 * first, collinear points dropped. Rates are NaN when a class is absent (a rate over no cells).
 */
export function rocCurve(yTrue: readonly number[], scores: readonly number[], positiveClass = 1, dropIntermediate = true): RocCurve {
  const counts = countsAtThresholds(yTrue, scores, positiveClass);
  const pointCount = counts.thresholds.length;
  const kept = counts.thresholds
    .map((_, k) => k)
    .filter(
      (k) =>
        !dropIntermediate ||
        pointCount <= 2 ||
        k === 0 ||
        k === pointCount - 1 ||
        !isCollinear(counts.falsePositives, k) ||
        !isCollinear(counts.truePositives, k),
    );
  const positives = counts.truePositives.at(-1) as number;
  const negatives = counts.falsePositives.at(-1) as number;
  const rate = (count: number, total: number): number => (total === 0 ? Number.NaN : count / total);
  return {
    falsePositiveRate: [0, ...kept.map((k) => counts.falsePositives[k] as number)].map((count) => rate(count, negatives)),
    truePositiveRate: [0, ...kept.map((k) => counts.truePositives[k] as number)].map((count) => rate(count, positives)),
    thresholds: [Number.POSITIVE_INFINITY, ...kept.map((k) => counts.thresholds[k] as number)],
  };
}

/**
 * Area under the ROC curve for `positiveClass` against the rest (trapezoids, so tied scores count
 * half, as in `roc_auc_score`). NaN when one of the two groups is absent (scikit-learn also NaN).
 */
export function auroc(yTrue: readonly number[], scores: readonly number[], positiveClass = 1): number {
  const curve = rocCurve(yTrue, scores, positiveClass, false);
  let area = 0;
  for (let k = 1; k < curve.thresholds.length; k++) {
    const width = (curve.falsePositiveRate[k] as number) - (curve.falsePositiveRate[k - 1] as number);
    area += (width * ((curve.truePositiveRate[k] as number) + (curve.truePositiveRate[k - 1] as number))) / 2;
  }
  return area;
}

/**
 * Macro average of one-vs-rest AUROCs (`roc_auc_score(multi_class='ovr', average='macro')`);
 * `scoreRows[i][c]` is cell i's score for class c. NaN when a class has no true cell (scikit-learn
 * refuses that input). Rows need not sum to 1 here (scikit-learn demands it).
 */
export function macroOneVsRestAuroc(yTrue: readonly number[], scoreRows: readonly (readonly number[])[]): number {
  checkClassLabels('yTrue', yTrue);
  checkSameLength('yTrue', yTrue, 'scoreRows', scoreRows);
  const classCount = scoreRows[0]?.length ?? 0;
  if (classCount < 2) throw new InvalidEvaluationInputError('scoreRows', 'needs a score for at least 2 classes per cell');
  scoreRows.forEach((row, i) => {
    if (row.length !== classCount) throw new InvalidEvaluationInputError('scoreRows', `row ${i} has ${row.length} scores, the first has ${classCount}`);
  });
  if (yTrue.some((label) => label >= classCount)) {
    throw new InvalidEvaluationInputError('yTrue', `holds a class ≥ ${classCount}, the number of score columns`);
  }
  let sum = 0;
  for (let c = 0; c < classCount; c++) sum += auroc(yTrue, scoreRows.map((row) => row[c] as number), c);
  return sum / classCount;
}

/**
 * Average precision, scikit-learn's step sum Σ (Rₖ − Rₖ₋₁)·Pₖ over descending score thresholds (not
 * the interpolated PASCAL VOC form). NaN when no cell is positive: scikit-learn returns 0 there with a
 * warning, which would drag a bootstrap down for a quantity that simply does not exist.
 */
export function averagePrecision(yTrue: readonly number[], scores: readonly number[], positiveClass = 1): number {
  const counts = countsAtThresholds(yTrue, scores, positiveClass);
  const positives = counts.truePositives.at(-1) as number;
  if (positives === 0) return Number.NaN;
  let sum = 0;
  let previousRecall = 0;
  counts.thresholds.forEach((_, k) => {
    const truePositives = counts.truePositives[k] as number;
    const recall = truePositives / positives;
    sum += (recall - previousRecall) * (truePositives / (truePositives + (counts.falsePositives[k] as number)));
    previousRecall = recall;
  });
  return sum;
}
