import { describe, expect, it } from 'vitest';
import {
  bootstrapBySlide,
  groupBySlide,
  linearQuantile,
  pairedBootstrapDifference,
  resampleSlides,
} from '../../../src-main/services/evaluation/bootstrap';
import { balancedAccuracy, sensitivity } from '../../../src-main/services/evaluation/metrics';
import { seededRandom } from '../../../src-main/services/random/seededRandom';
import { type PredictedCell, syntheticCells } from './syntheticCells';

const balancedAccuracyOf = (model: 'predictedA' | 'predictedB') => (sample: readonly PredictedCell[]) =>
  balancedAccuracy(
    sample.map((cell) => cell.classIndex),
    sample.map((cell) => cell[model]),
  );

describe('bootstrap over slides', () => {
  const cells = syntheticCells(30, 7);

  it('is deterministic by seed and changes with it', () => {
    const first = bootstrapBySlide(cells, balancedAccuracyOf('predictedA'), { seed: 1, replicates: 300 });
    const again = bootstrapBySlide(cells, balancedAccuracyOf('predictedA'), { seed: 1, replicates: 300 });
    const other = bootstrapBySlide(cells, balancedAccuracyOf('predictedA'), { seed: 2, replicates: 300 });
    expect(again).toEqual(first);
    expect(other.lower).not.toBe(first.lower);
    expect(first.estimate).toBe(balancedAccuracyOf('predictedA')(cells));
    expect(first.lower).toBeLessThan(first.estimate);
    expect(first.upper).toBeGreaterThan(first.estimate);
    expect(first.definedReplicates + first.undefinedReplicates).toBe(300);
  });

  it('does not depend on the order of the cells', () => {
    const reversed = [...cells].reverse();
    const forward = bootstrapBySlide(cells, (sample) => sample.length, { seed: 4, replicates: 100 });
    const backward = bootstrapBySlide(reversed, (sample) => sample.length, { seed: 4, replicates: 100 });
    expect(backward).toEqual(forward);
  });

  it('keeps the cells of a slide together: a replicate holds every cell of a drawn slide, times drawn', () => {
    const slides = groupBySlide(cells);
    const random = seededRandom(11);
    for (let replicate = 0; replicate < 50; replicate++) {
      const sample = resampleSlides(slides, random);
      const perSlide = new Map<string, number>();
      for (const cell of sample) perSlide.set(cell.slideId, (perSlide.get(cell.slideId) ?? 0) + 1);
      for (const [slideId, count] of perSlide) {
        const slideSize = slides.find((slide) => slide[0]!.slideId === slideId)!.length;
        expect(count % slideSize, slideId).toBe(0);
      }
    }
  });

  it('is wider over slides than a naive per-cell bootstrap would be for slide-correlated errors', () => {
    // Every cell of an odd slide is wrong: errors are entirely slide-level.
    const correlated = cells.map((cell) => ({ ...cell, predictedA: Number(cell.slideId.slice(-1)) % 2 === 1 ? 1 - cell.classIndex : cell.classIndex }));
    const accuracyOf = (sample: readonly PredictedCell[]) => sample.filter((cell) => cell.predictedA === cell.classIndex).length / sample.length;
    const bySlide = bootstrapBySlide(correlated, accuracyOf, { seed: 3, replicates: 500 });
    const perCell = bootstrapBySlide(correlated.map((cell) => ({ ...cell, slideId: cell.cellId })), accuracyOf, { seed: 3, replicates: 500 });
    expect(bySlide.upper - bySlide.lower).toBeGreaterThan(2 * (perCell.upper - perCell.lower));
  });

  it('counts replicates where the metric is undefined and leaves them out of the interval', () => {
    const rare = syntheticCells(12, 5, 0.02);
    const result = bootstrapBySlide(rare, (sample) => sensitivity(sample.map((c) => c.classIndex), sample.map((c) => c.predictedA)), { seed: 9, replicates: 400 });
    expect(result.undefinedReplicates).toBeGreaterThan(0);
    expect(result.definedReplicates).toBe(400 - result.undefinedReplicates);
    expect(Number.isNaN(result.lower)).toBe(false);
  });

  it('takes percentiles the way numpy.percentile does (linear)', () => {
    expect(linearQuantile([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 15);
    expect(linearQuantile([1, 2, 3, 4], 0.975)).toBeCloseTo(3.925, 15);
    expect(linearQuantile([5], 0.5)).toBe(5);
  });

  it('rejects bad options and empty input, naming them', () => {
    expect(() => bootstrapBySlide([], () => 0, { seed: 1 })).toThrow(/cells: is empty/);
    expect(() => bootstrapBySlide(cells, () => 0, { seed: 1.5 })).toThrow(/seed: is 1.5/);
    expect(() => bootstrapBySlide(cells, () => 0, { seed: 1, replicates: 0 })).toThrow(/replicates: is 0/);
    expect(() => bootstrapBySlide(cells, () => 0, { seed: 1, confidence: 95 })).toThrow(/confidence: is 95/);
  });
});

describe('paired bootstrap difference', () => {
  const cells = syntheticCells(40, 21);

  it('gives A − B on all cells and a CI that excludes 0 when A is clearly better', () => {
    const difference = pairedBootstrapDifference(cells, balancedAccuracyOf('predictedA'), balancedAccuracyOf('predictedB'), { seed: 5, replicates: 500 });
    expect(difference.estimate).toBeCloseTo(balancedAccuracyOf('predictedA')(cells) - balancedAccuracyOf('predictedB')(cells), 15);
    expect(difference.lower).toBeGreaterThan(0);
  });

  it('evaluates both sets on the same resampled slides: a model against itself differs by exactly 0', () => {
    const same = pairedBootstrapDifference(cells, balancedAccuracyOf('predictedA'), balancedAccuracyOf('predictedA'), { seed: 5, replicates: 200 });
    expect([same.estimate, same.lower, same.upper]).toEqual([0, 0, 0]);
  });
});
