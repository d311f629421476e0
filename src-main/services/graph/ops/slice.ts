import { fail } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { normalizeAxis } from '../shapes';
import { int64Constant } from './constant';

/**
 * Slice (opset 13+: starts, ends, axes and steps are inputs). ±Infinity in starts/ends mean
 * "from the very start / to the very end" and are emitted as the int64 extremes.
 * GRADIENT (rule in graph/autodiff/rules): Pad dY with zeros by the computed amounts (pitfall 5).
 */
export const sliceOp: OpDefinition = { opType: 'Slice', domain: '' };

export interface SliceSpec {
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  readonly axes?: readonly number[];
  readonly steps?: readonly number[];
}

/** The number of elements ONNX Slice keeps along one axis of length `dim`. */
export function sliceLength(dim: number, start: number, end: number, step: number): number {
  let first = start < 0 ? start + dim : start;
  let last = end < 0 ? end + dim : end;
  if (step > 0) {
    first = Math.min(Math.max(first, 0), dim);
    last = Math.min(Math.max(last, 0), dim);
    return Math.max(0, Math.ceil((last - first) / step));
  }
  first = Math.min(Math.max(first, 0), dim - 1);
  last = Math.min(Math.max(last, -1), dim - 1);
  return Math.max(0, Math.ceil((first - last) / -step));
}

export function slice(graph: Graph, x: Tensor, spec: SliceSpec): Tensor {
  const axes = spec.axes ?? spec.starts.map((_, i) => i);
  const steps = spec.steps ?? spec.starts.map(() => 1);
  if (spec.ends.length !== spec.starts.length || axes.length !== spec.starts.length || steps.length !== spec.starts.length) {
    fail('Slice', graph, `starts, ends, axes and steps must have one entry per sliced axis (${x.describe()})`);
  }
  const shape = [...x.shape];
  const seen = new Set<number>();
  axes.forEach((axis, i) => {
    const resolved = normalizeAxis(axis, x.rank);
    if (resolved === undefined || seen.has(resolved)) fail('Slice', graph, `axis ${axis} is out of range or repeated for ${x.describe()}`);
    seen.add(resolved);
    const step = steps[i]!;
    if (!Number.isInteger(step) || step === 0) fail('Slice', graph, `step ${step} must be a non-zero integer`);
    shape[resolved] = sliceLength(x.shape[resolved]!, spec.starts[i]!, spec.ends[i]!, step);
  });
  const inputs = [x, int64Constant(graph, spec.starts), int64Constant(graph, spec.ends), int64Constant(graph, axes), int64Constant(graph, steps)];
  const [out] = graph.addNode(sliceOp, inputs, [{ dtype: x.dtype, shape }]);
  return out!;
}
