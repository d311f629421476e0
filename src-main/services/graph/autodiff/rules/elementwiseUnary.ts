import { div, mul, sub } from '../../ops';
import { scalar } from '../../ops/constant';
import type { GradientRegistration } from '../BackwardRule';
import { exp, greater, where } from '../extraOps';
import { inputOf, onlyGradient } from '../gradientMath';

/** dX = dY·2/√π·exp(−X²); needs no Erf, so it runs in float64 too. */
export const erfGradient: GradientRegistration = {
  opType: 'Erf',
  backward: ({ graph, node, outputGradients }) => {
    const x = inputOf(node, 0);
    const density = exp(graph, mul(graph, mul(graph, x, x), -1));
    return [mul(graph, onlyGradient(outputGradients), mul(graph, density, 2 / Math.sqrt(Math.PI)))];
  },
};

/** dX = dY·(1 − Y²). */
export const tanhGradient: GradientRegistration = {
  opType: 'Tanh',
  backward: ({ graph, node, outputGradients }) => {
    const y = node.outputs[0]!;
    return [mul(graph, onlyGradient(outputGradients), sub(graph, 1, mul(graph, y, y)))];
  },
};

/** dX = dY·Y·(1 − Y). */
export const sigmoidGradient: GradientRegistration = {
  opType: 'Sigmoid',
  backward: ({ graph, node, outputGradients }) => {
    const y = node.outputs[0]!;
    return [mul(graph, onlyGradient(outputGradients), mul(graph, y, sub(graph, 1, y)))];
  },
};

/** dX = dY / (2·Y). */
export const sqrtGradient: GradientRegistration = {
  opType: 'Sqrt',
  backward: ({ graph, node, outputGradients }) => [div(graph, mul(graph, onlyGradient(outputGradients), 0.5), node.outputs[0]!)],
};

/** dX = dY·Y. */
export const expGradient: GradientRegistration = {
  opType: 'Exp',
  backward: ({ graph, node, outputGradients }) => [mul(graph, onlyGradient(outputGradients), node.outputs[0]!)],
};

/** dX = dY / X. */
export const logGradient: GradientRegistration = {
  opType: 'Log',
  backward: ({ graph, node, outputGradients }) => [div(graph, onlyGradient(outputGradients), inputOf(node, 0))],
};

/** dX = dY where X > 0, else 0: Where rather than Sign, which WebGPU lacks (pitfall 13). */
export const reluGradient: GradientRegistration = {
  opType: 'Relu',
  backward: ({ graph, node, outputGradients }) => {
    const x = inputOf(node, 0);
    const zero = scalar(graph, 0, x.dtype);
    return [where(graph, greater(graph, x, zero), onlyGradient(outputGradients), zero)];
  },
};
