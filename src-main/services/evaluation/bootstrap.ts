import { InvalidEvaluationInputError } from './errors';
import { checkFraction } from './inputChecks';
import { randomIndex, seededRandom } from '../random/seededRandom';

/*
 * Confidence intervals by bootstrap over slides: cells of one slide are correlated (same patient,
 * stain, scanner), so resampling cells one by one would understate the uncertainty. A replicate
 * draws as many slides as there are, with replacement, and takes all cells of each drawn slide.
 */

export interface SlideCell {
  slideId: string;
}

export interface BootstrapOptions {
  seed: number;
  /** Replicates to draw; 2,000 by default. */
  replicates?: number;
  /** Coverage of the interval; 0.95 by default. */
  confidence?: number;
}

export interface BootstrapInterval {
  /** The statistic on all cells (not the mean of the replicates). */
  estimate: number;
  /** Percentile interval, NumPy's default (linear) percentile of the defined replicates. */
  lower: number;
  upper: number;
  /** Replicates where the statistic was defined (not NaN). */
  definedReplicates: number;
  /** Replicates where it was NaN (e.g. no positive cell drawn): left out of the interval, counted here. */
  undefinedReplicates: number;
}

/** Cells grouped by slide, slides in sorted id order so the draw does not depend on cell order. */
export function groupBySlide<T extends SlideCell>(cells: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const cell of cells) {
    const group = groups.get(cell.slideId);
    if (group) group.push(cell);
    else groups.set(cell.slideId, [cell]);
  }
  return [...groups.keys()].sort().map((slideId) => groups.get(slideId) as T[]);
}

/** The `quantile` (0..1) of sorted values by linear interpolation (`numpy.percentile` default). */
export function linearQuantile(sortedValues: readonly number[], quantile: number): number {
  if (sortedValues.length === 0) return Number.NaN;
  const position = (sortedValues.length - 1) * quantile;
  const below = Math.floor(position);
  const low = sortedValues[below] as number;
  const high = sortedValues[Math.min(below + 1, sortedValues.length - 1)] as number;
  return low + (position - below) * (high - low);
}

function checkedOptions(options: BootstrapOptions): Required<BootstrapOptions> {
  const replicates = options.replicates ?? 2000;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(options.seed)) throw new InvalidEvaluationInputError('seed', `is ${options.seed}, not an integer`);
  if (!Number.isInteger(replicates) || replicates < 1) {
    throw new InvalidEvaluationInputError('replicates', `is ${replicates}, not a positive integer`);
  }
  checkFraction('confidence', confidence, { allowZero: false });
  return { seed: options.seed, replicates, confidence };
}

/** One replicate: the cells of `slides.length` slides drawn with replacement. */
export function resampleSlides<T>(slides: readonly (readonly T[])[], random: () => number): T[] {
  const sample: T[] = [];
  for (let i = 0; i < slides.length; i++) sample.push(...(slides[randomIndex(random, slides.length)] as readonly T[]));
  return sample;
}

function intervalOf(estimate: number, replicateValues: readonly number[], confidence: number): BootstrapInterval {
  const defined = replicateValues.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  return {
    estimate,
    lower: linearQuantile(defined, tail),
    upper: linearQuantile(defined, 1 - tail),
    definedReplicates: defined.length,
    undefinedReplicates: replicateValues.length - defined.length,
  };
}

function checkedSlides<T extends SlideCell>(cells: readonly T[]): T[][] {
  if (cells.length === 0) throw new InvalidEvaluationInputError('cells', 'is empty');
  return groupBySlide(cells);
}

/** A percentile CI for any `statistic` of a cell set (a metric over the cells' labels and predictions). */
export function bootstrapBySlide<T extends SlideCell>(
  cells: readonly T[],
  statistic: (sample: readonly T[]) => number,
  options: BootstrapOptions,
): BootstrapInterval {
  const { seed, replicates, confidence } = checkedOptions(options);
  const slides = checkedSlides(cells);
  const random = seededRandom(seed);
  const values = Array.from({ length: replicates }, () => statistic(resampleSlides(slides, random)));
  return intervalOf(statistic(cells), values, confidence);
}

/**
 * The difference `statisticA − statisticB` between two prediction sets on the same test cells, with
 * a percentile CI: each replicate evaluates both on the same resampled slides, so what the two share
 * (hard slides) cancels. Each cell carries both predictions; the statistics read their own.
 */
export function pairedBootstrapDifference<T extends SlideCell>(
  cells: readonly T[],
  statisticA: (sample: readonly T[]) => number,
  statisticB: (sample: readonly T[]) => number,
  options: BootstrapOptions,
): BootstrapInterval {
  return bootstrapBySlide(cells, (sample) => statisticA(sample) - statisticB(sample), options);
}
