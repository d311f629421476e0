import type { GradientRegistration } from '../BackwardRule';
import { inputOf, onlyGradient, sumToShape } from '../gradientMath';

/** dA = dY, dB = dY, each summed back to its own broadcast shape. */
export const addGradient: GradientRegistration = {
  opType: 'Add',
  backward: ({ graph, node, outputGradients, needsGradient }) => {
    const dy = onlyGradient(outputGradients);
    return [0, 1].map((i) => (needsGradient[i] ? sumToShape(graph, dy, inputOf(node, i).shape) : undefined));
  },
};
