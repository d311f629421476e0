import { type ConfusionMatrix, columnSums, confusionMatrix, inferClassCount, rowSums } from './confusion';
import { InvalidEvaluationInputError } from './errors';
import { checkClassLabels, checkLabelPairs } from './inputChecks';

/** How much a disagreement between classes i and j costs: none = every disagreement alike. */
export type KappaWeighting = 'none' | 'linear' | 'quadratic';

function disagreementWeight(i: number, j: number, weighting: KappaWeighting): number {
  if (weighting === 'none') return i === j ? 0 : 1;
  return weighting === 'linear' ? Math.abs(i - j) : (i - j) ** 2;
}

/**
 * Cohen's κ from a confusion matrix, as scikit-learn's `cohen_kappa_score` computes it:
 * 1 − Σ w·observed / Σ w·expected, expected from the product of the marginals. Class distance for
 * the weights is the class index (scikit-learn with `labels=range(classCount)`).
 *
 * NaN when the expected disagreement is 0 — both raters used one and the same single class, so
 * agreement beyond chance is undefined (scikit-learn also returns NaN there).
 */
export function kappaFromConfusion(matrix: ConfusionMatrix, weighting: KappaWeighting): number {
  const firstMarginal = rowSums(matrix);
  const secondMarginal = columnSums(matrix);
  const total = firstMarginal.reduce((sum, count) => sum + count, 0);
  let observed = 0;
  let expected = 0;
  matrix.forEach((row, i) => {
    row.forEach((count, j) => {
      const weight = disagreementWeight(i, j, weighting);
      observed += weight * count;
      expected += (weight * (secondMarginal[i] as number) * (firstMarginal[j] as number)) / total;
    });
  });
  return expected === 0 ? Number.NaN : 1 - observed / expected;
}

/** Cohen's κ between two annotators' labels of the same cells (unweighted unless asked). */
export function cohenKappa(
  firstRater: readonly number[],
  secondRater: readonly number[],
  weighting: KappaWeighting = 'none',
): number {
  checkLabelPairs('firstRater', firstRater, 'secondRater', secondRater);
  return kappaFromConfusion(confusionMatrix(firstRater, secondRater), weighting);
}

/**
 * Fleiss' κ for several annotators (Fleiss 1971). `ratingsPerCell[c]` holds the class each rater
 * gave cell c; every cell needs the same number (≥ 2) of ratings, though not from the same people.
 *
 * NaN when chance agreement is 1 (every rating is the same class): κ is undefined there.
 */
export function fleissKappa(ratingsPerCell: readonly (readonly number[])[]): number {
  if (ratingsPerCell.length === 0) throw new InvalidEvaluationInputError('ratingsPerCell', 'is empty');
  const ratersPerCell = ratingsPerCell[0]!.length;
  if (ratersPerCell < 2) throw new InvalidEvaluationInputError('ratingsPerCell', 'needs at least 2 ratings per cell');
  ratingsPerCell.forEach((ratings, cell) => {
    if (ratings.length !== ratersPerCell) {
      throw new InvalidEvaluationInputError('ratingsPerCell', `cell ${cell} has ${ratings.length} ratings, the first has ${ratersPerCell}`);
    }
    checkClassLabels(`ratingsPerCell[${cell}]`, ratings);
  });
  const classCount = inferClassCount(...ratingsPerCell);
  const classTotals = new Array<number>(classCount).fill(0);
  let observedAgreementSum = 0;
  for (const ratings of ratingsPerCell) {
    const counts = new Array<number>(classCount).fill(0);
    for (const label of ratings) counts[label]! += 1;
    counts.forEach((count, label) => {
      classTotals[label]! += count;
    });
    const agreeingPairs = counts.reduce((sum, count) => sum + count * (count - 1), 0);
    observedAgreementSum += agreeingPairs / (ratersPerCell * (ratersPerCell - 1));
  }
  const ratingCount = ratingsPerCell.length * ratersPerCell;
  const observed = observedAgreementSum / ratingsPerCell.length;
  const chance = classTotals.reduce((sum, total) => sum + (total / ratingCount) ** 2, 0);
  return chance === 1 ? Number.NaN : (observed - chance) / (1 - chance);
}
