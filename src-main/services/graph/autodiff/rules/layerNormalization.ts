import type { Graph, Tensor } from '../../Graph';
import { add, div, mul, reduceMean, reduceSum, sqrt, sub } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { floatAttribute, inputOf, intAttribute, onlyGradient } from '../gradientMath';

/**
 * Recomputes x̂ = (x − mean)/σ in X's own dtype: ORT's Mean/InvStdDev outputs are always
 * float32 (pitfall 2), which would spoil float64 gradients.
 */
function normalizedInput(graph: Graph, x: Tensor, axes: readonly number[], epsilon: number): { xHat: Tensor; inverseStd: Tensor } {
  const centred = sub(graph, x, reduceMean(graph, x, axes, true));
  const variance = reduceMean(graph, mul(graph, centred, centred), axes, true);
  const inverseStd = div(graph, 1, sqrt(graph, add(graph, variance, epsilon)));
  return { xHat: mul(graph, centred, inverseStd), inverseStd };
}

/**
 * With g = dY·scale: dX = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)); dScale = Σ dY·x̂ and dBias = Σ dY
 * over the leading (not normalised) axes.
 */
export const layerNormalizationGradient: GradientRegistration = {
  opType: 'LayerNormalization',
  backward: ({ graph, node, outputGradients, needsGradient }) => {
    const x = inputOf(node, 0);
    const scale = inputOf(node, 1);
    const dy = onlyGradient(outputGradients);
    const axis = intAttribute(node, 'axis', -1);
    const first = axis < 0 ? axis + x.rank : axis;
    const normalizedAxes = x.shape.map((_, i) => i).filter((i) => i >= first);
    const leadingAxes = x.shape.map((_, i) => i).filter((i) => i < first);
    const sumLeading = (t: Tensor): Tensor => (leadingAxes.length > 0 ? reduceSum(graph, t, leadingAxes, false) : t);
    const needsXHat = needsGradient[0] || needsGradient[1];
    const stats = needsXHat ? normalizedInput(graph, x, normalizedAxes, floatAttribute(node, 'epsilon', 1e-5)) : undefined;
    let dx: Tensor | undefined;
    if (needsGradient[0] && stats) {
      const g = mul(graph, dy, scale);
      const meanG = reduceMean(graph, g, normalizedAxes, true);
      const meanGXHat = reduceMean(graph, mul(graph, g, stats.xHat), normalizedAxes, true);
      dx = mul(graph, stats.inverseStd, sub(graph, sub(graph, g, meanG), mul(graph, stats.xHat, meanGXHat)));
    }
    return [
      dx,
      needsGradient[1] && stats ? sumLeading(mul(graph, dy, stats.xHat)) : undefined,
      needsGradient[2] ? sumLeading(dy) : undefined,
    ];
  },
};
