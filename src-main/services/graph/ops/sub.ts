import type { Graph, OpDefinition, Tensor } from '../Graph';
import { broadcastBinary } from './elementwise';
import type { Operand } from './elementwise';

/**
 * Sub with numpy broadcasting.
 * GRADIENT (rule in graph/autodiff/rules): dA = dY, dB = −dY, each ReduceSum'd back to its own (broadcast) shape.
 */
export const subOp: OpDefinition = { opType: 'Sub', domain: '' };

export function sub(graph: Graph, a: Operand, b: Operand): Tensor {
  return broadcastBinary(graph, subOp, a, b);
}
