import { transpose } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { inputOf, intsAttribute, onlyGradient } from '../gradientMath';

/** dX = Transpose(dY) by the inverse permutation. */
export const transposeGradient: GradientRegistration = {
  opType: 'Transpose',
  backward: ({ graph, node, outputGradients }) => {
    const x = inputOf(node, 0);
    const perm = intsAttribute(node, 'perm') ?? x.shape.map((_, i) => x.rank - 1 - i);
    const inverse = new Array<number>(perm.length);
    perm.forEach((axis, i) => (inverse[axis] = i));
    return [transpose(graph, onlyGradient(outputGradients), inverse)];
  },
};
