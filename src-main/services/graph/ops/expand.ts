import { fail } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { broadcastShapes, formatShape } from '../shapes';
import { int64Constant } from './constant';

/**
 * Expand: broadcast to a shape (bidirectionally, as ONNX defines it).
 * GRADIENT (rule in graph/autodiff/rules): dX = ReduceSum of dY over the broadcast axes, reshaped to X.shape.
 */
export const expandOp: OpDefinition = { opType: 'Expand', domain: '' };

export function expand(graph: Graph, x: Tensor, shape: readonly number[]): Tensor {
  const result = shape.every((dim) => Number.isInteger(dim) && dim >= 0) ? broadcastShapes(x.shape, shape) : undefined;
  if (!result) fail('Expand', graph, `${x.describe()} does not broadcast to ${formatShape(shape)}`);
  const [out] = graph.addNode(expandOp, [x, int64Constant(graph, shape)], [{ dtype: x.dtype, shape: result }]);
  return out!;
}
