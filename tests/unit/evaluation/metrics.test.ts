import { describe, expect, it } from 'vitest';
import { confusionMatrix } from '../../../src-main/services/evaluation/confusion';
import { InvalidEvaluationInputError } from '../../../src-main/services/evaluation/errors';
import {
  accuracy,
  auroc,
  averagePrecision,
  balancedAccuracy,
  macroOneVsRestAuroc,
  quadraticWeightedKappa,
  recallPerClass,
  rocCurve,
  sensitivity,
  specificity,
  weightedF1,
} from '../../../src-main/services/evaluation/metrics';
import { summarizeClassification } from '../../../src-main/services/evaluation/summary';
import { closeTo, metricCases, orNaN } from './golden';

function expectClose(actual: number, expected: number | null | undefined, what: string): void {
  expect(closeTo(actual, orNaN(expected)), `${what}: ${actual} vs sklearn ${expected}`).toBe(true);
}

describe.each(metricCases())('scikit-learn golden case $name', (golden) => {
  const { yTrue, yPred, classCount, sklearn } = golden;

  it('matches accuracy, balanced accuracy, weighted F1 and quadratic κ within 1e-12', () => {
    expectClose(accuracy(yTrue, yPred), sklearn.accuracy, 'accuracy');
    expectClose(balancedAccuracy(yTrue, yPred), sklearn.balancedAccuracy, 'balanced accuracy');
    expectClose(weightedF1(yTrue, yPred), sklearn.weightedF1, 'weighted F1');
    expectClose(quadraticWeightedKappa(yTrue, yPred), sklearn.quadraticKappa, 'quadratic κ');
  });

  it('matches the confusion matrix, recall (sensitivity) and specificity per class', () => {
    const matrix = confusionMatrix(yTrue, yPred, classCount);
    expect(matrix).toEqual(sklearn.confusionMatrix);
    recallPerClass(matrix).forEach((recall, c) => expectClose(recall, sklearn.recallPerClass[c], `recall of ${c}`));
    for (let c = 0; c < classCount; c++) {
      expectClose(sensitivity(yTrue, yPred, c), sklearn.recallPerClass[c], `sensitivity of ${c}`);
      expectClose(specificity(yTrue, yPred, c), sklearn.specificityPerClass[c], `specificity of ${c}`);
    }
  });

  // Only the cases the generator gave this input for (binary scores, score rows).
  if (golden.positiveScores !== undefined) {
    it('matches AUROC and the ROC curve points', () => {
      const scores = golden.positiveScores!;
      expectClose(auroc(yTrue, scores), sklearn.auroc, 'AUROC');
      const curve = rocCurve(yTrue, scores);
      const expected = sklearn.rocCurve!;
      expect(curve.thresholds[0]).toBe(Number.POSITIVE_INFINITY);
      expect(curve.thresholds.slice(1)).toEqual(expected.thresholdsAfterInfinity);
      curve.falsePositiveRate.forEach((rate, k) => expectClose(rate, expected.falsePositiveRate[k], `FPR ${k}`));
      curve.truePositiveRate.forEach((rate, k) => expectClose(rate, expected.truePositiveRate[k], `TPR ${k}`));
    });
  }

  if (golden.positiveScores !== undefined && sumOf(yTrue) > 0) {
    it('matches average precision (step sum)', () => {
      expectClose(averagePrecision(yTrue, golden.positiveScores!), sklearn.averagePrecision, 'AP');
    });
  }

  if (golden.scoreRows !== undefined) {
    it('matches the macro one-vs-rest AUROC (NaN where sklearn refuses)', () => {
      expectClose(macroOneVsRestAuroc(yTrue, golden.scoreRows!), sklearn.macroOneVsRestAuroc, 'macro OvR AUROC');
    });
  }
});

function sumOf(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0);
}

describe('edge cases', () => {
  it('AP without any positive cell is NaN (sklearn says 0 with a warning: a documented deviation)', () => {
    const noPositive = metricCases().find((golden) => golden.name === 'binary-no-positive')!;
    expect(noPositive.sklearn.averagePrecision).toBe(0);
    expect(averagePrecision(noPositive.yTrue, noPositive.positiveScores!)).toBeNaN();
    expect(auroc(noPositive.yTrue, noPositive.positiveScores!)).toBeNaN();
  });

  it('all scores tied gives AUROC 0.5 and AP equal to the positive share', () => {
    const yTrue = [0, 1, 0, 1, 1, 0, 0, 0];
    const scores = new Array<number>(8).fill(0.7);
    expect(auroc(yTrue, scores)).toBe(0.5);
    expect(averagePrecision(yTrue, scores)).toBeCloseTo(3 / 8, 15);
    expect(rocCurve(yTrue, scores).falsePositiveRate).toEqual([0, 1]);
  });

  it('a tie between a positive and a negative counts half, whatever the input order', () => {
    // Pairs (pos, neg): 0.9>0.5, 0.9>0.1, 0.5=0.5 (half), 0.5>0.1 → 3.5 / 4.
    expect(auroc([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1])).toBe(0.875);
    expect(auroc([0, 1, 0, 1], [0.5, 0.5, 0.1, 0.9])).toBe(0.875);
  });

  it('quadratic κ is NaN when truth and prediction use one single class, 1 on perfect agreement', () => {
    expect(quadraticWeightedKappa([2, 2, 2], [2, 2, 2])).toBeNaN();
    expect(quadraticWeightedKappa([0, 1, 2, 2], [0, 1, 2, 2])).toBe(1);
  });

  it('summarizes every metric and says why each undefined one is undefined', () => {
    const summary = summarizeClassification({ yTrue: [0, 0, 0, 0], yPred: [0, 1, 0, 0], positiveScores: [0.1, 0.8, 0.3, 0.2], positiveClass: 1 });
    expect(summary.values.accuracy).toBe(0.75);
    expect(summary.values.specificity).toBe(0.75);
    expect(summary.values.auroc).toBeNaN();
    expect(summary.undefinedReasons.auroc).toBe('no true cell of class 1');
    expect(summary.undefinedReasons.sensitivity).toBe('no true cell of class 1');
    expect(summary.undefinedReasons.averagePrecision).toBe('no true cell of class 1');
    expect(summary.undefinedReasons.accuracy).toBeUndefined();
    const withoutScores = summarizeClassification({ yTrue: [0, 1], yPred: [0, 1], positiveClass: 1 });
    expect(withoutScores.undefinedReasons.auroc).toBe('no scores were given');
    expect(withoutScores.values.balancedAccuracy).toBe(1);
  });

  it('rejects bad input naming the argument at fault', () => {
    expect(() => accuracy([0, 1], [0])).toThrow(/yPred: has 1 items but yTrue has 2/);
    expect(() => balancedAccuracy([0, 1.5], [0, 1])).toThrow(InvalidEvaluationInputError);
    expect(() => balancedAccuracy([0, 1.5], [0, 1])).toThrow(/yTrue: item 1 is 1.5/);
    expect(() => auroc([0, 1], [0.2, Number.NaN])).toThrow(/scores: item 1 is NaN/);
    expect(() => weightedF1([], [])).toThrow(/yTrue: is empty/);
    expect(() => confusionMatrix([0, 2], [0, 1], 2)).toThrow(/classCount: is 2 but the labels need at least 3/);
    expect(() => macroOneVsRestAuroc([0, 1], [[0.5, 0.5], [0.2]])).toThrow(/scoreRows: row 1 has 1 scores/);
  });
});
