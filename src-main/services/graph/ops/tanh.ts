import { requireFloating } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { sameShapeUnary } from './elementwise';

/**
 * Tanh, element by element.
 * GRADIENT (rule in graph/autodiff/rules): dX = dY · (1 − Y²).
 */
export const tanhOp: OpDefinition = { opType: 'Tanh', domain: '' };

export function tanh(graph: Graph, x: Tensor): Tensor {
  requireFloating('Tanh', graph, x);
  return sameShapeUnary(graph, tanhOp, x);
}
