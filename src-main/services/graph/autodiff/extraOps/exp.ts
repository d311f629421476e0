import { requireFloating } from '../../Graph';
import type { Graph, OpDefinition, Tensor } from '../../Graph';
import { sameShapeUnary } from '../../ops/elementwise';

/** Exp, element by element (the Erf gradient and the losses need it). Gradient: dX = dY·Y. */
export const expOp: OpDefinition = { opType: 'Exp', domain: '' };

export function exp(graph: Graph, x: Tensor): Tensor {
  requireFloating('Exp', graph, x);
  return sameShapeUnary(graph, expOp, x);
}
