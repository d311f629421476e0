export { equal, equalOp, greater, greaterOp } from './compare';
export { convTranspose, convTransposeOp } from './convTranspose';
export type { ConvTransposeOptions } from './convTranspose';
export { exp, expOp } from './exp';
export { log, logOp } from './log';
export { logSoftmax, logSoftmaxOp } from './logSoftmax';
export { pad, padOp } from './pad';
export { relu, reluOp } from './relu';
export { where, whereOp } from './where';
