import { afterAll, describe, expect, it } from 'vitest';
import type { DType } from '../../../src-main/services/graph/dtype';
import { Graph } from '../../../src-main/services/graph/Graph';
import type { Tensor } from '../../../src-main/services/graph/Graph';
import * as op from '../../../src-main/services/graph/ops';
import { expectClose, makeTempDir, randomFloat32, randomFloat64, removeTempDir, runGraph, seededRandom } from './ortHarness';
import * as ref from './reference';
import type { NdArray } from './reference';

const dir = makeTempDir();
afterAll(() => removeTempDir(dir));

interface InputSpec {
  readonly shape: readonly number[];
  /** Values are uniform in [offset − scale, offset + scale). */
  readonly scale?: number;
  readonly offset?: number;
}

let seed = 1;

/**
 * Builds a one-op (or few-op) graph over random seeded inputs, runs it in ORT and compares it
 * with the plain TypeScript reference computed in float64.
 */
async function expectOp(
  inputs: readonly InputSpec[],
  build: (graph: Graph, x: Tensor[]) => Tensor,
  reference: (x: NdArray[]) => NdArray,
  options: { dtype?: 'float32' | 'float64'; tolerance?: number } = {},
): Promise<void> {
  const dtype = options.dtype ?? 'float32';
  const random = seededRandom(seed++);
  const graph = new Graph('op_test');
  const feeds: Record<string, Float32Array | Float64Array> = {};
  const arrays: NdArray[] = [];
  const tensors = inputs.map((spec, i) => {
    const length = ref.size(spec.shape);
    const values = dtype === 'float32' ? randomFloat32(length, random, spec.scale ?? 1) : randomFloat64(length, random, spec.scale ?? 1);
    for (let j = 0; j < values.length; j++) values[j]! += spec.offset ?? 0;
    feeds[`x${i}`] = values;
    arrays.push({ shape: spec.shape, data: values });
    return graph.input(`x${i}`, dtype, spec.shape);
  });
  graph.output(build(graph, tensors), 'y');
  const expected = reference(arrays);
  const { y } = await runGraph(graph, feeds, dir);
  expect([...y!.dims]).toEqual([...expected.shape]);
  const tolerance = options.tolerance ?? (dtype === 'float32' ? 2e-5 : 1e-12);
  expectClose(y!.data as Float32Array, expected.data, tolerance, tolerance);
}

describe('elementwise arithmetic with broadcasting', () => {
  const shapes: [number[], number[]][] = [
    [[2, 3, 4], [2, 3, 4]],
    [[2, 3, 4], [3, 1]],
    [[4], [2, 3, 4]],
    [[2, 1, 4], [1, 3, 1]],
  ];
  for (const [a, b] of shapes) {
    it(`Add, Sub, Mul and Div on [${a}] and [${b}]`, async () => {
      await expectOp([{ shape: a }, { shape: b }], (g, [x, y]) => op.add(g, x!, y!), ([x, y]) => ref.binary(x!, y!, (p, q) => p + q));
      await expectOp([{ shape: a }, { shape: b }], (g, [x, y]) => op.sub(g, x!, y!), ([x, y]) => ref.binary(x!, y!, (p, q) => p - q));
      await expectOp([{ shape: a }, { shape: b }], (g, [x, y]) => op.mul(g, x!, y!), ([x, y]) => ref.binary(x!, y!, (p, q) => p * q));
      await expectOp(
        [{ shape: a }, { shape: b, scale: 0.5, offset: 1.5 }],
        (g, [x, y]) => op.div(g, x!, y!),
        ([x, y]) => ref.binary(x!, y!, (p, q) => p / q),
      );
    });
  }

  it('takes plain numbers as scalar constants on either side', async () => {
    await expectOp([{ shape: [3, 2] }], (g, [x]) => op.sub(g, 2, op.mul(g, x!, 0.25)), ([x]) => ref.unary(x!, (v) => 2 - v * 0.25));
  });

  it('works in float64', async () => {
    await expectOp([{ shape: [2, 3] }, { shape: [3] }], (g, [x, y]) => op.div(g, op.add(g, x!, y!), 3), ([x, y]) => ref.binary(x!, y!, (p, q) => (p + q) / 3), { dtype: 'float64' });
  });
});

describe('MatMul and Gemm', () => {
  const cases: [number[], number[]][] = [
    [[3, 4], [4, 5]],
    [[2, 3, 4, 5], [5, 6]],
    [[2, 1, 3, 4], [3, 4, 2]],
  ];
  for (const [a, b] of cases) {
    it(`MatMul [${a}] × [${b}]`, async () => {
      await expectOp([{ shape: a }, { shape: b }], (g, [x, y]) => op.matMul(g, x!, y!), ([x, y]) => ref.matMul(x!, y!));
    });
  }

  it('MatMul promotes 1-D operands and removes the promoted axis', async () => {
    await expectOp([{ shape: [4] }, { shape: [4, 3] }], (g, [x, y]) => op.matMul(g, x!, y!), ([x, y]) => {
      const product = ref.matMul({ shape: [1, 4], data: x!.data }, y!);
      return { shape: [3], data: product.data };
    });
    await expectOp([{ shape: [2, 3, 4] }, { shape: [4] }], (g, [x, y]) => op.matMul(g, x!, y!), ([x, y]) => {
      const product = ref.matMul(x!, { shape: [4, 1], data: y!.data });
      return { shape: [2, 3], data: product.data };
    });
  });

  it('MatMul in float64', async () => {
    await expectOp([{ shape: [2, 3, 4] }, { shape: [4, 2] }], (g, [x, y]) => op.matMul(g, x!, y!), ([x, y]) => ref.matMul(x!, y!), { dtype: 'float64' });
  });

  it('Gemm with transB and a bias row, as a linear layer', async () => {
    await expectOp(
      [{ shape: [5, 4] }, { shape: [3, 4] }, { shape: [3] }],
      (g, [x, w, b]) => op.gemm(g, x!, w!, b!, { transB: true }),
      ([x, w, b]) => ref.binary(ref.matMul(x!, ref.transpose(w!, [1, 0])), b!, (p, q) => p + q),
    );
  });

  it('Gemm with transA, alpha, beta and a full C', async () => {
    await expectOp(
      [{ shape: [4, 5] }, { shape: [4, 3] }, { shape: [5, 3] }],
      (g, [a, b, c]) => op.gemm(g, a!, b!, c!, { transA: true, alpha: 0.5, beta: 2 }),
      ([a, b, c]) => ref.binary(ref.matMul(ref.transpose(a!, [1, 0]), b!), c!, (p, q) => 0.5 * p + 2 * q),
    );
  });
});

describe('shape ops', () => {
  it('Reshape resolves -1 and 0', async () => {
    await expectOp([{ shape: [2, 3, 4] }], (g, [x]) => op.reshape(g, x!, [0, -1, 2]), ([x]) => ({ shape: [2, 6, 2], data: x!.data }));
  });

  it('Transpose by a permutation and by default reversal', async () => {
    await expectOp([{ shape: [2, 3, 4, 5] }], (g, [x]) => op.transpose(g, x!, [2, 0, 3, 1]), ([x]) => ref.transpose(x!, [2, 0, 3, 1]));
    await expectOp([{ shape: [2, 3, 4] }], (g, [x]) => op.transpose(g, x!), ([x]) => ref.transpose(x!, [2, 1, 0]));
  });

  it('Concat along a middle and a negative axis', async () => {
    await expectOp(
      [{ shape: [2, 1, 3] }, { shape: [2, 4, 3] }, { shape: [2, 2, 3] }],
      (g, xs) => op.concat(g, xs, 1),
      (xs) => ref.concat(xs, 1),
    );
    await expectOp([{ shape: [2, 3] }, { shape: [2, 1] }], (g, xs) => op.concat(g, xs, -1), (xs) => ref.concat(xs, 1));
  });

  it('Slice with negative starts, steps and open ends', async () => {
    await expectOp(
      [{ shape: [5, 6, 3] }],
      (g, [x]) => op.slice(g, x!, { starts: [1, -5], ends: [Infinity, 6], axes: [0, 1], steps: [2, 2] }),
      ([x]) => ref.pick(x!, [[1, 3], [1, 3, 5], [0, 1, 2]]),
    );
    await expectOp(
      [{ shape: [4, 5] }],
      (g, [x]) => op.slice(g, x!, { starts: [-1], ends: [-Infinity], axes: [1], steps: [-2] }),
      ([x]) => ref.pick(x!, [[0, 1, 2, 3], [4, 2, 0]]),
    );
  });

  it('Gather with a scalar index drops the axis, with a list keeps it', async () => {
    await expectOp([{ shape: [3, 4, 2] }], (g, [x]) => op.gather(g, x!, 2, 1), ([x]) => ref.take(x!, 2, 1));
    await expectOp([{ shape: [3, 4, 2] }], (g, [x]) => op.gather(g, x!, [2, 0, -1, 2], 1), ([x]) => ref.take(x!, [2, 0, -1, 2], 1));
  });

  it('Gather with an int64 index tensor fed at run time', async () => {
    const graph = new Graph('gather');
    const data = graph.input('data', 'float32', [5, 3]);
    const indices = graph.input('indices', 'int64', [2, 2]);
    graph.output(op.gather(graph, data, indices, 0), 'y');
    const values = randomFloat32(15, seededRandom(99));
    const { y } = await runGraph(graph, { data: values, indices: BigInt64Array.from([4n, 0n, 1n, 4n]) }, dir);
    expect([...y!.dims]).toEqual([2, 2, 3]);
    expectClose(y!.data as Float32Array, ref.take({ shape: [5, 3], data: values }, [4, 0, 1, 4], 0).data, 0, 0);
  });

  it('Split into unequal parts', async () => {
    const graph = new Graph('split');
    const x = graph.input('x', 'float32', [2, 6]);
    const parts = op.split(graph, x, [1, 3, 2], -1);
    parts.forEach((part, i) => graph.output(part, `y${i}`));
    const values = randomFloat32(12, seededRandom(7));
    const result = await runGraph(graph, { x: values }, dir);
    const source = { shape: [2, 6], data: values };
    expectClose(result.y0!.data as Float32Array, ref.pick(source, [[0, 1], [0]]).data, 0, 0);
    expectClose(result.y1!.data as Float32Array, ref.pick(source, [[0, 1], [1, 2, 3]]).data, 0, 0);
    expectClose(result.y2!.data as Float32Array, ref.pick(source, [[0, 1], [4, 5]]).data, 0, 0);
  });

  it('Unsqueeze and Squeeze', async () => {
    await expectOp([{ shape: [2, 3] }], (g, [x]) => op.unsqueeze(g, x!, [0, -1]), ([x]) => ({ shape: [1, 2, 3, 1], data: x!.data }));
    await expectOp([{ shape: [1, 2, 1, 3] }], (g, [x]) => op.squeeze(g, x!, [0, 2]), ([x]) => ({ shape: [2, 3], data: x!.data }));
  });

  it('Expand broadcasts to a larger shape', async () => {
    await expectOp([{ shape: [3, 1] }], (g, [x]) => op.expand(g, x!, [2, 3, 4]), ([x]) => ref.expandTo(x!, [2, 3, 4]));
  });

  it('Cast between float32 and float64, and to int64', async () => {
    await expectOp([{ shape: [2, 3] }], (g, [x]) => op.cast(g, op.cast(g, x!, 'float64'), 'float32'), ([x]) => x!, { tolerance: 0 });
    const graph = new Graph('cast');
    const x = graph.input('x', 'float32', [4]);
    graph.output(op.cast(graph, x, 'int64'), 'y');
    const { y } = await runGraph(graph, { x: Float32Array.from([1.7, -2.5, 3, 0]) }, dir);
    expect([...(y!.data as BigInt64Array)]).toEqual([1n, -2n, 3n, 0n]);
  });

  it('Constant and initializer operands', async () => {
    const fixed = [0.5, -1, 2, 4, 0.25, -3];
    await expectOp(
      [{ shape: [2, 3] }],
      (g, [x]) => op.add(g, op.mul(g, x!, op.floatConstant(g, 'float32', [2, 3], fixed)), g.initializer('w', 'float32', [3], Float32Array.from([1, 2, 3]))),
      ([x]) => ref.binary(ref.binary(x!, { shape: [2, 3], data: fixed }, (p, q) => p * q), { shape: [3], data: [1, 2, 3] }, (p, q) => p + q),
    );
  });
});

describe('normalisation, reductions and activations', () => {
  it('LayerNormalization over the last axis and over the last two', async () => {
    await expectOp(
      [{ shape: [2, 3, 8] }, { shape: [8] }, { shape: [8] }],
      (g, [x, s, b]) => op.layerNormalization(g, x!, s!, b!, 1e-6),
      ([x, s, b]) => ref.layerNorm(x!, s!, b!, 1e-6, 2),
    );
    await expectOp(
      [{ shape: [2, 3, 4] }, { shape: [3, 4] }],
      (g, [x, s]) => op.layerNormalization(g, x!, s!, undefined, 1e-5, 1),
      ([x, s]) => ref.layerNorm(x!, s!, undefined, 1e-5, 1),
    );
  });

  it('LayerNormalization in float64', async () => {
    await expectOp(
      [{ shape: [3, 5] }, { shape: [5] }, { shape: [5] }],
      (g, [x, s, b]) => op.layerNormalization(g, x!, s!, b!, 1e-6),
      ([x, s, b]) => ref.layerNorm(x!, s!, b!, 1e-6, 1),
      { dtype: 'float64', tolerance: 1e-10 },
    );
  });

  it('Softmax on the last and on a middle axis', async () => {
    await expectOp([{ shape: [2, 3, 5], scale: 4 }], (g, [x]) => op.softmax(g, x!), ([x]) => ref.softmax(x!, 2));
    await expectOp([{ shape: [2, 3, 5], scale: 4 }], (g, [x]) => op.softmax(g, x!, 1), ([x]) => ref.softmax(x!, 1));
  });

  it('ReduceMean (axes attribute) and ReduceSum (axes input), with and without kept dims', async () => {
    await expectOp([{ shape: [2, 3, 4] }], (g, [x]) => op.reduceMean(g, x!, [1]), ([x]) => ref.reduce(x!, [1], true, true));
    await expectOp([{ shape: [2, 3, 4] }], (g, [x]) => op.reduceMean(g, x!, [-1, 0], false), ([x]) => ref.reduce(x!, [0, 2], false, true));
    await expectOp([{ shape: [2, 3, 4] }], (g, [x]) => op.reduceSum(g, x!, [2]), ([x]) => ref.reduce(x!, [2], true, false));
    await expectOp([{ shape: [2, 3, 4] }], (g, [x]) => op.reduceSum(g, x!, [0, 1], false), ([x]) => ref.reduce(x!, [0, 1], false, false));
  });

  it('Erf, Sigmoid, Tanh and Sqrt', async () => {
    await expectOp([{ shape: [4, 8], scale: 3 }], (g, [x]) => op.erf(g, x!), ([x]) => ref.unary(x!, ref.erf));
    await expectOp([{ shape: [4, 8], scale: 6 }], (g, [x]) => op.sigmoid(g, x!), ([x]) => ref.unary(x!, ref.sigmoid));
    await expectOp([{ shape: [4, 8], scale: 3 }], (g, [x]) => op.tanh(g, x!), ([x]) => ref.unary(x!, Math.tanh));
    await expectOp([{ shape: [4, 8], scale: 2, offset: 2.5 }], (g, [x]) => op.sqrt(g, x!), ([x]) => ref.unary(x!, Math.sqrt));
  });

  it('GELU (erf and tanh forms) and SiLU', async () => {
    await expectOp([{ shape: [4, 8], scale: 3 }], (g, [x]) => op.gelu(g, x!), ([x]) => ref.unary(x!, ref.gelu));
    await expectOp([{ shape: [4, 8], scale: 3 }], (g, [x]) => op.geluTanh(g, x!), ([x]) => ref.unary(x!, ref.geluTanh));
    await expectOp([{ shape: [4, 8], scale: 5 }], (g, [x]) => op.silu(g, x!), ([x]) => ref.unary(x!, (v) => v * ref.sigmoid(v)));
  });

  it('the tanh form of GELU differs from the exact one by less than 1e-3', () => {
    for (let x = -4; x <= 3.5; x += 0.25) expect(Math.abs(ref.gelu(x) - ref.geluTanh(x))).toBeLessThan(1e-3);
  });
});

describe('Conv', () => {
  it('as a ViT patch embedding (kernel = stride = patch)', async () => {
    await expectOp(
      [{ shape: [2, 3, 8, 8] }, { shape: [5, 3, 4, 4] }, { shape: [5] }],
      (g, [x, w, b]) => op.conv(g, x!, w!, b!, { strides: [4, 4] }),
      ([x, w, b]) => ref.conv2d(x!, w!, b!, [4, 4], [0, 0, 0, 0]),
    );
  });

  it('3×3 with uneven padding and stride 2, no bias', async () => {
    await expectOp(
      [{ shape: [1, 2, 7, 6] }, { shape: [3, 2, 3, 3] }],
      (g, [x, w]) => op.conv(g, x!, w!, undefined, { strides: [2, 2], pads: [1, 0, 1, 1] }),
      ([x, w]) => ref.conv2d(x!, w!, undefined, [2, 2], [1, 0, 1, 1]),
    );
  });
});

it('accepts every dtype it declares as graph inputs', () => {
  const graph = new Graph('dtypes');
  const dtypes: DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int8', 'uint8', 'bool'];
  for (const dtype of dtypes) expect(graph.input(`x_${dtype}`, dtype, [1]).dtype).toBe(dtype);
});
