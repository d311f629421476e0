import { requireFloating } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { reduction } from './reduce';

/**
 * ReduceMean. In opset 17 its axes are still an attribute (pitfall 1).
 * GRADIENT (rule in graph/autodiff/rules): dX = Expand(Reshape(dY, kept-dims shape), X.shape) / (reduced count).
 */
export const reduceMeanOp: OpDefinition = { opType: 'ReduceMean', domain: '' };

export function reduceMean(graph: Graph, x: Tensor, axes: readonly number[], keepDims = true): Tensor {
  requireFloating('ReduceMean', graph, x);
  const { axes: resolved, shape } = reduction('ReduceMean', graph, x, axes, keepDims);
  const [out] = graph.addNode(reduceMeanOp, [x], [{ dtype: x.dtype, shape }], [
    { name: 'axes', kind: 'ints', value: resolved },
    { name: 'keepdims', kind: 'int', value: keepDims ? 1 : 0 },
  ]);
  return out!;
}
