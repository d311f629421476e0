import { fail, requireSameDType } from '../../Graph';
import type { Graph, OpDefinition, Tensor } from '../../Graph';
import { broadcastShapes, formatShape } from '../../shapes';

/** Where(condition, X, Y) with numpy broadcasting of all three; used by backward rules only. */
export const whereOp: OpDefinition = { opType: 'Where', domain: '' };

export function where(graph: Graph, condition: Tensor, x: Tensor, y: Tensor): Tensor {
  if (condition.dtype !== 'bool') fail('Where', graph, `condition must be bool, got ${condition.describe()}`);
  requireSameDType('Where', graph, x, y);
  const valueShape = broadcastShapes(x.shape, y.shape);
  const shape = valueShape && broadcastShapes(condition.shape, valueShape);
  if (!shape) {
    fail('Where', graph, `shapes ${formatShape(condition.shape)}, ${formatShape(x.shape)} (${x.name}) and ${formatShape(y.shape)} (${y.name}) do not broadcast`);
  }
  const [out] = graph.addNode(whereOp, [condition, x, y], [{ dtype: x.dtype, shape }]);
  return out!;
}
