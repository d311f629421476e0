import { mul } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { inputOf, onlyGradient, sumToShape } from '../gradientMath';

/** dA = dY·B, dB = dY·A, each summed back to its own broadcast shape. */
export const mulGradient: GradientRegistration = {
  opType: 'Mul',
  backward: ({ graph, node, outputGradients, needsGradient }) => {
    const dy = onlyGradient(outputGradients);
    const [a, b] = [inputOf(node, 0), inputOf(node, 1)];
    return [
      needsGradient[0] ? sumToShape(graph, mul(graph, dy, b), a.shape) : undefined,
      needsGradient[1] ? sumToShape(graph, mul(graph, dy, a), b.shape) : undefined,
    ];
  },
};
