import { fail } from '../../Graph';
import type { GradientRegistration } from '../BackwardRule';
import { pad } from '../extraOps';
import { constantInts, inputOf, onlyGradient } from '../gradientMath';

/** Where a unit-step slice of length `length` begins along an axis of length `dim` (ONNX clamping). */
function sliceBegin(dim: number, start: number): number {
  const first = start < 0 ? start + dim : start;
  return Math.min(Math.max(first, 0), dim);
}

/** dX = Pad(dY) with zeros by the amounts the slice cut off (pitfall 5); unit steps only. */
export const sliceGradient: GradientRegistration = {
  opType: 'Slice',
  backward: ({ graph, node, outputGradients }) => {
    const x = inputOf(node, 0);
    const dy = onlyGradient(outputGradients);
    const [starts, axes, steps] = [constantInts(graph, node, 1), constantInts(graph, node, 3), constantInts(graph, node, 4)];
    if (steps.some((step) => step !== 1)) fail('Slice', graph, `${node.name}: the gradient supports unit steps only, got [${steps.join(',')}]`);
    const pads = new Array<number>(2 * x.rank).fill(0);
    axes.forEach((axis, i) => {
      const resolved = axis < 0 ? axis + x.rank : axis;
      const dim = x.shape[resolved]!;
      const begin = sliceBegin(dim, starts[i]!);
      pads[resolved] = begin;
      pads[resolved + x.rank] = dim - begin - dy.shape[resolved]!;
    });
    return [pad(graph, dy, pads)];
  },
};
