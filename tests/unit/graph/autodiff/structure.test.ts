import { describe, expect, it } from 'vitest';
import { appendBackwardPass, pad } from '../../../../src-main/services/graph/autodiff';
import { Graph } from '../../../../src-main/services/graph/Graph';
import type { GraphNode, Tensor } from '../../../../src-main/services/graph/Graph';
import * as op from '../../../../src-main/services/graph/ops';

/** Runs the backward pass and returns the nodes it appended. */
function backwardNodes(graph: Graph, loss: Tensor, wrt: Tensor[]): { nodes: GraphNode[]; gradients: Tensor[] } {
  const before = graph.nodes.length;
  const gradients = appendBackwardPass(graph, loss, wrt);
  return { nodes: graph.nodes.slice(before), gradients };
}

function scalarLoss(graph: Graph, y: Tensor): Tensor {
  return op.reduceSum(graph, y, y.shape.map((_, i) => i), false);
}

const countOf = (nodes: GraphNode[], opType: string): number => nodes.filter((node) => node.op.opType === opType).length;

describe('which nodes get a backward pass', () => {
  it('gives a frozen initializer no gradient: one Gemm for the trainable input, none for the weight', () => {
    const graph = new Graph('frozen');
    const x = graph.input('x', 'float64', [4, 3]);
    const weight = graph.initializer('w', 'float64', [5, 3], new Float64Array(15).fill(0.5));
    const bias = graph.initializer('b', 'float64', [5], new Float64Array(5));
    const loss = scalarLoss(graph, op.gemm(graph, x, weight, bias, { transB: true }));
    const { nodes, gradients } = backwardNodes(graph, loss, [x]);
    expect(countOf(nodes, 'Gemm')).toBe(1);
    expect(countOf(nodes, 'ReduceSum')).toBe(0);
    expect(gradients[0]!.shape).toEqual([4, 3]);
  });

  it('does not differentiate frozen work before the trainable tensor enters', () => {
    const sizes = [1, 6].map((chainLength) => {
      const graph = new Graph('chain');
      const x = graph.input('x', 'float64', [3]);
      let frozen = graph.initializer('w', 'float64', [3], new Float64Array(3).fill(0.1));
      for (let i = 0; i < chainLength; i++) frozen = op.tanh(graph, op.add(graph, frozen, 1));
      return backwardNodes(graph, scalarLoss(graph, op.mul(graph, x, frozen)), [x]).nodes.length;
    });
    expect(sizes[1]).toBe(sizes[0]);
  });

  it('prunes branches that do not reach the loss, and gives an unused input zeros', () => {
    const graph = new Graph('pruned');
    const x = graph.input('x', 'float64', [2, 3]);
    const unused = graph.input('unused', 'float64', [3]);
    const sideBranch = op.sigmoid(graph, op.matMul(graph, x, graph.initializer('v', 'float64', [3, 3], new Float64Array(9))));
    graph.output(op.add(graph, sideBranch, unused), 'side');
    const { nodes, gradients } = backwardNodes(graph, scalarLoss(graph, op.tanh(graph, x)), [x, unused]);
    const forwardTensorsRead = new Set(nodes.flatMap((node) => node.inputs).filter((input) => input?.origin === 'node'));
    expect(forwardTensorsRead.has(sideBranch)).toBe(false);
    expect(countOf(nodes, 'MatMul') + countOf(nodes, 'Gemm')).toBe(0);
    expect(gradients[1]!.producer?.op.opType).toBe('Expand');
  });

  it('sums the gradients of a tensor used three times with Add, never Sum', () => {
    const graph = new Graph('reuse');
    const x = graph.input('x', 'float64', [3]);
    const y = op.add(graph, op.mul(graph, op.tanh(graph, x), op.sigmoid(graph, x)), x);
    const { nodes, gradients } = backwardNodes(graph, scalarLoss(graph, y), [x]);
    expect(countOf(nodes, 'Sum')).toBe(0);
    expect(gradients[0]!.producer?.op.opType).toBe('Add');
  });
});

describe('bad requests', () => {
  it('names the loss that is not one value', () => {
    const graph = new Graph('bad');
    const x = graph.input('x', 'float64', [3]);
    expect(() => appendBackwardPass(graph, op.tanh(graph, x), [x])).toThrow(/loss must be one float32 or float64 value, got Tanh_\d+ float64\[3\]/);
  });

  it('names a tensor of another graph and an integer tensor', () => {
    const graph = new Graph('one');
    const other = new Graph('other');
    const x = graph.input('x', 'float64', [3]);
    const loss = scalarLoss(graph, x);
    expect(() => appendBackwardPass(graph, loss, [other.input('y', 'float64', [3])])).toThrow(/y belongs to another graph/);
    expect(() => appendBackwardPass(graph, loss, [graph.input('labels', 'int64', [3])])).toThrow(/labels int64\[3\]: not floating point/);
  });

  it('names an op without a gradient rule on the path to the loss', () => {
    const graph = new Graph('no_rule');
    const x = graph.input('x', 'float64', [3]);
    expect(() => appendBackwardPass(graph, scalarLoss(graph, pad(graph, x, [1, 1])), [x])).toThrow(/Pad_\d+ has no gradient rule; differentiable ops: Add, Cast/);
  });
});
