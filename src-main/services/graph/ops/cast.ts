import { onnxDataType } from '../dtype';
import type { DType } from '../dtype';
import type { Graph, OpDefinition, Tensor } from '../Graph';

/**
 * Cast to another dtype.
 * GRADIENT (rule in graph/autodiff/rules): dX = Cast(dY, X.dtype) between floating dtypes; none otherwise.
 */
export const castOp: OpDefinition = { opType: 'Cast', domain: '' };

export function cast(graph: Graph, x: Tensor, to: DType): Tensor {
  const [out] = graph.addNode(castOp, [x], [{ dtype: to, shape: x.shape }], [{ name: 'to', kind: 'int', value: onnxDataType(to) }]);
  return out!;
}
