import type { Graph, Tensor } from '../../Graph';
import { gemm, matMul, reshape, transpose } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { inputOf, onlyGradient, sumToShape } from '../gradientMath';

function swapLastTwo(graph: Graph, x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1]!, perm[x.rank - 2]!];
  return transpose(graph, x, perm);
}

/** dA = dY·Bᵀ for a shared 2-D B, as one Gemm(transB) on the flattened rows (pitfall 7). */
function leftGradient(graph: Graph, dy: Tensor, a: Tensor, b: Tensor): Tensor {
  if (b.rank === 2) {
    const rows = reshape(graph, dy, [-1, b.shape[1]!]);
    const product = gemm(graph, rows, b, undefined, { transB: true });
    return reshape(graph, product, [...dy.shape.slice(0, -1), b.shape[0]!]);
  }
  return sumToShape(graph, matMul(graph, dy, swapLastTwo(graph, b)), a.shape);
}

/** dB = Aᵀ·dY; for a shared 2-D B the batch folds into one Gemm(transA). */
function rightGradient(graph: Graph, dy: Tensor, a: Tensor, b: Tensor): Tensor {
  if (b.rank === 2) {
    const inner = a.shape[a.rank - 1]!;
    const columns = b.shape[1]!;
    return gemm(graph, reshape(graph, a, [-1, inner]), reshape(graph, dy, [-1, columns]), undefined, { transA: true });
  }
  return sumToShape(graph, matMul(graph, swapLastTwo(graph, a), dy), b.shape);
}

/**
 * dA = dY·Bᵀ, dB = Aᵀ·dY with numpy semantics: 1-D operands are promoted as the forward did and
 * the results summed over broadcast batch axes.
 */
export const matMulGradient: GradientRegistration = {
  opType: 'MatMul',
  backward: ({ graph, node, outputGradients, needsGradient }) => {
    const [a, b] = [inputOf(node, 0), inputOf(node, 1)];
    const a2 = a.rank === 1 ? reshape(graph, a, [1, a.shape[0]!]) : a;
    const b2 = b.rank === 1 ? reshape(graph, b, [b.shape[0]!, 1]) : b;
    const dy = onlyGradient(outputGradients);
    const matrixAxes = (a.rank > 1 ? 1 : 0) + (b.rank > 1 ? 1 : 0);
    const batch = dy.shape.slice(0, dy.rank - matrixAxes);
    const promoted = [...batch, a2.shape[a2.rank - 2]!, b2.shape[b2.rank - 1]!];
    const dy2 = dy.rank === promoted.length ? dy : reshape(graph, dy, promoted);
    return [
      needsGradient[0] ? reshapeBack(graph, leftGradient(graph, dy2, a2, b2), a) : undefined,
      needsGradient[1] ? reshapeBack(graph, rightGradient(graph, dy2, a2, b2), b) : undefined,
    ];
  },
};

function reshapeBack(graph: Graph, gradient: Tensor, operand: Tensor): Tensor {
  return gradient.rank === operand.rank ? gradient : reshape(graph, gradient, operand.shape);
}
