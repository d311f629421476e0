import { afterAll, describe, expect, it } from 'vitest';
import { appendBackwardPass, binaryCrossEntropyWithLogits, dropout, softmaxCrossEntropy } from '../../../../src-main/services/graph/autodiff';
import { Graph } from '../../../../src-main/services/graph/Graph';
import { makeTempDir, removeTempDir } from '../ortHarness';
import { expectGradientsMatchFiniteDifferences as check, GraphSession } from './gradientCheck';

const dir = makeTempDir('mitobench-losses-');
afterAll(() => removeTempDir(dir));

const logits = Float64Array.from([2.5, -1, 0.3, -40, 35, 1, 0.2, 0.1, -0.3, 4, 4, -4]);
const labels = BigInt64Array.from([0n, 1n, 2n, 0n]);

/** −log softmax(z)[label], averaged over rows, in plain float64 (log-sum-exp shifted by the row max). */
function referenceCrossEntropy(values: Float64Array, targets: BigInt64Array, classes: number): number {
  let total = 0;
  for (let row = 0; row < targets.length; row++) {
    const z = values.subarray(row * classes, (row + 1) * classes);
    const max = Math.max(...z);
    const logSum = max + Math.log(z.reduce((sum, v) => sum + Math.exp(v - max), 0));
    total += logSum - z[Number(targets[row])]!;
  }
  return total / targets.length;
}

describe('softmax cross-entropy with integer labels', () => {
  it('matches the reference value, stays finite for large logits, and its gradient is (softmax − one-hot)/B', async () => {
    const graph = new Graph('ce');
    const z = graph.input('z', 'float64', [4, 3]);
    const y = graph.input('labels', 'int64', [4]);
    const loss = softmaxCrossEntropy(graph, z, y);
    const [gradient] = appendBackwardPass(graph, loss, [z]);
    graph.output(loss, 'loss');
    graph.output(gradient!, 'dz');
    const session = await GraphSession.open(graph, dir, 'ce');
    const result = await session.run({ z: logits, labels });
    await session.close();
    expect(Number(result.loss![0])).toBeCloseTo(referenceCrossEntropy(logits, labels, 3), 12);
    for (let row = 0; row < 4; row++) {
      const z3 = logits.subarray(row * 3, row * 3 + 3);
      const max = Math.max(...z3);
      const denominator = z3.reduce((sum, v) => sum + Math.exp(v - max), 0);
      z3.forEach((v, c) => {
        const expected = (Math.exp(v - max) / denominator - (Number(labels[row]) === c ? 1 : 0)) / 4;
        expect(Number(result.dz![row * 3 + c])).toBeCloseTo(expected, 12);
      });
    }
  });

  it('passes the finite-difference check', async () => {
    await check(dir, [{ shape: [4, 3], scale: 3 }, { shape: [4], dtype: 'int64', values: labels }], (g, [z, y]) => softmaxCrossEntropy(g, z!, y!));
  });

  it('refuses labels of the wrong length', () => {
    const graph = new Graph('bad');
    expect(() => softmaxCrossEntropy(graph, graph.input('z', 'float64', [4, 3]), graph.input('y', 'int64', [3]))).toThrow(/labels must be int64 or int32 \[4\], got y int64\[3\]/);
  });
});

describe('binary cross-entropy with logits', () => {
  it('matches the reference value for large logits too, and its gradient is (sigmoid − target)/n', async () => {
    const targets = Float64Array.from([1, 0, 0.5, 1, 0, 1, 0, 1, 0, 0.2, 1, 0]);
    const graph = new Graph('bce');
    const z = graph.input('z', 'float64', [12]);
    const t = graph.input('t', 'float64', [12]);
    const loss = binaryCrossEntropyWithLogits(graph, z, t);
    const [gradient] = appendBackwardPass(graph, loss, [z]);
    graph.output(loss, 'loss');
    graph.output(gradient!, 'dz');
    const session = await GraphSession.open(graph, dir, 'bce');
    const result = await session.run({ z: logits, t: targets });
    await session.close();
    const softplus = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    const expected = logits.reduce((sum, v, i) => sum + softplus(v) - v * targets[i]!, 0) / 12;
    expect(Number(result.loss![0])).toBeCloseTo(expected, 12);
    logits.forEach((v, i) => expect(Number(result.dz![i])).toBeCloseTo((1 / (1 + Math.exp(-v)) - targets[i]!) / 12, 12));
  });

  it('passes the finite-difference check with the targets trainable too', async () => {
    await check(dir, [{ shape: [2, 5], scale: 4 }, { shape: [2, 5], offset: 0.5, scale: 0.5 }], (g, [z, t]) => binaryCrossEntropyWithLogits(g, z!, t!));
  });
});

describe('dropout with a seeded mask input', () => {
  it('scales kept values by 1/keep and passes the finite-difference check', async () => {
    const mask = Float64Array.from([1, 0, 1, 1, 0, 1]);
    await check(dir, [{ shape: [2, 3] }, { shape: [2, 3], values: mask, trainable: false }], (g, [x, m]) => dropout(g, x!, m!, 0.9));
    const graph = new Graph('bad');
    expect(() => dropout(graph, graph.input('x', 'float64', [2]), graph.input('m', 'float64', [2]), 0)).toThrow(/keep probability must be in \(0, 1\], got 0/);
  });
});
