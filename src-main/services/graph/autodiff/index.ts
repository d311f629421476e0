export { appendBackwardPass } from './appendBackwardPass';
export type { BackwardContext, BackwardRule, GradientRegistration } from './BackwardRule';
export * from './extraOps';
export { binaryCrossEntropyWithLogits, dropout, softmaxCrossEntropy } from './losses';
export { backwardRuleFor, differentiableOpTypes } from './registry';
