import type { Graph, OpDefinition, Tensor } from '../Graph';
import { broadcastBinary } from './elementwise';
import type { Operand } from './elementwise';

/**
 * Add with numpy broadcasting.
 * GRADIENT (rule in graph/autodiff/rules): dA = dY, dB = dY, each ReduceSum'd back to its own (broadcast) shape.
 */
export const addOp: OpDefinition = { opType: 'Add', domain: '' };

export function add(graph: Graph, a: Operand, b: Operand): Tensor {
  return broadcastBinary(graph, addOp, a, b);
}
