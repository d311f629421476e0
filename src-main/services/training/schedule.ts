/**
 * Learning rate at `step` of `totalSteps`. 'one-cycle' follows PyTorch's OneCycleLR defaults
 * (cosine annealing; 30 % warm-up from max/25 to max, then down to max/25/10⁴), with `peak` as
 * the maximum; 'constant' keeps `peak` throughout.
 */
export function learningRateAt(schedule: 'constant' | 'one-cycle', peak: number, step: number, totalSteps: number): number {
  if (schedule === 'constant') return peak;
  const initial = peak / 25;
  const final = initial / 1e4;
  const warmupEnd = 0.3 * totalSteps - 1;
  const cosine = (from: number, to: number, fraction: number) => to + ((from - to) * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, fraction))))) / 2;
  if (step <= warmupEnd) return cosine(initial, peak, warmupEnd > 0 ? step / warmupEnd : 1);
  return cosine(peak, final, (step - warmupEnd) / Math.max(1, totalSteps - 1 - warmupEnd));
}
