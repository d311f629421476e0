import { describe, expect, it } from 'vitest';
import { aggregateGroups, pairedComparisons } from '../../../../src-main/services/evaluation/study/aggregate';
import type { RunPredictions } from '../../../../src-main/services/evaluation/study/aggregate';
import { predictionsBySlide } from '../../../../src-main/services/evaluation/study/weightedMetrics';

/** A run whose one test slide holds 10 cells, `correct` of them right (5 per class). */
function run(seed: number, slideId: string, correctPerClass: number, modelId = 1): RunPredictions {
  const cells = [0, 1].flatMap((trueClass) =>
    Array.from({ length: 5 }, (_, i) => ({ slideId, trueClass, predictedClass: i < correctPerClass ? trueClass : 1 - trueClass, positiveScore: (trueClass + i) / 10 })),
  );
  return { runId: seed * 10 + modelId, modelId, method: 'linear-probe', fraction: 1, seed, domain: '', testSets: new Map([['test', predictionsBySlide(cells, 2, 1)]]) };
}

describe('the interval over seeds', () => {
  it('covers the seed-to-seed spread when each seed tests a slide of its own (it does not collapse to one value)', () => {
    // Balanced accuracies 0.6, 0.8 and 1.0 on three different slides.
    const runs = [run(1, 'a', 3), run(2, 'b', 4), run(3, 'c', 5)];
    const balanced = aggregateGroups(runs, { replicates: 2000, seed: 9 }).find((row) => row.metric === 'balancedAccuracy')!;
    expect(balanced.mean).toBeCloseTo(0.8, 12);
    expect(balanced.sd).toBeCloseTo(0.2, 12);
    expect(balanced.interval.estimate).toBeCloseTo(0.8, 12);
    // The mean of three draws from {0.6, 0.8, 1.0}: all three are 0.6 (or all 1.0) with probability
    // 1/27 = 3.7 % > 2.5 %, so the 95 % interval is [0.6, 1.0]. (Resampling only the union of slides
    // gave [0.8, 0.8]: a replicate was defined only when it drew every seed's slide.)
    expect(balanced.interval.lower).toBeCloseTo(0.6, 9);
    expect(balanced.interval.upper).toBeCloseTo(1, 9);
    expect(balanced.interval.definedReplicates).toBe(2000);
  });

  it('is the same for the same seed', () => {
    const runs = [run(1, 'a', 3), run(2, 'b', 4)];
    expect(aggregateGroups(runs, { replicates: 500, seed: 4 })).toEqual(aggregateGroups(runs, { replicates: 500, seed: 4 }));
  });
});

describe('paired comparisons over seeds', () => {
  it('draw seeds and then slides, scoring both models on the same draws', () => {
    // Model 1 is right on 3, 4, 5 of 5 cells per class (balanced accuracy 0.6, 0.8, 1.0); model 2 on 3 (0.6) each time.
    const runs = [run(1, 'a', 3, 1), run(2, 'b', 4, 1), run(3, 'c', 5, 1), run(1, 'a', 3, 2), run(2, 'b', 3, 2), run(3, 'c', 3, 2)];
    const balanced = pairedComparisons(runs, { replicates: 2000, seed: 5 }).find((row) => row.metric === 'balancedAccuracy')!;
    expect(balanced.seeds).toBe(3);
    // Differences per seed 0, 0.2, 0.4: the mean 0.2, and three draws are all 0 (or all 0.4) with probability 1/27 > 2.5 %.
    expect(balanced.interval.estimate).toBeCloseTo(0.2, 12);
    expect(balanced.interval.lower).toBeCloseTo(0, 9);
    expect(balanced.interval.upper).toBeCloseTo(0.4, 9);
  });
});
