import { fail, requireFloating, requireSameDType } from '../Graph';
import type { Attribute, Graph, OpDefinition, Tensor } from '../Graph';
import { broadcastsTo, formatShape } from '../shapes';

/**
 * Gemm: Y = alpha·op(A)·op(B) + beta·C on 2-D operands, C broadcast to [M, N]. Linear layers
 * use it with transB = 1 on the checkpoint's [out, in] weight, which avoids a transposed copy.
 * GRADIENT (rule in graph/autodiff/rules): with transB = 1, dA = dY·B (Gemm), dB = dYᵀ·A (Gemm transA),
 * dC = ReduceSum of dY to C's shape; scale by alpha / beta.
 */
export const gemmOp: OpDefinition = { opType: 'Gemm', domain: '' };

export interface GemmOptions {
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  readonly beta?: number;
}

export function gemm(graph: Graph, a: Tensor, b: Tensor, c?: Tensor, options: GemmOptions = {}): Tensor {
  const operands = c ? [a, b, c] : [a, b];
  requireFloating('Gemm', graph, ...operands);
  requireSameDType('Gemm', graph, ...operands);
  if (a.rank !== 2 || b.rank !== 2) fail('Gemm', graph, `A and B must be 2-D, got ${a.describe()} and ${b.describe()}`);
  const [m, ka] = options.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [kb, n] = options.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (ka !== kb) {
    fail('Gemm', graph, `inner dimensions differ: A ${formatShape(a.shape)} (${a.name}) transA=${Boolean(options.transA)}, B ${formatShape(b.shape)} (${b.name}) transB=${Boolean(options.transB)}`);
  }
  if (c && !broadcastsTo(c.shape, [m, n])) {
    fail('Gemm', graph, `C ${formatShape(c.shape)} (${c.name}) does not broadcast to [${m},${n}]`);
  }
  const attributes: Attribute[] = [];
  if (options.transA) attributes.push({ name: 'transA', kind: 'int', value: 1 });
  if (options.transB) attributes.push({ name: 'transB', kind: 'int', value: 1 });
  if (options.alpha !== undefined) attributes.push({ name: 'alpha', kind: 'float', value: options.alpha });
  if (options.beta !== undefined) attributes.push({ name: 'beta', kind: 'float', value: options.beta });
  const [out] = graph.addNode(gemmOp, operands, [{ dtype: a.dtype, shape: [m, n] }], attributes);
  return out!;
}
