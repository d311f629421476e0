import { where } from '../extraOps';
import type { GradientRegistration } from '../BackwardRule';
import { inputOf, onlyGradient, sumToShape, zeros } from '../gradientMath';

/** The condition gets none; dX = Where(C, dY, 0), dY = Where(C, 0, dY), each summed back to its broadcast shape. */
export const whereGradient: GradientRegistration = {
  opType: 'Where',
  backward: ({ graph, node, outputGradients, needsGradient }) => {
    const dy = onlyGradient(outputGradients);
    const [condition, x, y] = [inputOf(node, 0), inputOf(node, 1), inputOf(node, 2)];
    const zero = zeros(graph, dy.dtype, []);
    return [
      undefined,
      needsGradient[1] ? sumToShape(graph, where(graph, condition, dy, zero), x.shape) : undefined,
      needsGradient[2] ? sumToShape(graph, where(graph, condition, zero, dy), y.shape) : undefined,
    ];
  },
};
