import { fail } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';

/**
 * Transpose by a permutation (default: reverse the axes).
 * GRADIENT (rule in graph/autodiff/rules): dX = Transpose(dY, inverse permutation).
 */
export const transposeOp: OpDefinition = { opType: 'Transpose', domain: '' };

export function transpose(graph: Graph, x: Tensor, perm?: readonly number[]): Tensor {
  const order = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  const seen = new Set(order);
  if (order.length !== x.rank || seen.size !== x.rank || order.some((axis) => !Number.isInteger(axis) || axis < 0 || axis >= x.rank)) {
    fail('Transpose', graph, `perm [${order.join(',')}] is not a permutation of the axes of ${x.describe()}`);
  }
  const shape = order.map((axis) => x.shape[axis]!);
  const [out] = graph.addNode(transposeOp, [x], [{ dtype: x.dtype, shape }], [{ name: 'perm', kind: 'ints', value: order }]);
  return out!;
}
