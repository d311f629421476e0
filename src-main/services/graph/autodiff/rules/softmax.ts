import { mul, reduceSum, sub } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { intAttribute, onlyGradient } from '../gradientMath';

/** dX = Y·(dY − ReduceSum(dY·Y, axis)) (pitfall 4). */
export const softmaxGradient: GradientRegistration = {
  opType: 'Softmax',
  backward: ({ graph, node, outputGradients }) => {
    const dy = onlyGradient(outputGradients);
    const y = node.outputs[0]!;
    const axis = intAttribute(node, 'axis', -1);
    return [mul(graph, y, sub(graph, dy, reduceSum(graph, mul(graph, dy, y), [axis], true)))];
  },
};
