/** The GPU checks' error measure: max |actual − expected| / max |expected| (the absolute error when expected is all zero). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? worst : worst / scale;
}
