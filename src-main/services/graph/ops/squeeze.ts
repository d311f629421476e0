import { fail } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { normalizeAxis } from '../shapes';
import { int64Constant } from './constant';

/**
 * Squeeze: remove size-1 axes (opset 13+: axes are an input, pitfall 1). Axes are always given
 * explicitly so the output shape is static and obvious.
 * GRADIENT (rule in graph/autodiff/rules): dX = Reshape(dY, X.shape).
 */
export const squeezeOp: OpDefinition = { opType: 'Squeeze', domain: '' };

export function squeeze(graph: Graph, x: Tensor, axes: readonly number[]): Tensor {
  const resolved = axes.map((axis) => normalizeAxis(axis, x.rank));
  if (axes.length === 0 || resolved.some((axis) => axis === undefined || x.shape[axis] !== 1) || new Set(resolved).size !== axes.length) {
    fail('Squeeze', graph, `axes [${axes.join(',')}] must name distinct size-1 axes of ${x.describe()}`);
  }
  const removed = new Set(resolved as number[]);
  const shape = x.shape.filter((_, i) => !removed.has(i));
  const [out] = graph.addNode(squeezeOp, [x, int64Constant(graph, [...removed].sort((a, b) => a - b))], [{ dtype: x.dtype, shape }]);
  return out!;
}
