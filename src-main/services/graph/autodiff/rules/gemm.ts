import type { Graph, Tensor } from '../../Graph';
import { gemm, mul } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { floatAttribute, inputOf, intAttribute, onlyGradient, sumToShape } from '../gradientMath';

interface GemmFlags {
  readonly transA: boolean;
  readonly transB: boolean;
  readonly alpha: number;
}

/** d op(A) = α·dY·op(B)ᵀ, transposed back when transA; expressed with Gemm's own flags so nothing is copied. */
function gradientOfA(graph: Graph, dy: Tensor, b: Tensor, { transA, transB, alpha }: GemmFlags): Tensor {
  if (!transA) return gemm(graph, dy, b, undefined, { transB: !transB, alpha });
  return gemm(graph, b, dy, undefined, { transA: transB, transB: true, alpha });
}

/** d op(B) = α·op(A)ᵀ·dY, transposed back when transB. */
function gradientOfB(graph: Graph, dy: Tensor, a: Tensor, { transA, transB, alpha }: GemmFlags): Tensor {
  if (!transB) return gemm(graph, a, dy, undefined, { transA: !transA, alpha });
  return gemm(graph, dy, a, undefined, { transA: true, transB: transA, alpha });
}

/** Y = α·op(A)·op(B) + β·C: gradients of A and B by Gemm with transposition flags, dC = β·ΣdY to C's shape. */
export const gemmGradient: GradientRegistration = {
  opType: 'Gemm',
  backward: ({ graph, node, outputGradients, needsGradient }) => {
    const dy = onlyGradient(outputGradients);
    const flags: GemmFlags = {
      transA: intAttribute(node, 'transA', 0) === 1,
      transB: intAttribute(node, 'transB', 0) === 1,
      alpha: floatAttribute(node, 'alpha', 1),
    };
    const beta = floatAttribute(node, 'beta', 1);
    const c = node.inputs[2];
    let dc: Tensor | undefined;
    if (c && needsGradient[2]) {
      dc = sumToShape(graph, dy, c.shape);
      if (beta !== 1) dc = mul(graph, dc, beta);
    }
    return [
      needsGradient[0] ? gradientOfA(graph, dy, inputOf(node, 1), flags) : undefined,
      needsGradient[1] ? gradientOfB(graph, dy, inputOf(node, 0), flags) : undefined,
      dc,
    ];
  },
};
