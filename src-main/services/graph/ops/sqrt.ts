import { requireFloating } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { sameShapeUnary } from './elementwise';

/**
 * Sqrt, element by element.
 * GRADIENT (rule in graph/autodiff/rules): dX = dY / (2·Y).
 */
export const sqrtOp: OpDefinition = { opType: 'Sqrt', domain: '' };

export function sqrt(graph: Graph, x: Tensor): Tensor {
  requireFloating('Sqrt', graph, x);
  return sameShapeUnary(graph, sqrtOp, x);
}
