import { mul, reduceSum, sub } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { exp } from '../extraOps';
import { intAttribute, onlyGradient } from '../gradientMath';

/** dX = dY − exp(Y)·ReduceSum(dY, axis). */
export const logSoftmaxGradient: GradientRegistration = {
  opType: 'LogSoftmax',
  backward: ({ graph, node, outputGradients }) => {
    const dy = onlyGradient(outputGradients);
    const axis = intAttribute(node, 'axis', -1);
    return [sub(graph, dy, mul(graph, exp(graph, node.outputs[0]!), reduceSum(graph, dy, [axis], true)))];
  },
};
