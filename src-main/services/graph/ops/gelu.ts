import type { Graph, Tensor } from '../Graph';
import { add } from './add';
import { div } from './div';
import { erf } from './erf';
import { mul } from './mul';
import { tanh } from './tanh';

/*
 * GELU as compositions of primitive ops (opset 17 has no Gelu). The tanh form is differentiated
 * part by part; the exact form is an inlined function with a gradient rule of its own.
 */

/**
 * Exact GELU, x·½·(1 + erf(x/√2)) (timm's nn.GELU, HF "gelu"), inlined as the function "Gelu"
 * (its gradient rule recomputes from x: autodiff/rules/gelu.ts), in the node pattern ORT fuses
 * into its one-pass Gelu kernel (Div by √2, Erf, Add 1, Mul by x·0.5).
 */
export function gelu(graph: Graph, x: Tensor): Tensor {
  return graph.inlineFunction('Gelu', [x], () =>
    graph.scope('gelu', () => {
      const phi = add(graph, erf(graph, div(graph, x, Math.SQRT2)), 1);
      return mul(graph, mul(graph, x, 0.5), phi);
    }),
  );
}

/** Tanh approximation, ½x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (HF "gelu_pytorch_tanh"). */
export function geluTanh(graph: Graph, x: Tensor): Tensor {
  return graph.scope('gelu_tanh', () => {
    const cube = mul(graph, mul(graph, x, x), x);
    const inner = mul(graph, add(graph, x, mul(graph, cube, 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(graph, mul(graph, x, 0.5), add(graph, tanh(graph, inner), 1));
  });
}
