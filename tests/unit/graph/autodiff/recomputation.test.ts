import { afterAll, describe, expect, it } from 'vitest';
import { appendBackwardPass, where } from '../../../../src-main/services/graph/autodiff';
import { Graph } from '../../../../src-main/services/graph/Graph';
import type { GraphNode, Tensor } from '../../../../src-main/services/graph/Graph';
import * as op from '../../../../src-main/services/graph/ops';
import { erf as referenceErf } from '../reference';
import { expectClose, makeTempDir, randomFloat32, removeTempDir, runGraph, seededRandom } from '../ortHarness';

const dir = makeTempDir('mitobench-recompute-');
afterAll(() => removeTempDir(dir));

/** The forward tensors (node outputs, not constants) the backward nodes read. */
function forwardTensorsRead(graph: Graph, firstBackwardNode: number): Set<Tensor> {
  const forward = new Set(graph.nodes.slice(0, firstBackwardNode));
  const read = new Set<Tensor>();
  for (const node of graph.nodes.slice(firstBackwardNode)) {
    for (const input of node.inputs) if (input?.producer && forward.has(input.producer) && input.constantValues === undefined) read.add(input);
  }
  return read;
}

const weightedSum = (graph: Graph, y: Tensor, weights: Tensor): Tensor => op.reduceSum(graph, op.mul(graph, y, weights), y.shape.map((_, i) => i), false);

describe('an inlined GELU is differentiated as one unit', () => {
  it('the backward reads only its input, and gives GELU′(x) = Φ(x) + x·φ(x)', async () => {
    const graph = new Graph('gelu_unit');
    const x = graph.input('x', 'float32', [3, 8]);
    const w = graph.input('w', 'float32', [3, 8]);
    const y = op.gelu(graph, x);
    const loss = weightedSum(graph, y, w);
    const firstBackward = graph.nodes.length;
    const [dx] = appendBackwardPass(graph, loss, [x]);
    // Nothing computed forward is kept for it: not erf(x/√2), x·½ or their sum (the inputs x and w are).
    expect([...forwardTensorsRead(graph, firstBackward)].map((tensor) => tensor.name)).toEqual([]);
    graph.output(dx!, 'dx');

    const random = seededRandom(3);
    const feeds = { x: randomFloat32(24, random, 3), w: randomFloat32(24, random, 1) };
    const { dx: result } = await runGraph(graph, feeds, dir);
    const expected = Array.from(feeds.x, (value, i) => {
      const cdf = 0.5 * (1 + referenceErf(value / Math.SQRT2));
      const density = Math.exp((-value * value) / 2) / Math.sqrt(2 * Math.PI);
      return feeds.w[i]! * (cdf + value * density);
    });
    expectClose(result!.data as Float32Array, expected, 1e-6, 1e-5);
  });

  it('names a function that reads a tensor from outside, and one inlined inside another', () => {
    const graph = new Graph('bad_function');
    const x = graph.input('x', 'float32', [4]);
    const outside = op.tanh(graph, x);
    expect(() => graph.inlineFunction('Leaky', [x], () => op.add(graph, x, outside))).toThrow(/Leaky.*reads Tanh_\d+, which is neither an input of the function nor computed inside it/);
    expect(() => graph.inlineFunction('Outer', [x], () => op.gelu(graph, x))).toThrow(/Gelu.*cannot be inlined inside Outer/);
  });

  it('refuses a gradient that reaches a tensor inside it from outside', () => {
    const graph = new Graph('peeking');
    const x = graph.input('x', 'float32', [4]);
    const y = op.gelu(graph, x);
    const inside = y.producer!.inputs[1]!; // 1 + erf(x/√2)
    const loss = op.reduceSum(graph, op.add(graph, y, inside), [0], false);
    expect(() => appendBackwardPass(graph, loss, [x])).toThrow(/inside the inlined Gelu, is read outside it/);
  });
});

describe('tensors marked to be computed again in the backward pass', () => {
  /** A LoRA-like branch: masked LayerNorm output times A, with A's gradient reading that input. */
  function build(recompute: boolean): { graph: Graph; firstBackward: number; marked: Tensor[] } {
    const graph = new Graph(`masked_${recompute}`);
    const x = graph.input('x', 'float32', [6, 8]);
    const mask = graph.input('mask', 'bool', [6, 8]);
    const a = graph.input('a', 'float32', [4, 8]);
    const gamma = graph.initializer('gamma', 'float32', [8], Float32Array.from({ length: 8 }, (_, i) => 1 + i / 10));
    const beta = graph.initializer('beta', 'float32', [8], Float32Array.from({ length: 8 }, (_, i) => i / 20 - 0.2));
    const normed = op.layerNormalization(graph, x, gamma, beta, 1e-6);
    const activated = op.gelu(graph, normed);
    const masked = where(graph, mask, activated, op.scalar(graph, 0, 'float32'));
    const marked = recompute ? [normed, activated, masked].map((tensor) => graph.recomputeInBackward(tensor)) : [];
    const down = op.gemm(graph, masked, a, undefined, { transB: true });
    const loss = op.reduceSum(graph, op.mul(graph, down, down), [0, 1], false);
    const firstBackward = graph.nodes.length;
    const gradients = appendBackwardPass(graph, loss, [a, x]);
    graph.output(gradients[0]!, 'da');
    graph.output(gradients[1]!, 'dx');
    return { graph, firstBackward, marked };
  }

  it('keeps none of them for the backward pass, and gives the same gradients', async () => {
    const kept = build(false);
    const recomputed = build(true);
    const readKept = forwardTensorsRead(kept.graph, kept.firstBackward);
    const readRecomputed = forwardTensorsRead(recomputed.graph, recomputed.firstBackward);
    const names = (tensors: Set<Tensor>) => [...tensors].map((tensor) => tensor.name);
    for (const tensor of recomputed.marked) expect(readRecomputed.has(tensor), tensor.name).toBe(false);
    expect(names(readKept).some((name) => name.includes('Where'))).toBe(true);
    const copies = recomputed.graph.nodes.slice(recomputed.firstBackward).filter((node: GraphNode) => node.op.opType === 'LayerNormalization' || node.op.opType === 'Where');
    expect(copies.map((node) => node.op.opType)).toEqual(expect.arrayContaining(['LayerNormalization', 'Where']));

    const random = seededRandom(8);
    const feeds = { x: randomFloat32(48, random, 2), mask: Uint8Array.from({ length: 48 }, () => (random() < 0.8 ? 1 : 0)), a: randomFloat32(32, random, 0.5) };
    const expected = await runGraph(kept.graph, feeds, dir);
    const actual = await runGraph(recomputed.graph, feeds, dir);
    expectClose(actual.da!.data as Float32Array, expected.da!.data as Float32Array, 1e-6, 1e-6);
    expectClose(actual.dx!.data as Float32Array, expected.dx!.data as Float32Array, 1e-6, 1e-6);
  });

  it('refuses to mark a graph input', () => {
    const graph = new Graph('input_marked');
    const x = graph.input('x', 'float32', [2]);
    expect(() => graph.recomputeInBackward(x)).toThrow(/x.*only a computed tensor can be computed again/);
  });
});
