import { describe, expect, it } from 'vitest';
import { leaveOneDomainOut, trainOnEachDomain } from '../../../src-main/services/evaluation/crossDomain';
import { checkLeakage } from '../../../src-main/services/evaluation/leakage';
import {
  type CellSplit,
  DEFAULT_TRAINING_FRACTIONS,
  nestedTrainingSubsets,
  SPLIT_PARTS,
  type SplitCell,
  splitByCell,
  splitBySlide,
} from '../../../src-main/services/evaluation/splits';
import { syntheticCells } from './syntheticCells';

const FRACTIONS = { train: 0.6, validation: 0.2, test: 0.2 };

function slidesOf(cells: readonly SplitCell[]): Set<string> {
  return new Set(cells.map((cell) => cell.slideId));
}

function expectPartition<T extends SplitCell>(cells: readonly T[], split: CellSplit<T>): void {
  const all = SPLIT_PARTS.flatMap((part) => split[part]);
  expect(all.length).toBe(cells.length);
  expect(new Set(all.map((cell) => cell.cellId)).size).toBe(cells.length);
}

const classShare = (cells: readonly SplitCell[], classIndex: number): number =>
  cells.filter((cell) => cell.classIndex === classIndex).length / cells.length;

describe('split by slide', () => {
  it('never puts a slide in two parts and loses no cell (property over 200 seeds)', () => {
    for (let seed = 0; seed < 200; seed++) {
      const cells = syntheticCells(6 + (seed % 25), seed, 0.1 + (seed % 5) * 0.05, 2 + (seed % 3));
      const split = splitBySlide(cells, FRACTIONS, seed);
      expectPartition(cells, split);
      const [train, validation, test] = SPLIT_PARTS.map((part) => slidesOf(split[part]));
      for (const slide of train!) expect(validation!.has(slide) || test!.has(slide), `seed ${seed} ${slide}`).toBe(false);
      for (const slide of validation!) expect(test!.has(slide), `seed ${seed} ${slide}`).toBe(false);
      for (const part of SPLIT_PARTS) expect(split[part].length, `seed ${seed} ${part}`).toBeGreaterThan(0);
      expect(checkLeakage(split.train, split.test).leaks).toBe(false);
    }
  });

  it('is deterministic by seed and differs between seeds', () => {
    const cells = syntheticCells(40, 3);
    expect(splitBySlide(cells, FRACTIONS, 8)).toEqual(splitBySlide(cells, FRACTIONS, 8));
    expect(slidesOf(splitBySlide(cells, FRACTIONS, 9).test)).not.toEqual(slidesOf(splitBySlide(cells, FRACTIONS, 8).test));
  });

  it('stratifies: each part holds about its share of cells and of the rare class', () => {
    const cells = syntheticCells(80, 12, 0.15);
    const split = splitBySlide(cells, FRACTIONS, 1);
    for (const part of SPLIT_PARTS) {
      expect(split[part].length / cells.length).toBeCloseTo(FRACTIONS[part], 1);
      expect(Math.abs(classShare(split[part], 1) - classShare(cells, 1))).toBeLessThan(0.03);
    }
    expect(split.level).toBe('slide');
  });

  it('leaves a part with fraction 0 empty, and refuses too few slides or bad fractions', () => {
    const cells = syntheticCells(5, 1);
    expect(splitBySlide(cells, { train: 0.8, validation: 0, test: 0.2 }, 1).validation).toEqual([]);
    expect(() => splitBySlide(syntheticCells(2, 1), FRACTIONS, 1)).toThrow(/cells: come from 2 slide\(s\), but 3 parts each need a slide/);
    expect(() => splitBySlide(cells, { train: 0.7, validation: 0.2, test: 0.3 }, 1)).toThrow(/fractions: sum to 1.2, not 1/);
    expect(() => splitBySlide(cells, { train: 1.2, validation: -0.2, test: 0 }, 1)).toThrow(/fractions.train: is 1.2/);
  });
});

describe('cell-level split (the paper protocol)', () => {
  it('is stratified per class, deterministic, and flagged: the leakage check finds shared slides', () => {
    const cells = syntheticCells(10, 4, 0.2);
    const split = splitByCell(cells, FRACTIONS, 2);
    expectPartition(cells, split);
    expect(split).toEqual(splitByCell(cells, FRACTIONS, 2));
    expect(split.level).toBe('cell');
    const positives = cells.filter((cell) => cell.classIndex === 1).length;
    expect(split.train.filter((cell) => cell.classIndex === 1).length).toBe(Math.round(positives * 0.6));
    const report = checkLeakage(split.train, split.test);
    expect(report.leaks).toBe(true);
    expect(report.sharedSlides.length).toBeGreaterThan(5);
    expect(report.duplicatedCells).toEqual([]);
  });
});

describe('leakage report', () => {
  it('lists shared slides and identical cells (same slide and coordinates) between train and test', () => {
    const base = { classIndex: 0 };
    const train = [
      { ...base, cellId: 'a', slideId: 'S1', x: 10, y: 20 },
      { ...base, cellId: 'b', slideId: 'S2', x: 5, y: 5 },
    ];
    const test = [
      { ...base, cellId: 'c', slideId: 'S2', x: 5, y: 5 },
      { ...base, cellId: 'd', slideId: 'S2', x: 6, y: 5 },
      { ...base, cellId: 'e', slideId: 'S3', x: 10, y: 20 },
    ];
    expect(checkLeakage(train, test)).toEqual({
      leaks: true,
      sharedSlides: ['S2'],
      duplicatedCells: [{ slideId: 'S2', x: 5, y: 5, trainCellId: 'b', testCellId: 'c' }],
    });
    expect(checkLeakage(train, test.slice(2)).leaks).toBe(false);
  });
});

describe('nested training subsets', () => {
  const cells = syntheticCells(60, 17, 0.1, 3);

  it('are nested (smaller ⊂ larger) for every seed, and 100 % is the whole training set', () => {
    for (let seed = 0; seed < 20; seed++) {
      const subsets = nestedTrainingSubsets(cells, [1, 0.1, 0.001, 0.01], seed);
      expect(subsets.map((subset) => subset.fractionOfTrainingSet)).toEqual([...DEFAULT_TRAINING_FRACTIONS]);
      for (let i = 1; i < subsets.length; i++) {
        const larger = new Set(subsets[i]!.cells);
        expect(subsets[i - 1]!.cells.every((cell) => larger.has(cell)), `seed ${seed}`).toBe(true);
        expect(subsets[i - 1]!.cells.length).toBeLessThan(subsets[i]!.cells.length);
      }
      expect(subsets.at(-1)!.cells).toEqual(cells);
    }
  });

  it('stratify by class and keep at least one cell of each class', () => {
    const subsets = nestedTrainingSubsets(cells, [0.001, 0.1], 3);
    const classCounts = (subset: readonly SplitCell[]) => [0, 1, 2].map((c) => subset.filter((cell) => cell.classIndex === c).length);
    expect(classCounts(subsets[0]!.cells)).toEqual([1, 1, 1]);
    const full = classCounts(cells);
    classCounts(subsets[1]!.cells).forEach((count, c) => expect(count).toBe(Math.max(1, Math.round(0.1 * full[c]!))));
  });

  it('are deterministic by seed and differ between seeds', () => {
    const first = nestedTrainingSubsets(cells, [0.1], 1)[0]!.cells;
    expect(nestedTrainingSubsets(cells, [0.1], 1)[0]!.cells).toEqual(first);
    expect(nestedTrainingSubsets(cells, [0.1], 2)[0]!.cells).not.toEqual(first);
  });

  it('refuse fractions outside (0, 1], naming the one at fault', () => {
    expect(() => nestedTrainingSubsets(cells, [0.1, 0], 1)).toThrow(/fractions\[1\]: is 0/);
    expect(() => nestedTrainingSubsets(cells, [], 1)).toThrow(/fractions: is empty/);
  });
});

describe('cross-domain splits', () => {
  const cells = syntheticCells(30, 29);
  const domainOfSlide = new Map(
    [...slidesOf(cells)].filter((slide) => slide !== 'slide-029').map((slide, i) => [slide, ['canine lymphoma', 'human breast', 'feline'][i % 3]!]),
  );

  it('trains on one domain, tests in-domain on held-out slides and on every other domain', () => {
    const { splits, untaggedSlides } = trainOnEachDomain(cells, { domainOfSlide }, FRACTIONS, 4);
    expect(untaggedSlides).toEqual(['slide-029']);
    expect(splits.map((split) => split.trainingDomain)).toEqual(['canine lymphoma', 'feline', 'human breast']);
    for (const split of splits) {
      const domainOf = (cell: SplitCell) => domainOfSlide.get(cell.slideId);
      for (const cell of [...split.train, ...split.validation, ...split.inDomainTest]) expect(domainOf(cell)).toBe(split.trainingDomain);
      expect(checkLeakage(split.train, split.inDomainTest).leaks).toBe(false);
      expect([...split.outOfDomainTests.keys()]).toHaveLength(2);
      for (const [domain, test] of split.outOfDomainTests) {
        expect(test.every((cell) => domainOf(cell) === domain)).toBe(true);
        expect(test.length).toBe(cells.filter((cell) => domainOf(cell) === domain).length);
      }
    }
  });

  it('leave-one-domain-out tests on all of a domain, never seen in training', () => {
    const { splits } = leaveOneDomainOut(cells, { domainOfSlide }, { train: 0.8, validation: 0.2 }, 4);
    expect(splits).toHaveLength(3);
    for (const split of splits) {
      const heldOut = (cell: SplitCell) => domainOfSlide.get(cell.slideId) === split.heldOutDomain;
      expect(split.test.every(heldOut)).toBe(true);
      expect([...split.train, ...split.validation].some(heldOut)).toBe(false);
      const trainSlides = slidesOf(split.train);
      expect([...slidesOf(split.validation)].some((slide) => trainSlides.has(slide))).toBe(false);
    }
  });

  it('refuses a tagging with fewer than two domains', () => {
    const oneDomain = new Map([...slidesOf(cells)].map((slide) => [slide, 'only']));
    expect(() => leaveOneDomainOut(cells, { domainOfSlide: oneDomain }, { train: 0.8, validation: 0.2 }, 1)).toThrow(
      /domainOfSlide: tags the cells' slides with 1 domain\(s\)/,
    );
  });
});
