import type { Graph, OpDefinition, Tensor } from '../Graph';
import { broadcastBinary } from './elementwise';
import type { Operand } from './elementwise';

/**
 * Mul with numpy broadcasting.
 * GRADIENT (rule in graph/autodiff/rules): dA = dY·B, dB = dY·A, each ReduceSum'd back to its own (broadcast) shape.
 */
export const mulOp: OpDefinition = { opType: 'Mul', domain: '' };

export function mul(graph: Graph, a: Operand, b: Operand): Tensor {
  return broadcastBinary(graph, mulOp, a, b);
}
