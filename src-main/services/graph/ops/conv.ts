import { fail, requireFloating, requireSameDType } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { formatShape } from '../shapes';

/**
 * Conv over N spatial dimensions (ViT patch embedding: 2-D, kernel = stride = patch size).
 * X [N, C, ...spatial], W [M, C/group, ...kernel], B [M].
 * GRADIENT (rule in graph/autodiff/rules): dX = ConvTranspose(dY, W) with the same strides/pads; dW from the
 * im2col view (for kernel = stride: Reshape + Transpose + Gemm); dB = ReduceSum(dY) over N and space.
 */
export const convOp: OpDefinition = { opType: 'Conv', domain: '' };

export interface ConvOptions {
  readonly strides?: readonly number[];
  /** [begin…, end…] per spatial axis, as ONNX orders them. */
  readonly pads?: readonly number[];
  readonly dilations?: readonly number[];
  readonly group?: number;
}

export function conv(graph: Graph, x: Tensor, w: Tensor, b: Tensor | undefined, options: ConvOptions = {}): Tensor {
  const operands = b ? [x, w, b] : [x, w];
  requireFloating('Conv', graph, ...operands);
  requireSameDType('Conv', graph, ...operands);
  const spatial = x.rank - 2;
  if (spatial < 1 || w.rank !== x.rank) fail('Conv', graph, `X ${x.describe()} and W ${w.describe()} must both have rank ≥ 3 and equal rank`);
  const group = options.group ?? 1;
  const strides = options.strides ?? new Array<number>(spatial).fill(1);
  const pads = options.pads ?? new Array<number>(2 * spatial).fill(0);
  const dilations = options.dilations ?? new Array<number>(spatial).fill(1);
  if (strides.length !== spatial || dilations.length !== spatial || pads.length !== 2 * spatial) {
    fail('Conv', graph, `strides/dilations need ${spatial} entries and pads ${2 * spatial} for ${x.describe()}`);
  }
  const [batch, channels] = x.shape as [number, number];
  const [filters, channelsPerGroup] = w.shape as [number, number];
  if (channels % group !== 0 || filters % group !== 0 || channels / group !== channelsPerGroup) {
    fail('Conv', graph, `input channels of X ${formatShape(x.shape)} (${x.name}) do not match W ${formatShape(w.shape)} (${w.name}) with group ${group}`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== filters)) fail('Conv', graph, `bias ${b.describe()} must have shape [${filters}]`);
  const out = [batch, filters];
  for (let i = 0; i < spatial; i++) {
    const extent = x.shape[i + 2]! + pads[i]! + pads[i + spatial]! - dilations[i]! * (w.shape[i + 2]! - 1) - 1;
    if (extent < 0) fail('Conv', graph, `kernel ${formatShape(w.shape.slice(2))} is larger than the padded input ${formatShape(x.shape.slice(2))}`);
    out.push(Math.floor(extent / strides[i]!) + 1);
  }
  const [y] = graph.addNode(convOp, operands, [{ dtype: x.dtype, shape: out }], [
    { name: 'kernel_shape', kind: 'ints', value: w.shape.slice(2) },
    { name: 'strides', kind: 'ints', value: strides },
    { name: 'pads', kind: 'ints', value: pads },
    { name: 'dilations', kind: 'ints', value: dilations },
    { name: 'group', kind: 'int', value: group },
  ]);
  return y!;
}
