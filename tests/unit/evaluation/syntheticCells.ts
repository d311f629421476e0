import type { LocatedCell } from '../../../src-main/services/evaluation/leakage';
import { seededRandom } from '../../../src-main/services/random/seededRandom';

export interface PredictedCell extends LocatedCell {
  /** Model A's and model B's predicted class. */
  predictedA: number;
  predictedB: number;
}

/**
 * Cells on `slideCount` slides with a varying number of cells each; about `positiveShare` of them of
 * class 1. Model A is right 90 % of the time, model B 70 %.
 */
export function syntheticCells(slideCount: number, seed: number, positiveShare = 0.2, classCount = 2): PredictedCell[] {
  const random = seededRandom(seed);
  const cells: PredictedCell[] = [];
  for (let s = 0; s < slideCount; s++) {
    const cellCount = 5 + Math.floor(random() * 40);
    for (let i = 0; i < cellCount; i++) {
      const classIndex = random() < positiveShare ? 1 + Math.floor(random() * (classCount - 1)) : 0;
      const predictWithAccuracy = (rate: number): number => (random() < rate ? classIndex : (classIndex + 1) % classCount);
      cells.push({
        cellId: `s${s}-c${i}`,
        slideId: `slide-${String(s).padStart(3, '0')}`,
        classIndex,
        x: Math.floor(random() * 50_000),
        y: Math.floor(random() * 50_000),
        predictedA: predictWithAccuracy(0.9),
        predictedB: predictWithAccuracy(0.7),
      });
    }
  }
  return cells;
}
