import { InvalidEvaluationInputError } from './errors';
import { checkFiniteNumbers, checkSameLength } from './inputChecks';

/*
 * Agreement of predicted and annotated mitotic counts per slide (or per 2.37 mm² area): the question
 * a pathologist asks is not "is the AUROC high" but "would the grade change".
 */

export interface BlandAltman {
  /** Mean of predicted − annotated: the systematic bias. */
  meanDifference: number;
  /** Sample SD (n − 1) of the differences. */
  sdDifference: number;
  /** meanDifference ∓ 1.96 SD: where 95 % of the differences are expected. */
  lowerLimit: number;
  upperLimit: number;
  /** Per pair, for the plot: (a + b) / 2 and a − b. */
  means: number[];
  differences: number[];
}

/** Bland–Altman agreement of `measured` against `reference` (both per slide or per area, same order). */
export function blandAltman(measured: readonly number[], reference: readonly number[]): BlandAltman {
  checkFiniteNumbers('measured', measured);
  checkFiniteNumbers('reference', reference);
  checkSameLength('measured', measured, 'reference', reference);
  if (measured.length < 2) throw new InvalidEvaluationInputError('measured', 'needs at least 2 pairs for a spread');
  const differences = measured.map((value, i) => value - (reference[i] as number));
  const means = measured.map((value, i) => (value + (reference[i] as number)) / 2);
  const meanDifference = differences.reduce((sum, d) => sum + d, 0) / differences.length;
  const variance = differences.reduce((sum, d) => sum + (d - meanDifference) ** 2, 0) / (differences.length - 1);
  const sdDifference = Math.sqrt(variance);
  return {
    meanDifference,
    sdDifference,
    lowerLimit: meanDifference - 1.96 * sdDifference,
    upperLimit: meanDifference + 1.96 * sdDifference,
    means,
    differences,
  };
}

/**
 * ICC(2,1) (Shrout & Fleiss 1979; McGraw & Wong's ICC(A,1)): two-way random effects, absolute
 * agreement, single measurement. Absolute agreement because a model that counts every slide 30 %
 * high would change grades even if it ranks slides perfectly (ICC(3,1), consistency, would forgive
 * that). `ratings[target][rater]`: one row per slide, one column per rater (e.g. [predicted,
 * annotated]). NaN when every rating is identical (no variance to explain).
 */
export function intraclassCorrelation(ratings: readonly (readonly number[])[]): number {
  const targets = ratings.length;
  const raters = ratings[0]?.length ?? 0;
  if (targets < 2) throw new InvalidEvaluationInputError('ratings', 'needs at least 2 targets (rows)');
  if (raters < 2) throw new InvalidEvaluationInputError('ratings', 'needs at least 2 raters (columns)');
  ratings.forEach((row, i) => {
    if (row.length !== raters) throw new InvalidEvaluationInputError('ratings', `row ${i} has ${row.length} ratings, the first has ${raters}`);
    checkFiniteNumbers(`ratings[${i}]`, row);
  });
  const grandMean = ratings.flat().reduce((sum, value) => sum + value, 0) / (targets * raters);
  const rowMeans = ratings.map((row) => row.reduce((sum, value) => sum + value, 0) / raters);
  const columnMeans = Array.from({ length: raters }, (_, j) => ratings.reduce((sum, row) => sum + (row[j] as number), 0) / targets);
  const betweenTargets = raters * rowMeans.reduce((sum, mean) => sum + (mean - grandMean) ** 2, 0);
  const betweenRaters = targets * columnMeans.reduce((sum, mean) => sum + (mean - grandMean) ** 2, 0);
  const total = ratings.flat().reduce((sum, value) => sum + (value - grandMean) ** 2, 0);
  const residual = total - betweenTargets - betweenRaters;
  const meanSquareTargets = betweenTargets / (targets - 1);
  const meanSquareRaters = betweenRaters / (raters - 1);
  const meanSquareError = residual / ((targets - 1) * (raters - 1));
  const denominator =
    meanSquareTargets + (raters - 1) * meanSquareError + (raters * (meanSquareRaters - meanSquareError)) / targets;
  return denominator === 0 ? Number.NaN : (meanSquareTargets - meanSquareError) / denominator;
}
