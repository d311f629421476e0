import { fail, requireFloating } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { normalizeAxis } from '../shapes';

/**
 * Softmax over one axis (opset 13+ semantics, pitfall 4).
 * GRADIENT (rule in graph/autodiff/rules): dX = Y · (dY − ReduceSum(dY · Y, axis, keepdims)).
 */
export const softmaxOp: OpDefinition = { opType: 'Softmax', domain: '' };

export function softmax(graph: Graph, x: Tensor, axis = -1): Tensor {
  requireFloating('Softmax', graph, x);
  const resolved = normalizeAxis(axis, x.rank);
  if (resolved === undefined) fail('Softmax', graph, `axis ${axis} is out of range for ${x.describe()}`);
  const [out] = graph.addNode(softmaxOp, [x], [{ dtype: x.dtype, shape: x.shape }], [{ name: 'axis', kind: 'int', value: resolved }]);
  return out!;
}
