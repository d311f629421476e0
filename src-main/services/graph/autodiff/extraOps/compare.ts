import { fail, requireSameDType } from '../../Graph';
import type { Graph, OpDefinition, Tensor } from '../../Graph';
import { broadcastShapes, formatShape } from '../../shapes';

/** Greater (A > B) with numpy broadcasting, giving bool. Not differentiable. */
export const greaterOp: OpDefinition = { opType: 'Greater', domain: '' };

/** Equal (A = B) with numpy broadcasting, giving bool (one-hot labels). Not differentiable. */
export const equalOp: OpDefinition = { opType: 'Equal', domain: '' };

function comparison(graph: Graph, op: OpDefinition, a: Tensor, b: Tensor): Tensor {
  requireSameDType(op.opType, graph, a, b);
  const shape = broadcastShapes(a.shape, b.shape);
  if (!shape) fail(op.opType, graph, `shapes ${formatShape(a.shape)} (${a.name}) and ${formatShape(b.shape)} (${b.name}) do not broadcast`);
  const [out] = graph.addNode(op, [a, b], [{ dtype: 'bool', shape }]);
  return out!;
}

export function greater(graph: Graph, a: Tensor, b: Tensor): Tensor {
  return comparison(graph, greaterOp, a, b);
}

export function equal(graph: Graph, a: Tensor, b: Tensor): Tensor {
  return comparison(graph, equalOp, a, b);
}
