import { add, erf, mul } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { exp } from '../extraOps';
import { inputOf, onlyGradient } from '../gradientMath';

/**
 * The exact GELU (ops/gelu.ts) as one unit: with u = X/√2,
 * dX = dY·(Φ(X) + X·φ(X)) = dY·½·(1 + erf(u) + u·2/√π·exp(−u²)),
 * recomputed from X alone. Differentiated part by part, the forward would keep three
 * intermediates of X's size alive until the backward pass (0.4 GB of a ViT-S step's peak at
 * batch 16) and could not be fused into ORT's Gelu kernel. u is formed with Mul where the forward
 * divides, so even where ORT's common-subexpression elimination runs (the app's sessions turn it
 * off), it cannot merge the two and keep the forward's parts alive.
 */
export const geluFunctionGradient: GradientRegistration = {
  opType: 'Gelu',
  backward: ({ graph, node, outputGradients }) => {
    const x = inputOf(node, 0);
    const u = mul(graph, x, Math.SQRT1_2);
    const density = exp(graph, mul(graph, mul(graph, u, u), -1));
    const slope = mul(graph, mul(graph, u, density), 2 / Math.sqrt(Math.PI));
    const derivative = mul(graph, add(graph, add(graph, erf(graph, u), slope), 1), 0.5);
    return [mul(graph, onlyGradient(outputGradients), derivative)];
  },
};
