import { requireFloating } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { sameShapeUnary } from './elementwise';

/**
 * Erf, element by element. ORT's CPU provider has no float64 kernel (ONNX-TRAINING.md pitfall 3).
 * GRADIENT (rule in graph/autodiff/rules): dX = dY · 2/√π · exp(−X²).
 */
export const erfOp: OpDefinition = { opType: 'Erf', domain: '' };

export function erf(graph: Graph, x: Tensor): Tensor {
  requireFloating('Erf', graph, x);
  return sameShapeUnary(graph, erfOp, x);
}
