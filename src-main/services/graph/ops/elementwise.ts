import { fail, requireSameDType } from '../Graph';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { broadcastShapes, formatShape } from '../shapes';
import { scalar } from './constant';

/** A tensor, or a plain number that becomes a scalar constant of the other operand's dtype. */
export type Operand = Tensor | number;

/** Shared shape inference of Add, Sub, Mul, Div: numpy broadcasting, one dtype. */
export function broadcastBinary(graph: Graph, op: OpDefinition, a: Operand, b: Operand): Tensor {
  if (typeof a === 'number' && typeof b === 'number') fail(op.opType, graph, 'at least one operand must be a tensor');
  const left = typeof a === 'number' ? scalar(graph, a, (b as Tensor).dtype) : a;
  const right = typeof b === 'number' ? scalar(graph, b, left.dtype) : b;
  requireSameDType(op.opType, graph, left, right);
  const shape = broadcastShapes(left.shape, right.shape);
  if (!shape) {
    fail(op.opType, graph, `shapes ${formatShape(left.shape)} (${left.name}) and ${formatShape(right.shape)} (${right.name}) do not broadcast`);
  }
  const [out] = graph.addNode(op, [left, right], [{ dtype: left.dtype, shape }]);
  return out!;
}

/** Shared shape inference of one-input ops whose output has the input's shape and dtype. */
export function sameShapeUnary(graph: Graph, op: OpDefinition, x: Tensor): Tensor {
  const [out] = graph.addNode(op, [x], [{ dtype: x.dtype, shape: x.shape }]);
  return out!;
}
