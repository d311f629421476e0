import { InvalidEvaluationInputError } from './errors';

/** Class labels are indices 0..K-1 (the order of the project's class list). */
export function checkClassLabels(field: string, labels: readonly number[]): void {
  if (labels.length === 0) throw new InvalidEvaluationInputError(field, 'is empty');
  labels.forEach((label, index) => {
    if (!Number.isInteger(label) || label < 0) {
      throw new InvalidEvaluationInputError(field, `item ${index} is ${label}, not a class index (an integer ≥ 0)`);
    }
  });
}

export function checkSameLength(fieldA: string, a: readonly unknown[], fieldB: string, b: readonly unknown[]): void {
  if (a.length !== b.length) {
    throw new InvalidEvaluationInputError(fieldB, `has ${b.length} items but ${fieldA} has ${a.length}`);
  }
}

export function checkFiniteNumbers(field: string, values: readonly number[]): void {
  if (values.length === 0) throw new InvalidEvaluationInputError(field, 'is empty');
  values.forEach((value, index) => {
    if (!Number.isFinite(value)) throw new InvalidEvaluationInputError(field, `item ${index} is ${value}, not a finite number`);
  });
}

/** Paired class labels, checked together: same length, class indices. */
export function checkLabelPairs(fieldA: string, a: readonly number[], fieldB: string, b: readonly number[]): void {
  checkClassLabels(fieldA, a);
  checkClassLabels(fieldB, b);
  checkSameLength(fieldA, a, fieldB, b);
}

export function checkFraction(field: string, value: number, { allowZero }: { allowZero: boolean }): void {
  const ok = Number.isFinite(value) && value <= 1 && (allowZero ? value >= 0 : value > 0);
  if (!ok) throw new InvalidEvaluationInputError(field, `is ${value}, not a fraction in ${allowZero ? '[0, 1]' : '(0, 1]'}`);
}
