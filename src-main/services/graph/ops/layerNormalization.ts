import { fail, requireFloating, requireSameDType } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { formatShape, normalizeAxis, sameShape } from '../shapes';

/**
 * LayerNormalization (opset 17) over the axes from `axis` to the end, with scale and bias of
 * exactly those dimensions. Only Y is emitted: the optional Mean/InvStdDev outputs are always
 * float32 (pitfall 2).
 * GRADIENT (rule in graph/autodiff/rules): recompute mean and 1/σ in the graph (in X's dtype), then
 * dX = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)) with g = dY·scale; dScale = Σ dY·x̂, dBias = Σ dY.
 */
export const layerNormalizationOp: OpDefinition = { opType: 'LayerNormalization', domain: '' };

export function layerNormalization(graph: Graph, x: Tensor, scale: Tensor, bias: Tensor | undefined, epsilon: number, axis = -1): Tensor {
  const operands = bias ? [x, scale, bias] : [x, scale];
  requireFloating('LayerNormalization', graph, ...operands);
  requireSameDType('LayerNormalization', graph, ...operands);
  const resolved = normalizeAxis(axis, x.rank);
  if (resolved === undefined) fail('LayerNormalization', graph, `axis ${axis} is out of range for ${x.describe()}`);
  const normalized = x.shape.slice(resolved);
  for (const parameter of bias ? [scale, bias] : [scale]) {
    if (!sameShape(parameter.shape, normalized)) {
      fail('LayerNormalization', graph, `${parameter.name} has shape ${formatShape(parameter.shape)}, expected ${formatShape(normalized)} for ${x.describe()}`);
    }
  }
  const [out] = graph.addNode(layerNormalizationOp, operands, [{ dtype: x.dtype, shape: x.shape }], [
    { name: 'axis', kind: 'int', value: resolved },
    { name: 'epsilon', kind: 'float', value: epsilon },
  ]);
  return out!;
}
