import { fail, requireSameDType } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { normalizeAxis } from '../shapes';

/**
 * Concat along one axis; every other dimension must agree.
 * GRADIENT (rule in graph/autodiff/rules): Split dY along the axis by the inputs' sizes.
 */
export const concatOp: OpDefinition = { opType: 'Concat', domain: '' };

export function concat(graph: Graph, inputs: readonly Tensor[], axis: number): Tensor {
  const first = inputs[0];
  if (!first) fail('Concat', graph, 'needs at least one input');
  requireSameDType('Concat', graph, ...inputs);
  const resolved = normalizeAxis(axis, first.rank);
  if (resolved === undefined) fail('Concat', graph, `axis ${axis} is out of range for ${first.describe()}`);
  let total = 0;
  for (const input of inputs) {
    const fits = input.rank === first.rank && input.shape.every((dim, i) => i === resolved || dim === first.shape[i]);
    if (!fits) {
      fail('Concat', graph, `shapes differ outside axis ${axis}: ${inputs.map((t) => t.describe()).join(', ')}`);
    }
    total += input.shape[resolved]!;
  }
  const shape = first.shape.map((dim, i) => (i === resolved ? total : dim));
  const [out] = graph.addNode(concatOp, inputs, [{ dtype: first.dtype, shape }], [{ name: 'axis', kind: 'int', value: resolved }]);
  return out!;
}
