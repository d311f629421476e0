import { fail } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { elementCount, formatShape } from '../shapes';
import { int64Constant } from './constant';

/**
 * Reshape. The builder resolves -1 (one dimension inferred) and 0 (copy the input's dimension)
 * itself and emits the explicit shape, so the graph holds only static shapes.
 * GRADIENT (rule in graph/autodiff/rules): dX = Reshape(dY, X.shape).
 */
export const reshapeOp: OpDefinition = { opType: 'Reshape', domain: '' };

export function resolveReshape(graph: Graph, x: Tensor, shape: readonly number[]): number[] {
  const resolved = shape.map((dim, i) => (dim === 0 ? (x.shape[i] ?? NaN) : dim));
  const inferred = resolved.filter((dim) => dim === -1).length;
  if (inferred > 1 || resolved.some((dim) => !Number.isInteger(dim) || dim < -1)) {
    fail('Reshape', graph, `invalid target shape ${formatShape(shape)} for ${x.describe()}`);
  }
  const known = elementCount(resolved.filter((dim) => dim !== -1));
  const total = elementCount(x.shape);
  if (inferred === 1) {
    if (known === 0 || total % known !== 0) fail('Reshape', graph, `cannot reshape ${x.describe()} (${total} elements) to ${formatShape(shape)}`);
    return resolved.map((dim) => (dim === -1 ? total / known : dim));
  }
  if (known !== total) {
    fail('Reshape', graph, `cannot reshape ${x.describe()} (${total} elements) to ${formatShape(shape)} (${known} elements)`);
  }
  return resolved;
}

export function reshape(graph: Graph, x: Tensor, shape: readonly number[]): Tensor {
  const resolved = resolveReshape(graph, x, shape);
  const [out] = graph.addNode(reshapeOp, [x, int64Constant(graph, resolved)], [{ dtype: x.dtype, shape: resolved }]);
  return out!;
}
