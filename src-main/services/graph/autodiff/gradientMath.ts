import { fail } from '../Graph';
import type { Attribute, Graph, GraphNode, Tensor } from '../Graph';
import { expand, mul, reduceSum, reshape, scalar } from '../ops';
import { formatShape, sameShape } from '../shapes';
import type { Shape } from '../shapes';

/**
 * Sums a gradient of a broadcast result back to an operand's static shape: ReduceSum over the
 * axes broadcasting added or stretched from 1, then Reshape (pitfall 6).
 */
export function sumToShape(graph: Graph, gradient: Tensor, shape: Shape): Tensor {
  if (sameShape(gradient.shape, shape)) return gradient;
  const lead = gradient.rank - shape.length;
  if (lead < 0) fail('Gradient', graph, `cannot sum ${gradient.describe()} to the larger rank of ${formatShape(shape)}`);
  const axes: number[] = [];
  gradient.shape.forEach((dim, i) => {
    if (i < lead || (shape[i - lead] === 1 && dim !== 1)) axes.push(i);
  });
  const reduced = axes.length > 0 ? reduceSum(graph, gradient, axes, true) : gradient;
  return sameShape(reduced.shape, shape) ? reduced : reshape(graph, reduced, shape);
}

/** A zero tensor of the given shape, as an Expand of one scalar (no large constant). */
export function zeros(graph: Graph, dtype: Tensor['dtype'], shape: Shape): Tensor {
  return expand(graph, scalar(graph, 0, dtype), shape);
}

export function negate(graph: Graph, x: Tensor): Tensor {
  return mul(graph, x, -1);
}

/** The values of a constant int64 input (shape, axes, starts …); fails when it is computed. */
export function constantInts(graph: Graph, node: GraphNode, inputIndex: number): number[] {
  const tensor = node.inputs[inputIndex];
  const values = tensor?.constantValues;
  if (!tensor || !values) fail(node.op.opType, graph, `${node.name}: input ${inputIndex} must be a constant to differentiate it`);
  return Array.from(values as ArrayLike<number | bigint>, Number);
}

function attribute(node: GraphNode, name: string): Attribute | undefined {
  return node.attributes.find((candidate) => candidate.name === name);
}

export function intAttribute(node: GraphNode, name: string, fallback: number): number {
  const found = attribute(node, name);
  return found && found.kind === 'int' ? found.value : fallback;
}

export function floatAttribute(node: GraphNode, name: string, fallback: number): number {
  const found = attribute(node, name);
  return found && found.kind === 'float' ? found.value : fallback;
}

export function intsAttribute(node: GraphNode, name: string): readonly number[] | undefined {
  const found = attribute(node, name);
  return found && found.kind === 'ints' ? found.value : undefined;
}

/** The node's input `index`, which the op always has (required inputs). */
export function inputOf(node: GraphNode, index: number): Tensor {
  const tensor = node.inputs[index];
  if (!tensor) throw new Error(`${node.name} has no input ${index}`);
  return tensor;
}

/** The single output gradient of a one-output node (the pass only calls rules that receive one). */
export function onlyGradient(gradients: readonly (Tensor | undefined)[]): Tensor {
  const gradient = gradients[0];
  if (!gradient) throw new Error('a one-output node was differentiated without an output gradient');
  return gradient;
}
