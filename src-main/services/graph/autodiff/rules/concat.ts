import { split } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { intAttribute, onlyGradient } from '../gradientMath';

/** Split dY along the axis by the inputs' sizes; parts of inputs that need none are dropped. */
export const concatGradient: GradientRegistration = {
  opType: 'Concat',
  backward: ({ graph, node, outputGradients, needsGradient }) => {
    const axis = intAttribute(node, 'axis', 0);
    const sizes = node.inputs.map((input) => input!.shape[axis]!);
    const parts = node.inputs.length === 1 ? [onlyGradient(outputGradients)] : split(graph, onlyGradient(outputGradients), sizes, axis);
    return parts.map((part, i) => (needsGradient[i] ? part : undefined));
  },
};
