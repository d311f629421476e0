import { fail } from '../Graph';
import type { Graph, Tensor } from '../Graph';
import { normalizeAxis } from '../shapes';

/** Normalised, sorted, distinct axes and the output shape of a reduction over them. */
export function reduction(opType: string, graph: Graph, x: Tensor, axes: readonly number[], keepDims: boolean): { axes: number[]; shape: number[] } {
  if (axes.length === 0) fail(opType, graph, `needs at least one axis (reducing ${x.describe()})`);
  const resolved = axes.map((axis) => {
    const value = normalizeAxis(axis, x.rank);
    if (value === undefined) fail(opType, graph, `axis ${axis} is out of range for ${x.describe()}`);
    return value;
  });
  const sorted = [...new Set(resolved)].sort((a, b) => a - b);
  if (sorted.length !== resolved.length) fail(opType, graph, `axes [${axes.join(',')}] repeat an axis of ${x.describe()}`);
  const shape = keepDims ? x.shape.map((dim, i) => (sorted.includes(i) ? 1 : dim)) : x.shape.filter((_, i) => !sorted.includes(i));
  return { axes: sorted, shape };
}
