import type { Graph, OpDefinition, Tensor } from '../Graph';
import { broadcastBinary } from './elementwise';
import type { Operand } from './elementwise';

/**
 * Div with numpy broadcasting.
 * GRADIENT (rule in graph/autodiff/rules): dA = dY / B, dB = −dY·A / B², each ReduceSum'd back to its own (broadcast) shape.
 */
export const divOp: OpDefinition = { opType: 'Div', domain: '' };

export function div(graph: Graph, a: Operand, b: Operand): Tensor {
  return broadcastBinary(graph, divOp, a, b);
}
