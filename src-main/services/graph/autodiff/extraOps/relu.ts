import { requireFloating } from '../../Graph';
import type { Graph, OpDefinition, Tensor } from '../../Graph';
import { sameShapeUnary } from '../../ops/elementwise';

/** Relu, max(x, 0) element by element. Gradient: dY where X > 0, else 0 (Where, not Sign: pitfall 13). */
export const reluOp: OpDefinition = { opType: 'Relu', domain: '' };

export function relu(graph: Graph, x: Tensor): Tensor {
  requireFloating('Relu', graph, x);
  return sameShapeUnary(graph, reluOp, x);
}
