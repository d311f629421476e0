import { fail } from '../../Graph';
import type { Graph, OpDefinition, Tensor } from '../../Graph';
import { int64Constant } from '../../ops/constant';

/**
 * Pad with zeros (opset 13+: pads are an input, pitfall 1). `pads` is [begin…, end…] per axis,
 * as ONNX orders them, all ≥ 0. The backward of Slice and scalar Gather (pitfall 5).
 */
export const padOp: OpDefinition = { opType: 'Pad', domain: '' };

export function pad(graph: Graph, x: Tensor, pads: readonly number[]): Tensor {
  if (pads.length !== 2 * x.rank || pads.some((amount) => !Number.isInteger(amount) || amount < 0)) {
    fail('Pad', graph, `pads [${pads.join(',')}] need ${2 * x.rank} non-negative integers for ${x.describe()}`);
  }
  const shape = x.shape.map((dim, i) => dim + pads[i]! + pads[i + x.rank]!);
  const [out] = graph.addNode(padOp, [x, int64Constant(graph, pads)], [{ dtype: x.dtype, shape }]);
  return out!;
}
