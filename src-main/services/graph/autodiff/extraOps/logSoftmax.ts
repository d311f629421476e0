import { fail, requireFloating } from '../../Graph';
import type { Graph, OpDefinition, Tensor } from '../../Graph';
import { normalizeAxis } from '../../shapes';

/**
 * LogSoftmax over one axis (opset 13+): the numerically stable log-probabilities the
 * cross-entropy loss needs. Gradient: dX = dY − exp(Y)·ReduceSum(dY, axis).
 */
export const logSoftmaxOp: OpDefinition = { opType: 'LogSoftmax', domain: '' };

export function logSoftmax(graph: Graph, x: Tensor, axis = -1): Tensor {
  requireFloating('LogSoftmax', graph, x);
  const resolved = normalizeAxis(axis, x.rank);
  if (resolved === undefined) fail('LogSoftmax', graph, `axis ${axis} is out of range for ${x.describe()}`);
  const [out] = graph.addNode(logSoftmaxOp, [x], [{ dtype: x.dtype, shape: x.shape }], [{ name: 'axis', kind: 'int', value: resolved }]);
  return out!;
}
