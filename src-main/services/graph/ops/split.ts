import { fail } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { normalizeAxis } from '../shapes';
import { int64Constant } from './constant';

/**
 * Split along one axis into parts of the given sizes (opset 13–17: sizes are an input, pitfall 1).
 * GRADIENT (rule in graph/autodiff/rules): Concat the parts' gradients (zeros where none flows).
 */
export const splitOp: OpDefinition = { opType: 'Split', domain: '' };

export function split(graph: Graph, x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
  const resolved = normalizeAxis(axis, x.rank);
  if (resolved === undefined) fail('Split', graph, `axis ${axis} is out of range for ${x.describe()}`);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (sizes.length === 0 || sizes.some((size) => !Number.isInteger(size) || size < 0) || total !== x.shape[resolved]) {
    fail('Split', graph, `sizes [${sizes.join(',')}] do not add up to dimension ${x.shape[resolved]} of axis ${axis} of ${x.describe()}`);
  }
  const outputs = sizes.map((size) => ({ dtype: x.dtype, shape: x.shape.map((dim, i) => (i === resolved ? size : dim)) }));
  return graph.addNode(splitOp, [x, int64Constant(graph, sizes)], outputs, [{ name: 'axis', kind: 'int', value: resolved }]);
}
