import { afterAll, describe, it } from 'vitest';
import { exp, log, logSoftmax, relu, where } from '../../../../src-main/services/graph/autodiff';
import * as op from '../../../../src-main/services/graph/ops';
import { makeTempDir, removeTempDir } from '../ortHarness';
import { expectGradientsMatchFiniteDifferences as check, FLOAT32_TOLERANCE } from './gradientCheck';

const dir = makeTempDir('mitobench-autodiff-');
afterAll(() => removeTempDir(dir));

describe('elementwise arithmetic with broadcast reduction', () => {
  const shapes: [number[], number[]][] = [
    [[2, 3, 4], [2, 3, 4]],
    [[2, 3, 4], [3, 1]],
    [[4], [2, 3, 4]],
    [[2, 1, 4], [1, 3, 1]],
  ];
  for (const [a, b] of shapes) {
    it(`Add, Sub, Mul and Div on [${a}] and [${b}]`, async () => {
      await check(dir, [{ shape: a }, { shape: b }], (g, [x, y]) => op.add(g, x!, y!));
      await check(dir, [{ shape: a }, { shape: b }], (g, [x, y]) => op.sub(g, x!, y!));
      await check(dir, [{ shape: a }, { shape: b }], (g, [x, y]) => op.mul(g, x!, y!));
      await check(dir, [{ shape: a }, { shape: b, scale: 0.5, offset: 1.5 }], (g, [x, y]) => op.div(g, x!, y!));
    });
  }

  it('Where with a constant condition, broadcast (the dropout of LoRA inputs)', async () => {
    const condition = (g: Parameters<typeof op.add>[0]) => op.constant(g, 'bool', [2, 3], Uint8Array.of(1, 0, 1, 0, 0, 1));
    await check(dir, [{ shape: [2, 3] }, { shape: [3] }], (g, [x, y]) => where(g, condition(g), x!, y!));
    await check(dir, [{ shape: [2, 3] }], (g, [x]) => where(g, condition(g), x!, op.scalar(g, 0, x!.dtype)));
  });

  it('sums the contributions of a tensor used several times', async () => {
    await check(dir, [{ shape: [3, 2] }], (g, [x]) => op.add(g, op.mul(g, x!, x!), op.sub(g, 2, op.mul(g, x!, 0.25))));
  });
});

describe('MatMul and Gemm', () => {
  const matMulShapes: [number[], number[]][] = [
    [[3, 4], [4, 5]],
    [[2, 3, 4], [4, 5]],
    [[3, 4], [2, 4, 5]],
    [[2, 1, 3, 4], [3, 4, 2]],
    [[4], [4, 5]],
    [[2, 3, 4], [4]],
    [[4], [4]],
  ];
  for (const [a, b] of matMulShapes) {
    it(`MatMul [${a}] × [${b}]`, async () => {
      await check(dir, [{ shape: a }, { shape: b }], (g, [x, y]) => op.matMul(g, x!, y!));
    });
  }

  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`Gemm transA=${transA} transB=${transB} with alpha, beta and broadcast C`, async () => {
        const a = transA ? [4, 3] : [3, 4];
        const b = transB ? [5, 4] : [4, 5];
        for (const c of [[5], [3, 1], [3, 5]]) {
          await check(dir, [{ shape: a }, { shape: b }, { shape: c }], (g, [x, y, z]) => op.gemm(g, x!, y!, z!, { transA, transB, alpha: 0.7, beta: 1.3 }));
        }
        await check(dir, [{ shape: a }, { shape: b }], (g, [x, y]) => op.gemm(g, x!, y!, undefined, { transA, transB }));
      });
    }
  }
});

describe('shape ops', () => {
  it('Reshape, Transpose, Squeeze, Unsqueeze, Identity and Expand', async () => {
    await check(dir, [{ shape: [2, 3, 4] }], (g, [x]) => op.reshape(g, x!, [4, -1]));
    await check(dir, [{ shape: [2, 3, 4] }], (g, [x]) => op.transpose(g, x!, [2, 0, 1]));
    await check(dir, [{ shape: [2, 1, 4] }], (g, [x]) => op.squeeze(g, x!, [1]));
    await check(dir, [{ shape: [2, 4] }], (g, [x]) => op.unsqueeze(g, x!, [0, 2]));
    await check(dir, [{ shape: [2, 4] }], (g, [x]) => op.identity(g, x!));
    await check(dir, [{ shape: [3, 1] }], (g, [x]) => op.expand(g, x!, [2, 3, 4]));
  });

  it('Concat, with one input that needs no gradient', async () => {
    await check(dir, [{ shape: [2, 1, 3] }, { shape: [2, 2, 3], trainable: false }, { shape: [2, 3, 3] }], (g, [a, b, c]) => op.concat(g, [a!, b!, c!], 1));
  });

  it('Split, with one part unused', async () => {
    await check(dir, [{ shape: [2, 6] }], (g, [x]) => {
      const [first, , third] = op.split(g, x!, [1, 2, 3], 1);
      return op.concat(g, [third!, first!], 1);
    });
  });

  it('Slice with negative and open-ended bounds', async () => {
    await check(dir, [{ shape: [4, 5, 3] }], (g, [x]) => op.slice(g, x!, { starts: [1, -3], ends: [Infinity, -1], axes: [0, 1] }));
    await check(dir, [{ shape: [4, 5] }], (g, [x]) => op.slice(g, x!, { starts: [-Infinity], ends: [2], axes: [-1] }));
  });

  it('Gather with a scalar index and with repeated, negative indices', async () => {
    await check(dir, [{ shape: [3, 2, 4] }], (g, [x]) => op.gather(g, x!, 1, 0));
    await check(dir, [{ shape: [3, 4, 2] }], (g, [x]) => op.gather(g, x!, [3, -1, 0, 3], 1));
  });
});

describe('normalisation and attention', () => {
  it('LayerNormalization over the last axis and over two axes, all inputs trainable', async () => {
    await check(dir, [{ shape: [3, 5] }, { shape: [5] }, { shape: [5] }], (g, [x, s, b]) => op.layerNormalization(g, x!, s!, b!, 1e-5));
    await check(dir, [{ shape: [2, 3, 4] }, { shape: [3, 4] }], (g, [x, s]) => op.layerNormalization(g, x!, s!, undefined, 1e-6, 1));
  });

  it('Softmax and LogSoftmax over an inner axis', async () => {
    await check(dir, [{ shape: [2, 4, 3], scale: 2 }], (g, [x]) => op.softmax(g, x!, 1));
    await check(dir, [{ shape: [2, 4, 3], scale: 2 }], (g, [x]) => logSoftmax(g, x!, 1));
  });

  it('ReduceSum and ReduceMean with and without kept dimensions', async () => {
    await check(dir, [{ shape: [2, 3, 4] }], (g, [x]) => op.reduceSum(g, x!, [0, 2], true));
    await check(dir, [{ shape: [2, 3, 4] }], (g, [x]) => op.reduceSum(g, x!, [1], false));
    await check(dir, [{ shape: [2, 3, 4] }], (g, [x]) => op.reduceMean(g, x!, [-1], true));
    await check(dir, [{ shape: [2, 3, 4] }], (g, [x]) => op.reduceMean(g, x!, [0, 1], false));
  });
});

describe('activations', () => {
  it('Tanh, Sigmoid, Sqrt, Exp, Log and Relu', async () => {
    await check(dir, [{ shape: [3, 4], scale: 2 }], (g, [x]) => op.tanh(g, x!));
    await check(dir, [{ shape: [3, 4], scale: 3 }], (g, [x]) => op.sigmoid(g, x!));
    await check(dir, [{ shape: [3, 4], offset: 2 }], (g, [x]) => op.sqrt(g, x!));
    await check(dir, [{ shape: [3, 4] }], (g, [x]) => exp(g, x!));
    await check(dir, [{ shape: [3, 4], offset: 2 }], (g, [x]) => log(g, x!));
    // Values stay ≥ 0.05 away from the kink, further than the finite-difference step.
    const values = Float64Array.from([-1.5, -0.4, -0.05, 0.05, 0.3, 2, -2, 0.7], (v) => v);
    await check(dir, [{ shape: [2, 4], values }], (g, [x]) => relu(g, x!));
  });

  it('SiLU, and tanh-GELU in float64', async () => {
    await check(dir, [{ shape: [3, 4], scale: 3 }], (g, [x]) => op.silu(g, x!));
    await check(dir, [{ shape: [3, 4], scale: 3 }], (g, [x]) => op.geluTanh(g, x!));
  });

  it('Erf and exact GELU in float32 (ORT has no float64 Erf kernel, pitfall 3)', async () => {
    await check(dir, [{ shape: [3, 4], scale: 2 }], (g, [x]) => op.erf(g, x!), { dtype: 'float32' });
    await check(dir, [{ shape: [3, 4], scale: 3 }], (g, [x]) => op.gelu(g, x!), { dtype: 'float32' });
  });

  it('Cast from float32 into a float64 computation', async () => {
    await check(dir, [{ shape: [3, 4], dtype: 'float32' }], (g, [x]) => {
      const wide = op.cast(g, x!, 'float64');
      return op.mul(g, wide, wide);
    });
  });
});

describe('Conv (float32 only: ORT has no float64 Conv kernel)', () => {
  it('patch embedding: kernel = stride, gradients of input, weight and bias', async () => {
    await check(dir, [{ shape: [2, 3, 8, 8] }, { shape: [4, 3, 4, 4] }, { shape: [4] }], (g, [x, w, b]) => op.conv(g, x!, w!, b!, { strides: [4, 4] }), {
      dtype: 'float32',
      tolerance: FLOAT32_TOLERANCE,
      maxElements: 12,
    });
  });

  it('overlapping, padded, dilated and with pixels left over', async () => {
    await check(
      dir,
      [{ shape: [1, 2, 7, 6] }, { shape: [3, 2, 3, 2] }],
      (g, [x, w]) => op.conv(g, x!, w!, undefined, { strides: [2, 2], pads: [1, 0, 1, 1], dilations: [1, 2] }),
      { dtype: 'float32', maxElements: 12 },
    );
  });
});
