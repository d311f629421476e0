import { reshape } from '../../ops';
import type { BackwardRule, GradientRegistration } from '../BackwardRule';
import { inputOf, onlyGradient } from '../gradientMath';

/** Ops that only relabel the shape: dX = Reshape(dY, X.shape); their shape/axes inputs get none. */
const reshapeBack: BackwardRule = ({ graph, node, outputGradients, needsGradient }) => [
  needsGradient[0] ? reshape(graph, onlyGradient(outputGradients), inputOf(node, 0).shape) : undefined,
];

export const reshapeGradient: GradientRegistration = { opType: 'Reshape', backward: reshapeBack };
export const squeezeGradient: GradientRegistration = { opType: 'Squeeze', backward: reshapeBack };
export const unsqueezeGradient: GradientRegistration = { opType: 'Unsqueeze', backward: reshapeBack };
