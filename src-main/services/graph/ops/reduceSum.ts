import type { Graph, OpDefinition, Tensor } from '../Graph';
import { int64Constant } from './constant';
import { reduction } from './reduce';

/**
 * ReduceSum. Since opset 13 its axes are an input (pitfall 1).
 * GRADIENT (rule in graph/autodiff/rules): dX = Expand(Reshape(dY, kept-dims shape), X.shape).
 */
export const reduceSumOp: OpDefinition = { opType: 'ReduceSum', domain: '' };

export function reduceSum(graph: Graph, x: Tensor, axes: readonly number[], keepDims = true): Tensor {
  const { axes: resolved, shape } = reduction('ReduceSum', graph, x, axes, keepDims);
  const [out] = graph.addNode(reduceSumOp, [x, int64Constant(graph, resolved)], [{ dtype: x.dtype, shape }], [
    { name: 'keepdims', kind: 'int', value: keepDims ? 1 : 0 },
  ]);
  return out!;
}
