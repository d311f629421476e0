import { fail } from '../../Graph';
import type { Graph, GraphNode, Tensor } from '../../Graph';
import { conv, reduceSum, slice, transpose } from '../../ops';
import type { GradientRegistration } from '../BackwardRule';
import { convTranspose } from '../extraOps';
import { inputOf, intAttribute, intsAttribute, onlyGradient } from '../gradientMath';

interface ConvGeometry {
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations: readonly number[];
}

function geometry(node: GraphNode, spatial: number): ConvGeometry {
  return {
    strides: intsAttribute(node, 'strides') ?? new Array<number>(spatial).fill(1),
    pads: intsAttribute(node, 'pads') ?? new Array<number>(2 * spatial).fill(0),
    dilations: intsAttribute(node, 'dilations') ?? new Array<number>(spatial).fill(1),
  };
}

/** Swaps the first two axes (batch ↔ channels). */
function swapLeadingAxes(graph: Graph, x: Tensor): Tensor {
  return transpose(graph, x, [1, 0, ...x.shape.slice(2).map((_, i) => i + 2)]);
}

/** dX = ConvTranspose(dY, W), with output padding for pixels the strides left over. */
function inputGradient(graph: Graph, dy: Tensor, x: Tensor, w: Tensor, { strides, pads, dilations }: ConvGeometry): Tensor {
  const spatial = x.rank - 2;
  const outputPadding = x.shape.slice(2).map((size, i) => {
    const covered = strides[i]! * (dy.shape[i + 2]! - 1) + (w.shape[i + 2]! - 1) * dilations[i]! + 1 - pads[i]! - pads[i + spatial]!;
    return size - covered;
  });
  return convTranspose(graph, dy, w, { strides, pads, dilations, outputPadding });
}

/**
 * dW[m, c, k] = Σ dY[n, m, o]·X[n, c, o·s + k·d − p]: a Conv of X (batch and channels swapped)
 * with dY as kernel, strides and dilations exchanged, cut to the kernel size.
 */
function weightGradient(graph: Graph, dy: Tensor, x: Tensor, w: Tensor, { strides, pads, dilations }: ConvGeometry): Tensor {
  const correlated = conv(graph, swapLeadingAxes(graph, x), swapLeadingAxes(graph, dy), undefined, { strides: dilations, pads, dilations: strides });
  const kernel = w.shape.slice(2);
  const spatialAxes = kernel.map((_, i) => i + 2);
  const needsCut = kernel.some((size, i) => correlated.shape[i + 2] !== size);
  const cut = needsCut ? slice(graph, correlated, { starts: kernel.map(() => 0), ends: kernel, axes: spatialAxes }) : correlated;
  return swapLeadingAxes(graph, cut);
}

/** Conv (group 1): input gradient only where asked for, weight gradient by correlation, dB = ΣdY over batch and space. */
export const convGradient: GradientRegistration = {
  opType: 'Conv',
  backward: ({ graph, node, outputGradients, needsGradient }) => {
    const [x, w] = [inputOf(node, 0), inputOf(node, 1)];
    if (intAttribute(node, 'group', 1) !== 1) fail('Conv', graph, `${node.name}: gradients of grouped convolutions are not supported`);
    const dy = onlyGradient(outputGradients);
    const shape = geometry(node, x.rank - 2);
    return [
      needsGradient[0] ? inputGradient(graph, dy, x, w, shape) : undefined,
      needsGradient[1] ? weightGradient(graph, dy, x, w, shape) : undefined,
      needsGradient[2] ? reduceSum(graph, dy, [0, ...dy.shape.slice(2).map((_, i) => i + 2)], false) : undefined,
    ];
  },
};
