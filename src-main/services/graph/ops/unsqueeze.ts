import { fail } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { normalizeAxis } from '../shapes';
import { int64Constant } from './constant';

/**
 * Unsqueeze: insert size-1 axes (opset 13+: axes are an input, pitfall 1). Axes refer to the output.
 * GRADIENT (rule in graph/autodiff/rules): dX = Reshape(dY, X.shape).
 */
export const unsqueezeOp: OpDefinition = { opType: 'Unsqueeze', domain: '' };

export function unsqueeze(graph: Graph, x: Tensor, axes: readonly number[]): Tensor {
  const rank = x.rank + axes.length;
  const resolved = axes.map((axis) => normalizeAxis(axis, rank));
  if (axes.length === 0 || resolved.some((axis) => axis === undefined) || new Set(resolved).size !== axes.length) {
    fail('Unsqueeze', graph, `axes [${axes.join(',')}] are empty, out of range or repeated for ${x.describe()}`);
  }
  const inserted = new Set(resolved as number[]);
  const shape: number[] = [];
  let next = 0;
  for (let i = 0; i < rank; i++) shape.push(inserted.has(i) ? 1 : x.shape[next++]!);
  const [out] = graph.addNode(unsqueezeOp, [x, int64Constant(graph, [...inserted].sort((a, b) => a - b))], [{ dtype: x.dtype, shape }]);
  return out!;
}
