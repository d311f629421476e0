import { describe, expect, it } from 'vitest';
import { cohenKappa, fleissKappa } from '../../../src-main/services/evaluation/agreement';
import { blandAltman, intraclassCorrelation } from '../../../src-main/services/evaluation/clinical';
import { agreementGolden, TOLERANCE } from './golden';

const golden = agreementGolden();

describe("Cohen's and Fleiss' κ", () => {
  it("Cohen's κ matches sklearn's cohen_kappa_score, unweighted and linear", () => {
    const { firstRater, secondRater, kappa, linearKappa } = golden.cohen;
    expect(Math.abs(cohenKappa(firstRater, secondRater) - kappa)).toBeLessThanOrEqual(TOLERANCE);
    expect(Math.abs(cohenKappa(firstRater, secondRater, 'linear') - linearKappa)).toBeLessThanOrEqual(TOLERANCE);
  });

  it("Fleiss' κ matches statsmodels' fleiss_kappa", () => {
    expect(Math.abs(fleissKappa(golden.fleiss.ratingsPerCell) - golden.fleiss.kappa)).toBeLessThanOrEqual(TOLERANCE);
  });

  it("Fleiss' κ of the textbook example (Fleiss 1971 as on Wikipedia: 10 subjects, 14 raters) is 0.210", () => {
    const categoryCounts = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    const ratingsPerCell = categoryCounts.map((counts) => counts.flatMap((count, category) => new Array<number>(count).fill(category)));
    expect(fleissKappa(ratingsPerCell)).toBeCloseTo(0.21, 3);
  });

  it('is 1 on perfect agreement and NaN when every rating is one class', () => {
    expect(cohenKappa([0, 1, 1, 0], [0, 1, 1, 0])).toBe(1);
    expect(fleissKappa([[0, 0, 0], [1, 1, 1]])).toBe(1);
    expect(fleissKappa([[1, 1], [1, 1]])).toBeNaN();
  });

  it('rejects cells with differing rater counts, naming the cell', () => {
    expect(() => fleissKappa([[0, 1], [0]])).toThrow(/ratingsPerCell: cell 1 has 1 ratings, the first has 2/);
    expect(() => fleissKappa([[0], [1]])).toThrow(/at least 2 ratings/);
  });
});

describe('clinical agreement of counts', () => {
  it('Bland–Altman matches NumPy (mean, SD with n − 1, ±1.96 SD)', () => {
    const { predicted, annotated } = golden.clinical;
    const result = blandAltman(predicted, annotated);
    for (const key of ['meanDifference', 'sdDifference', 'lowerLimit', 'upperLimit'] as const) {
      expect(Math.abs(result[key] - golden.clinical[key]), key).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(result.differences[0]).toBe((predicted[0] as number) - (annotated[0] as number));
  });

  it('ICC(2,1) matches the NumPy ANOVA computation', () => {
    const { predicted, annotated, icc21 } = golden.clinical;
    const rows = predicted.map((value, i) => [value, annotated[i] as number]);
    expect(Math.abs(intraclassCorrelation(rows) - icc21)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('ICC(2,1) of Shrout & Fleiss (1979) table 2 is 0.29 (ICC(3,1) would be 0.71)', () => {
    const ratings = [
      [9, 2, 5, 8],
      [6, 1, 3, 2],
      [8, 4, 6, 8],
      [7, 1, 2, 6],
      [10, 5, 6, 9],
      [6, 2, 4, 7],
    ];
    expect(intraclassCorrelation(ratings)).toBeCloseTo(0.2898, 4);
  });

  it('punishes a systematic bias that consistency would forgive', () => {
    const annotated = [2, 5, 9, 14, 20];
    const doubled = annotated.map((count) => count * 2);
    expect(intraclassCorrelation(annotated.map((count, i) => [count, doubled[i] as number]))).toBeLessThan(0.8);
    expect(intraclassCorrelation(annotated.map((count) => [count, count]))).toBe(1);
    expect(blandAltman(doubled, annotated).meanDifference).toBe(10);
  });

  it('rejects ragged or too small input, naming it', () => {
    expect(() => intraclassCorrelation([[1, 2], [3]])).toThrow(/ratings: row 1 has 1 ratings/);
    expect(() => blandAltman([1], [1])).toThrow(/measured: needs at least 2 pairs/);
    expect(() => blandAltman([1, 2], [1, Number.POSITIVE_INFINITY])).toThrow(/reference: item 1 is Infinity/);
  });
});
