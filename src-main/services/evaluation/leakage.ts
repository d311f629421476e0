import type { SplitCell } from './splits';

/** A cell with its position on the slide, in level-0 pixels. */
export interface LocatedCell extends SplitCell {
  x: number;
  y: number;
}

export interface DuplicatedCell {
  slideId: string;
  x: number;
  y: number;
  trainCellId: string;
  testCellId: string;
}

export interface LeakageReport {
  leaks: boolean;
  /** Slides with cells on both sides, sorted. */
  sharedSlides: string[];
  /** The same cell (slide and coordinates) on both sides, e.g. one cell imported twice. */
  duplicatedCells: DuplicatedCell[];
}

const positionKey = (cell: LocatedCell): string => JSON.stringify([cell.slideId, cell.x, cell.y]);

/**
 * What of the test set the model could have seen in training: shared slides, and identical cells.
 * A cell-level split shows every shared slide here, which is the point: the study must warn.
 */
export function checkLeakage(train: readonly LocatedCell[], test: readonly LocatedCell[]): LeakageReport {
  const trainSlides = new Set(train.map((cell) => cell.slideId));
  const sharedSlides = [...new Set(test.map((cell) => cell.slideId))].filter((slideId) => trainSlides.has(slideId)).sort();
  const trainByPosition = new Map<string, LocatedCell[]>();
  for (const cell of train) {
    const key = positionKey(cell);
    if (trainByPosition.has(key)) trainByPosition.get(key)!.push(cell);
    else trainByPosition.set(key, [cell]);
  }
  const duplicatedCells = test.flatMap((testCell) =>
    (trainByPosition.get(positionKey(testCell)) ?? []).map((trainCell) => ({
      slideId: testCell.slideId,
      x: testCell.x,
      y: testCell.y,
      trainCellId: trainCell.cellId,
      testCellId: testCell.cellId,
    })),
  );
  return { leaks: sharedSlides.length > 0 || duplicatedCells.length > 0, sharedSlides, duplicatedCells };
}
