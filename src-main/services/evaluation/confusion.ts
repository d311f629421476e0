import { InvalidEvaluationInputError } from './errors';
import { checkLabelPairs } from './inputChecks';

/** Rows are the true (or first rater's) class, columns the predicted (or second rater's) class. */
export type ConfusionMatrix = number[][];

/** One more than the largest class index seen: classes above it cannot change any metric here. */
export function inferClassCount(...labelLists: readonly (readonly number[])[]): number {
  let largest = -1;
  for (const labels of labelLists) for (const label of labels) largest = Math.max(largest, label);
  return largest + 1;
}

/**
 * Counts of (true class, predicted class) pairs: scikit-learn's
 * `confusion_matrix(y_true, y_pred, labels=range(classCount))`.
 */
export function confusionMatrix(
  yTrue: readonly number[],
  yPred: readonly number[],
  classCount = inferClassCount(yTrue, yPred),
): ConfusionMatrix {
  checkLabelPairs('yTrue', yTrue, 'yPred', yPred);
  const needed = inferClassCount(yTrue, yPred);
  if (!Number.isInteger(classCount) || classCount < needed) {
    throw new InvalidEvaluationInputError('classCount', `is ${classCount} but the labels need at least ${needed} classes`);
  }
  const matrix = Array.from({ length: classCount }, () => new Array<number>(classCount).fill(0));
  yTrue.forEach((trueClass, i) => {
    matrix[trueClass]![yPred[i]!]! += 1;
  });
  return matrix;
}

export function rowSums(matrix: ConfusionMatrix): number[] {
  return matrix.map((row) => row.reduce((sum, count) => sum + count, 0));
}

export function columnSums(matrix: ConfusionMatrix): number[] {
  return matrix.map((_, column) => matrix.reduce((sum, row) => sum + (row[column] as number), 0));
}
