import type { StudyMethod } from '../../../contract/studiesSchemas';
import { derivedSeed, randomIndex, seededRandom } from '../../random/seededRandom';
import { type BootstrapInterval, bootstrapBySlide, linearQuantile } from '../bootstrap';
import { METRIC_NAMES, type MetricName } from '../summary';
import { type PredictionsBySlide, weightedMetric } from './weightedMetrics';

/*
 * Uncertainty of a study's numbers. Slides are the independent units (cells of one slide share a
 * patient, stain and scanner), so every interval here resamples slides. Over seeds the statistic
 * is the mean over seeds, and the interval is a two-level bootstrap: a replicate draws the seeds
 * with replacement, then within each drawn seed its test slides with replacement, so it covers
 * both the seed-to-seed spread (other splits, other training draws) and the finite number of test
 * slides. (Resampling only the union of slides collapses when each seed tests other slides: a
 * replicate is then defined only when it draws every seed's slide, i.e. always the same value.)
 * Paired comparisons draw the same way, scoring both variants on the same drawn slides of each
 * drawn seed, so what the two share (hard slides) cancels.
 */

/** The metrics compared pairwise: the primary one and the threshold-free one. */
export const COMPARED_METRICS: readonly MetricName[] = ['balancedAccuracy', 'auroc'];

export interface RunPredictions {
  runId: number;
  modelId: number;
  method: StudyMethod;
  fraction: number;
  seed: number;
  domain: string;
  /** Per test set ('test' or a domain), the run's predictions grouped by slide. */
  testSets: Map<string, PredictionsBySlide>;
}

export interface GroupMetric {
  modelId: number;
  method: StudyMethod;
  fraction: number;
  domain: string;
  testSet: string;
  metric: MetricName;
  /** Mean over seeds; NaN when undefined in any seed. */
  mean: number;
  /** Sample SD over seeds; NaN with one seed. */
  sd: number;
  interval: BootstrapInterval;
  seeds: number;
}

export interface PairedComparison {
  fraction: number;
  domain: string;
  testSet: string;
  metric: MetricName;
  a: { modelId: number; method: StudyMethod };
  b: { modelId: number; method: StudyMethod };
  /** Mean over seeds of A − B on the same cells, and its paired interval. */
  interval: BootstrapInterval;
  seeds: number;
}

function drawCounts(sample: readonly { slideId: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { slideId } of sample) counts.set(slideId, (counts.get(slideId) ?? 0) + 1);
  return counts;
}

function weightsOf(set: PredictionsBySlide, counts: ReadonlyMap<string, number>): Float64Array {
  return Float64Array.from(set.slideIds, (slideId) => counts.get(slideId) ?? 0);
}

/** A percentile interval of `statistic` (a function of how often each slide was drawn) over the union of `slideIds`. */
export function intervalOverSlides(
  slideIds: Iterable<string>,
  statistic: (counts: ReadonlyMap<string, number>) => number,
  options: { replicates: number; seed: number },
): BootstrapInterval {
  const units = [...new Set(slideIds)].map((slideId) => ({ slideId }));
  return bootstrapBySlide(units, (sample) => statistic(drawCounts(sample)), options);
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function sampleSd(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const average = mean(values);
  return Math.sqrt(values.reduce((sum, value) => sum + (value - average) ** 2, 0) / (values.length - 1));
}

/**
 * The 95 % percentile interval of a mean over seeds by the two-level bootstrap (see the top): a
 * replicate draws `units` (one per seed) with replacement, and for each drawn unit `value` draws
 * that seed's test slides with replacement (as slide weights, through `draw`). Replicates where a
 * value is undefined are left out and counted.
 */
function twoLevelInterval<T>(
  units: readonly T[],
  value: (unit: T, draw: (slides: number) => Float64Array) => number,
  estimate: number,
  options: { replicates: number; seed: number },
): BootstrapInterval {
  const random = seededRandom(options.seed);
  const draw = (slides: number) => {
    const weights = new Float64Array(slides);
    for (let i = 0; i < slides; i++) weights[randomIndex(random, slides)]! += 1;
    return weights;
  };
  const defined: number[] = [];
  for (let replicate = 0; replicate < options.replicates; replicate++) {
    let total = 0;
    for (let i = 0; i < units.length; i++) total += value(units[randomIndex(random, units.length)]!, draw);
    if (Number.isFinite(total)) defined.push(total / units.length);
  }
  defined.sort((x, y) => x - y);
  return {
    estimate,
    lower: linearQuantile(defined, 0.025),
    upper: linearQuantile(defined, 0.975),
    definedReplicates: defined.length,
    undefinedReplicates: options.replicates - defined.length,
  };
}

function unitWeightsOf(set: PredictionsBySlide): Float64Array {
  return Float64Array.from(set.slideIds, () => 1);
}

/** Weights of `from`'s slides carried over to `to`'s, by slide id (the two share their test slides). */
function remap(weights: Float64Array, from: PredictionsBySlide, to: PredictionsBySlide): Float64Array {
  const byId = new Map(from.slideIds.map((slideId, i) => [slideId, weights[i]!]));
  return Float64Array.from(to.slideIds, (slideId) => byId.get(slideId) ?? 0);
}

/** The CI of one run's metric on one of its test sets. */
export function runInterval(set: PredictionsBySlide, metric: MetricName, options: { replicates: number; seed: number }): BootstrapInterval {
  return intervalOverSlides(set.slideIds, (counts) => weightedMetric(set, weightsOf(set, counts), metric), options);
}

interface Group {
  key: string;
  modelId: number;
  method: StudyMethod;
  fraction: number;
  domain: string;
  testSet: string;
  /** By seed. */
  sets: Map<number, PredictionsBySlide>;
}

/** Runs grouped by everything but the seed, per test set, in first-seen order. */
function groupsOf(runs: readonly RunPredictions[]): Group[] {
  const groups = new Map<string, Group>();
  for (const run of runs) {
    for (const [testSet, set] of run.testSets) {
      const key = JSON.stringify([run.modelId, run.method, run.fraction, run.domain, testSet]);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { key, modelId: run.modelId, method: run.method, fraction: run.fraction, domain: run.domain, testSet, sets: new Map() }));
      group.sets.set(run.seed, set);
    }
  }
  return [...groups.values()];
}

/** Mean ± SD over seeds and a 95 % CI by bootstrap over slides, per group and metric. */
export function aggregateGroups(runs: readonly RunPredictions[], options: { replicates: number; seed: number }): GroupMetric[] {
  return groupsOf(runs).flatMap((group) => {
    const sets = [...group.sets.values()];
    return METRIC_NAMES.map((metric) => {
      const perSeed = sets.map((set) => weightedMetric(set, unitWeightsOf(set), metric));
      const interval = twoLevelInterval(sets, (set, draw) => weightedMetric(set, draw(set.slideIds.length), metric), mean(perSeed), {
        replicates: options.replicates,
        seed: derivedSeed(options.seed, `group:${group.key}:${metric}`),
      });
      return { modelId: group.modelId, method: group.method, fraction: group.fraction, domain: group.domain, testSet: group.testSet, metric, mean: mean(perSeed), sd: sampleSd(perSeed), interval, seeds: sets.length };
    });
  });
}

/**
 * Paired differences between every two variants (model × method) tested on the same cells: same
 * fraction, domain, test set and seed. Each replicate evaluates both on the same drawn slides, so
 * what they share (hard slides) cancels.
 */
export function pairedComparisons(runs: readonly RunPredictions[], options: { replicates: number; seed: number }): PairedComparison[] {
  const groups = groupsOf(runs);
  const comparisons: PairedComparison[] = [];
  groups.forEach((a, i) => {
    for (const b of groups.slice(i + 1)) {
      if (a.fraction !== b.fraction || a.domain !== b.domain || a.testSet !== b.testSet) continue;
      const seeds = [...a.sets.keys()].filter((seed) => b.sets.has(seed));
      if (seeds.length === 0) continue;
      const pairs = seeds.map((seed) => [a.sets.get(seed)!, b.sets.get(seed)!] as const);
      for (const metric of COMPARED_METRICS) {
        const perSeed = pairs.map(([setA, setB]) => weightedMetric(setA, unitWeightsOf(setA), metric) - weightedMetric(setB, unitWeightsOf(setB), metric));
        comparisons.push({
          fraction: a.fraction,
          domain: a.domain,
          testSet: a.testSet,
          metric,
          a: { modelId: a.modelId, method: a.method },
          b: { modelId: b.modelId, method: b.method },
          interval: twoLevelInterval(
            pairs,
            ([setA, setB], draw) => {
              // Both variants are scored on the same drawn slides of their shared test set.
              const weights = draw(setA.slideIds.length);
              return weightedMetric(setA, weights, metric) - weightedMetric(setB, remap(weights, setA, setB), metric);
            },
            mean(perSeed),
            { replicates: options.replicates, seed: derivedSeed(options.seed, `paired:${a.key}:${b.key}:${metric}`) },
          ),
          seeds: seeds.length,
        });
      }
    }
  });
  return comparisons;
}
