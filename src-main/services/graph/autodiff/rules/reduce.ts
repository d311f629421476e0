import type { Graph, GraphNode, Tensor } from '../../Graph';
import { expand, mul, reshape } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { constantInts, inputOf, intAttribute, intsAttribute, onlyGradient } from '../gradientMath';

/** Spreads dY back over the reduced axes: Reshape to the kept-dims shape, then Expand to X's shape. */
function spread(graph: Graph, node: GraphNode, dy: Tensor, axes: readonly number[]): Tensor {
  const x = inputOf(node, 0);
  const resolved = new Set(axes.map((axis) => (axis < 0 ? axis + x.rank : axis)));
  const kept = x.shape.map((dim, i) => (resolved.has(i) ? 1 : dim));
  const keepDims = intAttribute(node, 'keepdims', 1) === 1;
  return expand(graph, keepDims ? dy : reshape(graph, dy, kept), x.shape);
}

/** dX = Expand(Reshape(dY, kept dims), X.shape); the axes input gets none. */
export const reduceSumGradient: GradientRegistration = {
  opType: 'ReduceSum',
  backward: ({ graph, node, outputGradients }) => [spread(graph, node, onlyGradient(outputGradients), constantInts(graph, node, 1)), undefined],
};

/** As ReduceSum, divided by the number of elements averaged. */
export const reduceMeanGradient: GradientRegistration = {
  opType: 'ReduceMean',
  backward: ({ graph, node, outputGradients }) => {
    const x = inputOf(node, 0);
    const axes = intsAttribute(node, 'axes') ?? x.shape.map((_, i) => i);
    const count = axes.reduce((product, axis) => product * x.shape[axis < 0 ? axis + x.rank : axis]!, 1);
    return [mul(graph, spread(graph, node, onlyGradient(outputGradients), axes), 1 / count)];
  },
};
