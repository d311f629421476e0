import { describe, expect, it } from 'vitest';
import { planPatches, PositiveCells, relabel } from '../../../../src-main/services/training/data/sampling';
import type { PlannedPatch, TrainingCell } from '../../../../src-main/services/training/data/sampling';
import { seededRandom, shuffled } from '../../../../src-main/services/random/seededRandom';

let nextId = 1;
function cellsOn(slideId: number, label: number, count: number, x0 = 1000, y0 = 1000): TrainingCell[] {
  return Array.from({ length: count }, (_, i) => ({ annotationId: nextId++, slideId, x: x0 + 37 * i, y: y0 + 11 * i, label }));
}

/** |observed − expected| within 4 binomial standard deviations: fails by chance about once in 16,000 runs of a random seed, never for the fixed seeds here. */
function expectBinomial(observed: number, draws: number, p: number): void {
  const sd = Math.sqrt(draws * p * (1 - p));
  expect(Math.abs(observed - draws * p)).toBeLessThan(4 * sd);
}

describe('planPatches', () => {
  const unbalanced = [...cellsOn(1, 0, 90), ...cellsOn(1, 1, 10), ...cellsOn(2, 0, 2), ...cellsOn(2, 1, 1), ...cellsOn(3, 0, 30), ...cellsOn(3, 1, 30)];

  it('draws slides uniformly, whatever their number of cells', () => {
    const draws = 6000;
    const planned = planPatches(unbalanced, { count: draws, seed: 7, patchSizePx: 224 });
    for (const slideId of [1, 2, 3]) expectBinomial(planned.filter((p) => p.cell.slideId === slideId).length, draws, 1 / 3);
  });

  it('draws each class present on the slide with equal probability (mitosis or imposter at 0.5)', () => {
    const draws = 4000;
    const planned = planPatches(cellsOn(5, 0, 95).concat(cellsOn(5, 1, 5)), { count: draws, seed: 3, patchSizePx: 224 });
    expectBinomial(planned.filter((p) => p.label === 1).length, draws, 0.5);
    for (const patch of planned) expect(patch.label).toBe(patch.cell.label);
  });

  it('falls back to the classes a slide has, and draws cells of a class uniformly', () => {
    const only = cellsOn(9, 2, 4);
    const planned = planPatches(only, { count: 4000, seed: 1, patchSizePx: 100 });
    expect(new Set(planned.map((p) => p.label))).toEqual(new Set([2]));
    for (const cell of only) expectBinomial(planned.filter((p) => p.cell === cell).length, 4000, 1 / 4);
  });

  it('is deterministic for a seed and the same cells in any order; another seed gives another plan', () => {
    const options = { count: 200, seed: 42, patchSizePx: 224 };
    const first = planPatches(unbalanced, options);
    expect(planPatches(shuffled(unbalanced, seededRandom(5)), options)).toEqual(first);
    const other = planPatches(unbalanced, { ...options, seed: 43 });
    expect(other.map((p) => p.centreX)).not.toEqual(first.map((p) => p.centreX));
  });

  it('scales the shift and the label rule to each slide\'s own patch size (slides scanned at other µm per pixel)', () => {
    // The same tissue patch: 112 level-0 pixels on a 0.5 µm/px slide, 224 on a 0.25 µm/px one.
    const sizeOf = (slideId: number) => (slideId === 1 ? 112 : 224);
    const planned = planPatches([...cellsOn(1, 0, 20), ...cellsOn(2, 0, 20)], { count: 2000, seed: 4, patchSizePx: sizeOf });
    for (const slideId of [1, 2]) {
      const shifts = planned.filter((p) => p.cell.slideId === slideId).flatMap((p) => [p.centreX - p.cell.x, p.centreY - p.cell.y]);
      expect(Math.max(...shifts.map(Math.abs))).toBeLessThanOrEqual(0.1 * sizeOf(slideId));
      expect(Math.max(...shifts.map(Math.abs))).toBeGreaterThan(0.09 * sizeOf(slideId));
    }
    // A positive 80 level-0 pixels away lies inside the 224-pixel patch but outside the 112-pixel one.
    const positives = new PositiveCells([{ annotationId: 900, slideId: 1, x: 80, y: 0, label: 1 }, { annotationId: 901, slideId: 2, x: 80, y: 0, label: 1 }], 1);
    const atOrigin = (slideId: number): PlannedPatch => ({ cell: { annotationId: 950 + slideId, slideId, x: 0, y: 0, label: 0 }, centreX: 0, centreY: 0, label: 0 });
    expect(relabel([atOrigin(1), atOrigin(2)], positives, sizeOf).map((p) => p.label)).toEqual([0, 1]);
  });

  it('shifts the centre uniformly within ±maxShiftFraction of the patch size in x and y', () => {
    const planned = planPatches(unbalanced, { count: 5000, seed: 11, patchSizePx: 200, maxShiftFraction: 0.1 });
    const shiftsX = planned.map((p) => p.centreX - p.cell.x);
    const shiftsY = planned.map((p) => p.centreY - p.cell.y);
    for (const shifts of [shiftsX, shiftsY]) {
      expect(Math.max(...shifts.map(Math.abs))).toBeLessThanOrEqual(20);
      expect(Math.max(...shifts)).toBeGreaterThan(19);
      expect(Math.min(...shifts)).toBeLessThan(-19);
      // Uniform on [−20, 20]: a quarter of the draws beyond ±10 each side.
      expectBinomial(shifts.filter((s) => s > 10).length, shifts.length, 0.25);
    }
    const still = planPatches(unbalanced, { count: 50, seed: 11, patchSizePx: 200, maxShiftFraction: 0 });
    for (const patch of still) expect([patch.centreX, patch.centreY]).toEqual([patch.cell.x, patch.cell.y]);
  });

  it('names what is wrong with its input', () => {
    expect(() => planPatches([], { count: 1, seed: 1, patchSizePx: 224 })).toThrow(/no training cells/);
    expect(() => planPatches(unbalanced, { count: 1, seed: 1, patchSizePx: 224, maxShiftFraction: 0.5 })).toThrow(/maxShiftFraction/);
    expect(() => planPatches(unbalanced, { count: 1, seed: 1, patchSizePx: 0 })).toThrow(/patchSizePx/);
    expect(() => planPatches([{ annotationId: 77, slideId: 1, x: 0, y: 0, label: -1 }], { count: 1, seed: 1, patchSizePx: 10 })).toThrow(/cell 77 has label -1/);
    expect(planPatches([], { count: 0, seed: 1, patchSizePx: 224 })).toEqual([]);
  });
});

describe('relabel (a positive inside the shifted patch makes the patch positive)', () => {
  const imposter: TrainingCell = { annotationId: 1, slideId: 1, x: 1000, y: 1000, label: 0 };
  const patch = (cell: TrainingCell, centreX = cell.x, centreY = cell.y): PlannedPatch => ({ cell, centreX, centreY, label: cell.label });

  it('flips an imposter patch that holds a mitotic figure, not one whose figure lies outside', () => {
    const inside: TrainingCell = { annotationId: 2, slideId: 1, x: 1040, y: 980, label: 1 };
    const [flipped] = relabel([patch(imposter)], new PositiveCells([imposter, inside], 1), 100);
    expect(flipped!.label).toBe(1);

    const outside: TrainingCell = { annotationId: 3, slideId: 1, x: 1060, y: 1000, label: 1 };
    expect(relabel([patch(imposter)], new PositiveCells([imposter, outside], 1), 100)[0]!.label).toBe(0);
    // The shift decides: the same figure is inside once the patch moves towards it.
    expect(relabel([patch(imposter, 1015, 1000)], new PositiveCells([imposter, outside], 1), 100)[0]!.label).toBe(1);
  });

  it('counts only the positive class, on the same slide, strictly inside', () => {
    const otherSlide: TrainingCell = { annotationId: 4, slideId: 2, x: 1000, y: 1000, label: 1 };
    const otherClass: TrainingCell = { annotationId: 5, slideId: 1, x: 940, y: 1000, label: 2 };
    const onEdge: TrainingCell = { annotationId: 6, slideId: 1, x: 1050, y: 1000, label: 1 };
    const positives = new PositiveCells([imposter, otherSlide, otherClass, onEdge], 1);
    expect(relabel([patch(imposter)], positives, 100)[0]!.label).toBe(0);
    expect(relabel([patch(otherClass)], positives, 100)[0]!.label).toBe(2);
  });

  it('answers "any inside" as a brute-force scan does', () => {
    const random = seededRandom(9);
    const cells: TrainingCell[] = Array.from({ length: 400 }, (_, i) => ({ annotationId: i, slideId: 1 + (i % 2), x: random() * 2000, y: random() * 2000, label: i % 3 === 0 ? 1 : 0 }));
    const positives = new PositiveCells(cells, 1);
    for (let trial = 0; trial < 500; trial++) {
      const slideId = 1 + (trial % 2);
      const [x, y, size] = [random() * 2000, random() * 2000, 20 + random() * 200];
      const expected = cells.some((c) => c.label === 1 && c.slideId === slideId && Math.abs(c.x - x) < size / 2 && Math.abs(c.y - y) < size / 2);
      expect(positives.anyInside(slideId, x, y, size)).toBe(expected);
    }
  });
});
