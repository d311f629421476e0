import { fail, requireFloating, requireSameDType } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { broadcastShapes, formatShape } from '../shapes';

/**
 * MatMul with numpy semantics: batch dimensions broadcast, 1-D operands are promoted and the
 * promoted axis removed again.
 * GRADIENT (rule in graph/autodiff/rules): dA = dY·Bᵀ, dB = Aᵀ·dY, each ReduceSum'd over broadcast batch axes.
 * On a frozen 2-D B prefer Gemm(transB) to avoid ORT folding a transposed copy (pitfall 7).
 */
export const matMulOp: OpDefinition = { opType: 'MatMul', domain: '' };

export function matMulShape(graph: Graph, a: Tensor, b: Tensor): number[] {
  if (a.rank === 0 || b.rank === 0) fail('MatMul', graph, `operands must have rank ≥ 1, got ${a.describe()} and ${b.describe()}`);
  const left = a.rank === 1 ? [1, ...a.shape] : [...a.shape];
  const right = b.rank === 1 ? [...b.shape, 1] : [...b.shape];
  const k1 = left[left.length - 1]!;
  const k2 = right[right.length - 2]!;
  if (k1 !== k2) {
    fail('MatMul', graph, `cannot multiply ${formatShape(a.shape)} (${a.name}) by ${formatShape(b.shape)} (${b.name}): inner dimensions ${k1} and ${k2} differ`);
  }
  const batch = broadcastShapes(left.slice(0, -2), right.slice(0, -2));
  if (!batch) {
    fail('MatMul', graph, `batch dimensions of ${formatShape(a.shape)} (${a.name}) and ${formatShape(b.shape)} (${b.name}) do not broadcast`);
  }
  const shape = [...batch, left[left.length - 2]!, right[right.length - 1]!];
  if (b.rank === 1) shape.splice(shape.length - 1, 1);
  if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
  return shape;
}

export function matMul(graph: Graph, a: Tensor, b: Tensor): Tensor {
  requireFloating('MatMul', graph, a, b);
  requireSameDType('MatMul', graph, a, b);
  const [out] = graph.addNode(matMulOp, [a, b], [{ dtype: a.dtype, shape: matMulShape(graph, a, b) }]);
  return out!;
}
