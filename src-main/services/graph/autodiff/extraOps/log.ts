import { requireFloating } from '../../Graph';
import type { Graph, OpDefinition, Tensor } from '../../Graph';
import { sameShapeUnary } from '../../ops/elementwise';

/** Natural logarithm, element by element (softplus in the BCE loss). Gradient: dX = dY / X. */
export const logOp: OpDefinition = { opType: 'Log', domain: '' };

export function log(graph: Graph, x: Tensor): Tensor {
  requireFloating('Log', graph, x);
  return sameShapeUnary(graph, logOp, x);
}
