import type { GradientRegistration } from '../BackwardRule';
import { inputOf, onlyGradient, sumToShape } from '../gradientMath';

/** dX = dY summed over the broadcast axes back to X's shape. */
export const expandGradient: GradientRegistration = {
  opType: 'Expand',
  backward: ({ graph, node, outputGradients }) => [sumToShape(graph, onlyGradient(outputGradients), inputOf(node, 0).shape)],
};
