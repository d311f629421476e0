import type { GradientRegistration } from '../BackwardRule';
import { inputOf, negate, onlyGradient, sumToShape } from '../gradientMath';

/** dA = dY, dB = −dY, each summed back to its own broadcast shape (negated after summing: fewer elements). */
export const subGradient: GradientRegistration = {
  opType: 'Sub',
  backward: ({ graph, node, outputGradients, needsGradient }) => {
    const dy = onlyGradient(outputGradients);
    return [
      needsGradient[0] ? sumToShape(graph, dy, inputOf(node, 0).shape) : undefined,
      needsGradient[1] ? negate(graph, sumToShape(graph, dy, inputOf(node, 1).shape)) : undefined,
    ];
  },
};
