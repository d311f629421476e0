import { requireFloating } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { sameShapeUnary } from './elementwise';

/**
 * Sigmoid, element by element.
 * GRADIENT (rule in graph/autodiff/rules): dX = dY · Y · (1 − Y).
 */
export const sigmoidOp: OpDefinition = { opType: 'Sigmoid', domain: '' };

export function sigmoid(graph: Graph, x: Tensor): Tensor {
  requireFloating('Sigmoid', graph, x);
  return sameShapeUnary(graph, sigmoidOp, x);
}
