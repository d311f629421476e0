import { describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/services/graph/Graph';
import type { Tensor } from '../../../src-main/services/graph/Graph';
import { GraphError } from '../../../src-main/services/graph/GraphError';
import * as op from '../../../src-main/services/graph/ops';

function expectGraphError(build: () => unknown, opType: string, ...fragments: (string | RegExp)[]): void {
  let caught: unknown;
  try {
    build();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a GraphError').toBeInstanceOf(GraphError);
  const error = caught as GraphError;
  expect(error.opType).toBe(opType);
  expect(error.message.startsWith(opType)).toBe(true);
  for (const fragment of fragments) {
    if (typeof fragment === 'string') expect(error.message).toContain(fragment);
    else expect(error.message).toMatch(fragment);
  }
}

function inputs(...shapes: number[][]): [Graph, Tensor[]] {
  const graph = new Graph('errors');
  return [graph, shapes.map((shape, i) => graph.input(`x${i}`, 'float32', shape))];
}

describe('shape inference errors name the op and the mismatched shapes', () => {
  it('elementwise broadcasting', () => {
    const [g, [a, b]] = inputs([2, 3], [4]);
    expectGraphError(() => op.add(g, a!, b!), 'Add', '[2,3] (x0)', '[4] (x1)', 'do not broadcast');
    expectGraphError(() => op.mul(g, a!, b!), 'Mul', '[2,3]', '[4]');
  });

  it('MatMul and Gemm inner dimensions', () => {
    const [g, [a, b, c]] = inputs([2, 3], [4, 5], [7]);
    expectGraphError(() => op.matMul(g, a!, b!), 'MatMul', '[2,3] (x0)', '[4,5] (x1)', 'inner dimensions 3 and 4 differ');
    expectGraphError(() => op.gemm(g, a!, b!, undefined, { transB: true }), 'Gemm', 'A [2,3]', 'B [4,5]', 'transB=true');
    const [g2, [x, w, bias]] = inputs([2, 3], [5, 3], [7]);
    expectGraphError(() => op.gemm(g2, x!, w!, bias!, { transB: true }), 'Gemm', 'C [7] (x2)', '[2,5]');
    expect(c).toBeDefined();
  });

  it('Reshape, Transpose, Concat, Expand and Squeeze', () => {
    const [g, [a, b]] = inputs([2, 3], [2, 4, 1]);
    expectGraphError(() => op.reshape(g, a!, [4, 2]), 'Reshape', 'x0 float32[2,3] (6 elements)', '[4,2] (8 elements)');
    expectGraphError(() => op.reshape(g, a!, [-1, -1]), 'Reshape', 'invalid target shape [-1,-1]');
    expectGraphError(() => op.transpose(g, a!, [0, 0]), 'Transpose', '[0,0]', 'float32[2,3]');
    expectGraphError(() => op.concat(g, [a!, b!], 0), 'Concat', 'float32[2,3]', 'float32[2,4,1]');
    expectGraphError(() => op.expand(g, b!, [3, 4, 2]), 'Expand', '[2,4,1]', '[3,4,2]');
    expectGraphError(() => op.squeeze(g, b!, [1]), 'Squeeze', 'size-1 axes', '[2,4,1]');
  });

  it('Slice, Gather and Split arguments', () => {
    const [g, [a]] = inputs([4, 6]);
    expectGraphError(() => op.slice(g, a!, { starts: [0], ends: [2], axes: [2] }), 'Slice', 'axis 2', '[4,6]');
    expectGraphError(() => op.slice(g, a!, { starts: [0], ends: [2], steps: [0] }), 'Slice', 'step 0');
    expectGraphError(() => op.gather(g, a!, 6, 1), 'Gather', 'index 6', 'axis 1', '[4,6]');
    expectGraphError(() => op.split(g, a!, [2, 3], 1), 'Split', 'sizes [2,3]', 'dimension 6', '[4,6]');
  });

  it('LayerNormalization parameters and Conv channels', () => {
    const [g, [x, scale, image, kernel]] = inputs([2, 5, 8], [6], [1, 3, 8, 8], [4, 2, 2, 2]);
    expectGraphError(() => op.layerNormalization(g, x!, scale!, undefined, 1e-6), 'LayerNormalization', 'x1 has shape [6]', 'expected [8]', '[2,5,8]');
    expectGraphError(() => op.conv(g, image!, kernel!, undefined, { strides: [2, 2] }), 'Conv', 'X [1,3,8,8] (x2)', 'W [4,2,2,2] (x3)');
  });

  it('reductions and axes', () => {
    const [g, [a]] = inputs([2, 3]);
    expectGraphError(() => op.reduceMean(g, a!, [2]), 'ReduceMean', 'axis 2', '[2,3]');
    expectGraphError(() => op.reduceSum(g, a!, [0, -2]), 'ReduceSum', 'repeat');
    expectGraphError(() => op.softmax(g, a!, -3), 'Softmax', 'axis -3');
    expectGraphError(() => op.unsqueeze(g, a!, [3]), 'Unsqueeze', '[3]', '[2,3]');
  });

  it('dtype mismatches and integer inputs to float ops', () => {
    const g = new Graph('dtypes');
    const a = g.input('a', 'float32', [2]);
    const b = g.input('b', 'float64', [2]);
    const i = g.input('i', 'int64', [2]);
    expectGraphError(() => op.add(g, a, b), 'Add', 'a float32[2]', 'b float64[2]');
    expectGraphError(() => op.erf(g, i), 'Erf', 'floating-point', 'i int64[2]');
  });

  it('names the scope the failing op was built in', () => {
    const [g, [a, b]] = inputs([2, 3], [4, 5]);
    expectGraphError(() => g.scope('blocks', () => g.scope('0', () => op.matMul(g, a!, op.transpose(g, b!)))), 'MatMul', 'MatMul (blocks.0)');
  });
});

describe('graph declarations', () => {
  it('refuses a reused name, initializer data of the wrong length or type, and tensors of another graph', () => {
    const g = new Graph('declarations');
    g.input('x', 'float32', [2]);
    expect(() => g.input('x', 'float32', [2])).toThrow('the name "x" is used twice');
    expect(() => g.initializer('w', 'float32', [2, 2], new Float32Array(3))).toThrow('initializer (w): shape [2,2] needs 4 values, got 3');
    expect(() => g.initializer('v', 'float32', [2], new Float64Array(2))).toThrow('float32 data must be a Float32Array, got Float64Array');
    const other = new Graph('other').input('y', 'float32', [2]);
    expect(() => op.sigmoid(g, other)).toThrow('y belongs to another graph');
  });
});
