import type { DType, TypedArray } from '../dtype';
import { checkWeightArray, fail } from '../Graph';
import { float32ToFloat16 } from '../halfPrecision';
import type { Graph, OpDefinition, Tensor } from '../Graph';
import { elementCount } from '../shapes';
import type { Shape } from '../shapes';

/** Constant: a small tensor held in the node itself. Never differentiated. */
export const constantOp: OpDefinition = { opType: 'Constant', domain: '' };

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Converts numbers to int64; ±Infinity stand for the int64 extremes (e.g. "to the end" in Slice). */
export function toInt64Array(values: readonly number[]): BigInt64Array {
  return BigInt64Array.from(values, (value) => {
    if (value === Infinity) return INT64_MAX;
    if (value === -Infinity) return INT64_MIN;
    return BigInt(value);
  });
}

/** A Constant node holding `values`; identical constants are shared. */
export function constant(graph: Graph, dtype: DType, shape: Shape, values: TypedArray): Tensor {
  checkWeightArray('Constant', dtype, shape, values);
  const key = `constant:${dtype}:${shape.join(',')}:${Array.from(values as ArrayLike<number | bigint>, String).join(',')}`;
  const cacheable = values.length <= 64;
  const create = (): Tensor => {
    const [tensor] = graph.addNode(constantOp, [], [{ dtype, shape, constantValues: values }], [
      { name: 'value', kind: 'tensor', value: { dtype, shape, values } },
    ]);
    return tensor!;
  };
  return cacheable ? graph.memoize(key, create) : create();
}

/** A 1-D int64 constant, as shape, axes, starts … inputs need. */
export function int64Constant(graph: Graph, values: readonly number[]): Tensor {
  for (const value of values) {
    if (!Number.isInteger(value) && Math.abs(value) !== Infinity) fail('Constant', graph, `int64 value ${value} is not an integer`);
  }
  return constant(graph, 'int64', [values.length], toInt64Array(values));
}

type FloatDType = 'float32' | 'float64' | 'float16';

function floatArray(graph: Graph, dtype: DType, values: readonly number[]): TypedArray {
  if (dtype === 'float32') return Float32Array.from(values);
  if (dtype === 'float64') return Float64Array.from(values);
  if (dtype === 'float16') return float32ToFloat16(values);
  return fail('Constant', graph, `floating-point constants of ${dtype} are not supported`);
}

/** A scalar (shape []) floating-point constant of the given dtype (float16 stored as its bits). */
export function scalar(graph: Graph, value: number, dtype: DType): Tensor {
  return constant(graph, dtype, [], floatArray(graph, dtype, [value]));
}

/** A floating-point constant of any shape filled from plain numbers. */
export function floatConstant(graph: Graph, dtype: FloatDType, shape: Shape, values: readonly number[]): Tensor {
  if (values.length !== elementCount(shape)) fail('Constant', graph, `shape [${shape.join(',')}] needs ${elementCount(shape)} values`);
  return constant(graph, dtype, shape, floatArray(graph, dtype, values));
}
