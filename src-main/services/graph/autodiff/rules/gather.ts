import { fail } from '../../Graph';
import type { Tensor } from '../../Graph';
import { floatConstant, matMul, reshape, unsqueeze } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { pad } from '../extraOps';
import { constantInts, inputOf, intAttribute, onlyGradient } from '../gradientMath';

/**
 * For constant indices: a scalar index puts dY back with Unsqueeze + zero Pad (pitfall 5); an
 * index array scatters through a constant one-hot MatMul, which also sums repeated indices.
 * The indices get no gradient.
 */
export const gatherGradient: GradientRegistration = {
  opType: 'Gather',
  backward: ({ graph, node, outputGradients }) => {
    const data = inputOf(node, 0);
    const indicesTensor = inputOf(node, 1);
    const dy = onlyGradient(outputGradients);
    const axis = intAttribute(node, 'axis', 0);
    const dim = data.shape[axis]!;
    const indices = constantInts(graph, node, 1).map((index) => (index < 0 ? index + dim : index));
    if (indicesTensor.rank === 0) {
      const pads = new Array<number>(2 * data.rank).fill(0);
      pads[axis] = indices[0]!;
      pads[axis + data.rank] = dim - indices[0]! - 1;
      return [pad(graph, unsqueeze(graph, dy, [axis]), pads), undefined];
    }
    return [scatterByOneHot(dy, data, indices, axis), undefined];
  },
};

function scatterByOneHot(dy: Tensor, data: Tensor, indices: readonly number[], axis: number): Tensor {
  const graph = dy.graph;
  if (dy.dtype !== 'float32' && dy.dtype !== 'float64') fail('Gather', graph, `the gradient of an index-array Gather needs float32/float64, got ${dy.describe()}`);
  const dim = data.shape[axis]!;
  const before = data.shape.slice(0, axis).reduce((product, size) => product * size, 1);
  const after = data.shape.slice(axis + 1).reduce((product, size) => product * size, 1);
  const oneHotTransposed = new Array<number>(dim * indices.length).fill(0);
  indices.forEach((index, j) => (oneHotTransposed[index * indices.length + j] = 1));
  const scattered = matMul(
    graph,
    floatConstant(graph, dy.dtype, [dim, indices.length], oneHotTransposed),
    reshape(graph, dy, [before, indices.length, after]),
  );
  return reshape(graph, scattered, data.shape);
}
