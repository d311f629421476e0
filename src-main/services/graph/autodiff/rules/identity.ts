import type { GradientRegistration } from '../BackwardRule';
import { onlyGradient } from '../gradientMath';

/** dX = dY. */
export const identityGradient: GradientRegistration = {
  opType: 'Identity',
  backward: ({ outputGradients }) => [onlyGradient(outputGradients)],
};
