import { isFloating } from '../../dtype';
import { cast } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { inputOf, onlyGradient } from '../gradientMath';

/** dX = Cast(dY, X.dtype) between floating dtypes; an integer or bool source gets none. */
export const castGradient: GradientRegistration = {
  opType: 'Cast',
  backward: ({ graph, node, outputGradients, needsGradient }) => {
    const x = inputOf(node, 0);
    const dy = onlyGradient(outputGradients);
    if (!needsGradient[0] || !isFloating(x.dtype) || !isFloating(dy.dtype)) return [undefined];
    return [dy.dtype === x.dtype ? dy : cast(graph, dy, x.dtype)];
  },
};
