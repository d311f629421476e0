import { fail, requireFloating, requireSameDType } from '../../Graph';
import type { Graph, OpDefinition, Tensor } from '../../Graph';
import { formatShape } from '../../shapes';

/**
 * ConvTranspose without bias, group 1: the input gradient of Conv. X [N, M, ...spatial],
 * W [M, C, ...kernel] (Conv's own weight layout). `outputPadding` makes the output exactly the
 * Conv input's size when the strides left pixels over.
 */
export const convTransposeOp: OpDefinition = { opType: 'ConvTranspose', domain: '' };

export interface ConvTransposeOptions {
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations: readonly number[];
  readonly outputPadding: readonly number[];
}

export function convTranspose(graph: Graph, x: Tensor, w: Tensor, options: ConvTransposeOptions): Tensor {
  requireFloating('ConvTranspose', graph, x, w);
  requireSameDType('ConvTranspose', graph, x, w);
  const spatial = x.rank - 2;
  if (spatial < 1 || w.rank !== x.rank || w.shape[0] !== x.shape[1]) {
    fail('ConvTranspose', graph, `X ${x.describe()} and W ${w.describe()} need equal rank ≥ 3 and W's first axis equal to X's channels`);
  }
  const { strides, pads, dilations, outputPadding } = options;
  const shape = [x.shape[0]!, w.shape[1]!];
  for (let i = 0; i < spatial; i++) {
    const kernelExtent = (w.shape[i + 2]! - 1) * dilations[i]! + 1;
    shape.push(strides[i]! * (x.shape[i + 2]! - 1) + outputPadding[i]! + kernelExtent - pads[i]! - pads[i + spatial]!);
  }
  if (shape.some((dim) => dim < 0)) fail('ConvTranspose', graph, `inferred a negative output shape ${formatShape(shape)}`);
  const [out] = graph.addNode(convTransposeOp, [x, w], [{ dtype: x.dtype, shape }], [
    { name: 'kernel_shape', kind: 'ints', value: w.shape.slice(2) },
    { name: 'strides', kind: 'ints', value: strides },
    { name: 'pads', kind: 'ints', value: pads },
    { name: 'dilations', kind: 'ints', value: dilations },
    { name: 'output_padding', kind: 'ints', value: outputPadding },
  ]);
  return out!;
}
