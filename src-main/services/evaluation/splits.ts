import { InvalidEvaluationInputError } from './errors';
import { checkClassLabels, checkFraction } from './inputChecks';
import { derivedSeed, seededRandom, shuffled } from '../random/seededRandom';

/*
 * Train / validation / test splits. By default whole slides go to one part, so no test cell shares
 * a slide (patient, stain, scanner) with a training cell; the paper's cell-level split is kept only
 * to reproduce its numbers. Every function is pure and seeded.
 */

export interface SplitCell {
  cellId: string;
  slideId: string;
  classIndex: number;
}

export const SPLIT_PARTS = ['train', 'validation', 'test'] as const;
export type SplitPart = (typeof SPLIT_PARTS)[number];

/** Shares of the cells per part; they sum to 1. A part with 0 stays empty. */
export type SplitFractions = Record<SplitPart, number>;

export interface CellSplit<T> extends Record<SplitPart, T[]> {
  /** 'slide': no slide in two parts; 'cell': the paper's protocol, slides are shared. */
  level: 'slide' | 'cell';
}

function checkFractions(fractions: SplitFractions): void {
  for (const part of SPLIT_PARTS) checkFraction(`fractions.${part}`, fractions[part], { allowZero: true });
  const total = fractions.train + fractions.validation + fractions.test;
  if (Math.abs(total - 1) > 1e-9) throw new InvalidEvaluationInputError('fractions', `sum to ${total}, not 1`);
}

function checkCells(cells: readonly SplitCell[]): void {
  if (cells.length === 0) throw new InvalidEvaluationInputError('cells', 'is empty');
  checkClassLabels(
    'cells[].classIndex',
    cells.map((cell) => cell.classIndex),
  );
}

interface SlideGroup<T> {
  slideId: string;
  cells: T[];
  classCounts: number[];
}

function slideGroups<T extends SplitCell>(cells: readonly T[], classCount: number): SlideGroup<T>[] {
  const bySlide = new Map<string, SlideGroup<T>>();
  for (const cell of cells) {
    let group = bySlide.get(cell.slideId);
    if (!group) {
      group = { slideId: cell.slideId, cells: [], classCounts: new Array<number>(classCount).fill(0) };
      bySlide.set(cell.slideId, group);
    }
    group.cells.push(cell);
    group.classCounts[cell.classIndex]! += 1;
  }
  return [...bySlide.values()].sort((a, b) => (a.slideId < b.slideId ? -1 : a.slideId > b.slideId ? 1 : 0));
}

/**
 * How much adding `slide` to a part moves it away from its targets: squared miss per class,
 * relative to the class size so a rare class (mitoses) weighs as much as a common one.
 */
function costIncrease(assigned: readonly number[], target: readonly number[], slide: readonly number[], classTotals: readonly number[]): number {
  let increase = 0;
  slide.forEach((count, c) => {
    const scale = Math.max(classTotals[c] as number, 1) ** 2;
    const before = (assigned[c] as number) - (target[c] as number);
    increase += ((before + count) ** 2 - before ** 2) / scale;
  });
  return increase;
}

/**
 * Splits by slide, stratified by class: slides in a seeded random order each go to the part whose
 * class counts they bring closest to `fraction × class total`. Each part with a fraction > 0 gets at
 * least one slide, so there must be at least that many slides.
 */
export function splitBySlide<T extends SplitCell>(cells: readonly T[], fractions: SplitFractions, seed: number): CellSplit<T> {
  checkCells(cells);
  checkFractions(fractions);
  const classCount = Math.max(...cells.map((cell) => cell.classIndex)) + 1;
  const parts = SPLIT_PARTS.filter((part) => fractions[part] > 0);
  const slides = shuffled(slideGroups(cells, classCount), seededRandom(derivedSeed(seed, 'slide-split')));
  if (slides.length < parts.length) {
    throw new InvalidEvaluationInputError('cells', `come from ${slides.length} slide(s), but ${parts.length} parts each need a slide`);
  }
  const classTotals = new Array<number>(classCount).fill(0);
  for (const cell of cells) classTotals[cell.classIndex]! += 1;
  const targets = new Map(parts.map((part) => [part, classTotals.map((total) => total * fractions[part])]));
  const assigned = new Map(parts.map((part) => [part, new Array<number>(classCount).fill(0)]));
  const result: CellSplit<T> = { train: [], validation: [], test: [], level: 'slide' };
  slides.forEach((slide, index) => {
    const empty = parts.filter((part) => result[part].length === 0);
    // The last slides fill any still-empty part, largest fraction first.
    const candidates = slides.length - index <= empty.length ? empty : parts;
    let best = candidates[0] as SplitPart;
    let bestCost = Number.POSITIVE_INFINITY;
    for (const part of candidates) {
      const cost = costIncrease(assigned.get(part)!, targets.get(part)!, slide.classCounts, classTotals);
      if (cost < bestCost) [best, bestCost] = [part, cost];
    }
    result[best].push(...slide.cells);
    slide.classCounts.forEach((count, c) => {
      assigned.get(best)![c]! += count;
    });
  });
  return result;
}

/** Cells grouped by class, in input order. */
function cellsByClass<T extends SplitCell>(cells: readonly T[]): T[][] {
  const classCount = Math.max(...cells.map((cell) => cell.classIndex)) + 1;
  const groups = Array.from({ length: classCount }, () => [] as T[]);
  for (const cell of cells) groups[cell.classIndex]!.push(cell);
  return groups;
}

/**
 * The paper's protocol: cells split at random within each class, ignoring slides. Cells of one slide
 * land on both sides, which flatters every model; use only to reproduce published numbers.
 */
export function splitByCell<T extends SplitCell>(cells: readonly T[], fractions: SplitFractions, seed: number): CellSplit<T> {
  checkCells(cells);
  checkFractions(fractions);
  const random = seededRandom(derivedSeed(seed, 'cell-split'));
  const result: CellSplit<T> = { train: [], validation: [], test: [], level: 'cell' };
  for (const classCells of cellsByClass(cells)) {
    const order = shuffled(classCells, random);
    const trainEnd = Math.round(order.length * fractions.train);
    const validationEnd = Math.round(order.length * (fractions.train + fractions.validation));
    result.train.push(...order.slice(0, trainEnd));
    result.validation.push(...order.slice(trainEnd, validationEnd));
    result.test.push(...order.slice(validationEnd));
  }
  return result;
}

export const DEFAULT_TRAINING_FRACTIONS = [0.001, 0.01, 0.1, 1] as const;

export interface TrainingSubset<T> {
  fractionOfTrainingSet: number;
  cells: T[];
}

/**
 * Training subsets for a data-scaling curve, nested within a seed: each class is shuffled once and
 * every subset takes a prefix of it, so a smaller subset is always inside a larger one and the curve
 * measures more data, not different data. Each class keeps round(fraction × its count) cells but at
 * least one while it has any. Subsets come smallest first, cells in input order.
 */
export function nestedTrainingSubsets<T extends SplitCell>(
  trainingCells: readonly T[],
  fractions: readonly number[],
  seed: number,
): TrainingSubset<T>[] {
  checkCells(trainingCells);
  if (fractions.length === 0) throw new InvalidEvaluationInputError('fractions', 'is empty');
  fractions.forEach((fraction, i) => checkFraction(`fractions[${i}]`, fraction, { allowZero: false }));
  const random = seededRandom(derivedSeed(seed, 'nested-subsets'));
  const classOrders = cellsByClass(trainingCells).map((classCells) => shuffled(classCells, random));
  return [...new Set(fractions)]
    .sort((a, b) => a - b)
    .map((fraction) => {
      const chosen = new Set<T>();
      for (const order of classOrders) {
        const keep = order.length === 0 ? 0 : Math.max(1, Math.round(fraction * order.length));
        for (const cell of order.slice(0, keep)) chosen.add(cell);
      }
      return { fractionOfTrainingSet: fraction, cells: trainingCells.filter((cell) => chosen.has(cell)) };
    });
}
