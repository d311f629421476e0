import { div, mul } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { inputOf, negate, onlyGradient, sumToShape } from '../gradientMath';

/** dA = dY / B, dB = −dY·Y / B (= −dY·A / B²), each summed back to its own broadcast shape. */
export const divGradient: GradientRegistration = {
  opType: 'Div',
  backward: ({ graph, node, outputGradients, needsGradient }) => {
    const dy = onlyGradient(outputGradients);
    const [a, b] = [inputOf(node, 0), inputOf(node, 1)];
    const y = node.outputs[0]!;
    return [
      needsGradient[0] ? sumToShape(graph, div(graph, dy, b), a.shape) : undefined,
      needsGradient[1] ? negate(graph, sumToShape(graph, div(graph, mul(graph, dy, y), b), b.shape)) : undefined,
    ];
  },
};
