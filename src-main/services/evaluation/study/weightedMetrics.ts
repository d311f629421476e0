import { kappaFromConfusion } from '../agreement';
import type { ConfusionMatrix } from '../confusion';
import { recallPerClass } from '../metrics';
import type { MetricName } from '../summary';

/*
 * The headline metrics of a prediction set in which every slide counts a whole number of times: a
 * bootstrap replicate (slides drawn with replacement) is such a weighting. Evaluating the weights
 * directly, rather than building each replicate's cell list, keeps thousands of replicates cheap.
 * With every weight 1 the values equal summary.ts's (tested), which stays the definition.
 */

export interface PredictionsBySlide {
  /** Slide ids in sorted order; cells refer to them by index. */
  slideIds: string[];
  classCount: number;
  positiveClass: number;
  /** Per slide, its cells' confusion matrix, row-major classCount × classCount. */
  slideConfusions: Float64Array[];
  /** Cells by descending positive score, as parallel arrays. */
  sortedScores: Float64Array;
  sortedIsPositive: Uint8Array;
  sortedSlideIndex: Int32Array;
}

export interface SlidePrediction {
  slideId: string;
  trueClass: number;
  predictedClass: number;
  positiveScore: number;
}

/** Groups predictions for weighting by slide; `classCount` is the study's number of classes. */
export function predictionsBySlide(cells: readonly SlidePrediction[], classCount: number, positiveClass: number): PredictionsBySlide {
  const slideIds = [...new Set(cells.map((cell) => cell.slideId))].sort();
  const slideIndex = new Map(slideIds.map((id, index) => [id, index]));
  const slideConfusions = slideIds.map(() => new Float64Array(classCount * classCount));
  for (const cell of cells) slideConfusions[slideIndex.get(cell.slideId)!]![cell.trueClass * classCount + cell.predictedClass]! += 1;
  const order = cells.map((_, i) => i).sort((a, b) => cells[b]!.positiveScore - cells[a]!.positiveScore);
  return {
    slideIds,
    classCount,
    positiveClass,
    slideConfusions,
    sortedScores: Float64Array.from(order, (i) => cells[i]!.positiveScore),
    sortedIsPositive: Uint8Array.from(order, (i) => (cells[i]!.trueClass === positiveClass ? 1 : 0)),
    sortedSlideIndex: Int32Array.from(order, (i) => slideIndex.get(cells[i]!.slideId)!),
  };
}

function weightedConfusion(set: PredictionsBySlide, weights: Float64Array): ConfusionMatrix {
  const k = set.classCount;
  const flat = new Float64Array(k * k);
  set.slideConfusions.forEach((confusion, slide) => {
    const weight = weights[slide]!;
    if (weight === 0) return;
    for (let i = 0; i < flat.length; i++) flat[i]! += weight * confusion[i]!;
  });
  return Array.from({ length: k }, (_, row) => Array.from(flat.subarray(row * k, row * k + k)));
}

function confusionMetrics(matrix: ConfusionMatrix, positiveClass: number): Omit<Record<MetricName, number>, 'auroc' | 'averagePrecision'> {
  const support = matrix.map((row) => row.reduce((sum, count) => sum + count, 0));
  const predicted = matrix.map((_, column) => matrix.reduce((sum, row) => sum + row[column]!, 0));
  const total = support.reduce((sum, count) => sum + count, 0);
  const correct = matrix.reduce((sum, row, c) => sum + row[c]!, 0);
  const recalls = recallPerClass(matrix).filter((recall) => !Number.isNaN(recall));
  let weightedF1 = 0;
  matrix.forEach((row, c) => {
    if (support[c]! > 0) weightedF1 += (support[c]! * 2 * row[c]!) / (support[c]! + predicted[c]!);
  });
  const positives = support[positiveClass]!;
  const negatives = total - positives;
  const trueNegatives = negatives - (predicted[positiveClass]! - matrix[positiveClass]![positiveClass]!);
  // A matrix with no cell at all (no slide drawn) makes every metric undefined.
  const hasCells = total > 0;
  return {
    balancedAccuracy: hasCells ? recalls.reduce((sum, recall) => sum + recall, 0) / recalls.length : Number.NaN,
    weightedF1: hasCells ? weightedF1 / total : Number.NaN,
    accuracy: hasCells ? correct / total : Number.NaN,
    quadraticKappa: hasCells ? kappaFromConfusion(matrix, 'quadratic') : Number.NaN,
    sensitivity: positives === 0 ? Number.NaN : matrix[positiveClass]![positiveClass]! / positives,
    specificity: negatives === 0 ? Number.NaN : trueNegatives / negatives,
  };
}

/** AUROC (trapezoids, ties count half) and average precision (step sum) over weighted cells. */
function rankingMetrics(set: PredictionsBySlide, weights: Float64Array): { auroc: number; averagePrecision: number } {
  const { sortedScores, sortedIsPositive, sortedSlideIndex } = set;
  let truePositives = 0;
  let falsePositives = 0;
  let area = 0;
  let precisionSum = 0;
  for (let i = 0; i < sortedScores.length; ) {
    const previousTruePositives = truePositives;
    const previousFalsePositives = falsePositives;
    const score = sortedScores[i]!;
    for (; i < sortedScores.length && sortedScores[i] === score; i++) {
      const weight = weights[sortedSlideIndex[i]!]!;
      if (sortedIsPositive[i]) truePositives += weight;
      else falsePositives += weight;
    }
    area += ((falsePositives - previousFalsePositives) * (truePositives + previousTruePositives)) / 2;
    if (truePositives + falsePositives > 0) precisionSum += ((truePositives - previousTruePositives) * truePositives) / (truePositives + falsePositives);
  }
  return {
    auroc: truePositives === 0 || falsePositives === 0 ? Number.NaN : area / (truePositives * falsePositives),
    averagePrecision: truePositives === 0 ? Number.NaN : precisionSum / truePositives,
  };
}

/** Every headline metric with slide `s` counted `weights[s]` times. */
export function weightedMetrics(set: PredictionsBySlide, weights: Float64Array): Record<MetricName, number> {
  return { ...confusionMetrics(weightedConfusion(set, weights), set.positiveClass), ...rankingMetrics(set, weights) };
}

/** One metric with slide `s` counted `weights[s]` times (the ranking pass only for AUROC and AP). */
export function weightedMetric(set: PredictionsBySlide, weights: Float64Array, name: MetricName): number {
  if (name === 'auroc' || name === 'averagePrecision') return rankingMetrics(set, weights)[name];
  return confusionMetrics(weightedConfusion(set, weights), set.positiveClass)[name];
}

/** Weights of 1 for every slide: the metrics of the predictions as they are. */
export function unitWeights(set: PredictionsBySlide): Float64Array {
  return new Float64Array(set.slideIds.length).fill(1);
}
