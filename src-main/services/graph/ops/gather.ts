import { fail } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { normalizeAxis } from '../shapes';
import { constant, toInt64Array } from './constant';

/**
 * Gather along one axis. A plain number index is a scalar and drops the axis; an array keeps it.
 * GRADIENT (rule in graph/autodiff/rules): for constant indices, scatter dY back (Reshape + zero Pad for a
 * scalar index, pitfall 5); the indices get none.
 */
export const gatherOp: OpDefinition = { opType: 'Gather', domain: '' };

export function gather(graph: Graph, data: Tensor, indices: Tensor | number | readonly number[], axis = 0): Tensor {
  const resolved = normalizeAxis(axis, data.rank);
  if (resolved === undefined) fail('Gather', graph, `axis ${axis} is out of range for ${data.describe()}`);
  const dim = data.shape[resolved]!;
  let index: Tensor;
  if (typeof indices === 'number' || Array.isArray(indices)) {
    const values: readonly number[] = typeof indices === 'number' ? [indices] : (indices as readonly number[]);
    for (const value of values) {
      if (!Number.isInteger(value) || value < -dim || value >= dim) {
        fail('Gather', graph, `index ${value} is out of range for axis ${axis} of ${data.describe()}`);
      }
    }
    index = constant(graph, 'int64', typeof indices === 'number' ? [] : [values.length], toInt64Array(values));
  } else {
    index = indices as Tensor;
    if (index.dtype !== 'int64' && index.dtype !== 'int32') fail('Gather', graph, `indices must be int64 or int32, got ${index.describe()}`);
  }
  const shape = [...data.shape.slice(0, resolved), ...index.shape, ...data.shape.slice(resolved + 1)];
  const [out] = graph.addNode(gatherOp, [data, index], [{ dtype: data.dtype, shape }], [{ name: 'axis', kind: 'int', value: resolved }]);
  return out!;
}
