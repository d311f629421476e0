import { concat } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { intAttribute, zeros } from '../gradientMath';

/** Concat the parts' gradients along the axis, zeros for parts that received none. */
export const splitGradient: GradientRegistration = {
  opType: 'Split',
  backward: ({ graph, node, outputGradients }) => {
    const axis = intAttribute(node, 'axis', 0);
    const parts = node.outputs.map((output, i) => outputGradients[i] ?? zeros(graph, output.dtype, output.shape));
    return [parts.length === 1 ? parts[0] : concat(graph, parts, axis)];
  },
};
