import { identityOp } from '../Graph';
import type { Graph, Tensor } from '../Graph';
import { sameShapeUnary } from './elementwise';

/* Identity's definition sits in Graph.ts (Graph.output uses it). GRADIENT (rule in graph/autodiff/rules): dX = dY. */
export { identityOp };

export function identity(graph: Graph, x: Tensor): Tensor {
  return sameShapeUnary(graph, identityOp, x);
}
