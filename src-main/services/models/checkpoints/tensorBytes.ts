import { bfloat16ToFloat32, float16ToFloat32 } from '../../graph/halfPrecision';
import { SAFETENSORS_DTYPE_BYTES } from '../safetensors';
import type { SafetensorsDType, TensorValues } from '../safetensors';

/** The dtypes a reader can turn into typed arrays (8-bit floats have no reader yet). */
export type ReadableDType = Exclude<SafetensorsDType, 'F8_E4M3' | 'F8_E5M2'>;

export function isReadableDType(dtype: SafetensorsDType): dtype is ReadableDType {
  return dtype !== 'F8_E4M3' && dtype !== 'F8_E5M2';
}

export function elementBytes(dtype: SafetensorsDType): number {
  return SAFETENSORS_DTYPE_BYTES[dtype];
}

export function elementCountOf(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** Little-endian bytes to a typed array; F16 and BF16 are widened to float32 (as safetensors reads them). */
export function decodeTensorBytes(dtype: ReadableDType, bytes: Uint8Array): TensorValues {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset } = aligned;
  const count = aligned.byteLength / elementBytes(dtype);
  switch (dtype) {
    case 'F64':
      return new Float64Array(buffer, byteOffset, count);
    case 'F32':
      return new Float32Array(buffer, byteOffset, count);
    case 'F16':
      return float16ToFloat32(new Uint16Array(buffer, byteOffset, count));
    case 'BF16':
      return bfloat16ToFloat32(new Uint16Array(buffer, byteOffset, count));
    case 'I64':
      return new BigInt64Array(buffer, byteOffset, count);
    case 'U64':
      return new BigUint64Array(buffer, byteOffset, count);
    case 'I32':
      return new Int32Array(buffer, byteOffset, count);
    case 'U32':
      return new Uint32Array(buffer, byteOffset, count);
    case 'I16':
      return new Int16Array(buffer, byteOffset, count);
    case 'U16':
      return new Uint16Array(buffer, byteOffset, count);
    case 'I8':
      return new Int8Array(buffer, byteOffset, count);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buffer, byteOffset, count);
  }
}

/** Reverses the bytes of each element in place (big-endian archives). */
export function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let at = 0; at + width <= bytes.length; at += width) bytes.subarray(at, at + width).reverse();
}

/** Row-major strides of a contiguous tensor of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = step;
    step *= shape[axis]!;
  }
  return strides;
}

/** Whether a view with these strides is laid out row-major without gaps (size-1 axes may have any stride). */
export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  if (elementCountOf(shape) === 0) return true;
  const expected = contiguousStrides(shape);
  return shape.every((dim, axis) => dim === 1 || stride[axis] === expected[axis]);
}

/** One past the largest element index the view touches (0 for an empty tensor). */
export function viewExtent(shape: readonly number[], stride: readonly number[]): number {
  if (elementCountOf(shape) === 0) return 0;
  return 1 + shape.reduce((sum, dim, axis) => sum + (dim - 1) * stride[axis]!, 0);
}

/**
 * Copies a strided view (strides in elements, starting at element 0 of `source`) into a new
 * row-major buffer. When the last axis is dense, whole rows are copied at once.
 */
export function materialiseView(source: Uint8Array, width: number, shape: readonly number[], stride: readonly number[]): Uint8Array {
  const count = elementCountOf(shape);
  const out = new Uint8Array(count * width);
  if (count === 0) return out;
  const rank = shape.length;
  const denseRow = rank > 0 && stride[rank - 1] === 1;
  const run = denseRow ? shape[rank - 1]! : 1;
  // The odometer walks every axis but the last one when rows are copied whole.
  const outerRank = denseRow ? rank - 1 : rank;
  const index = new Array<number>(outerRank).fill(0);
  let from = 0;
  for (let to = 0; to < count; to += run) {
    out.set(source.subarray(from * width, (from + run) * width), to * width);
    for (let axis = outerRank - 1; axis >= 0; axis--) {
      index[axis]!++;
      from += stride[axis]!;
      if (index[axis]! < shape[axis]!) break;
      from -= stride[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}
