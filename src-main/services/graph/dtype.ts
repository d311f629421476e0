/** Element types the graph builder knows, with their ONNX `TensorProto.DataType` codes. */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export type TypedArray =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int8Array
  | Uint8Array;

interface DTypeInfo {
  readonly onnxCode: number;
  readonly bytesPerElement: number;
  /** float16 and bfloat16 are carried as their raw bits. */
  readonly arrayType: { new (length: number): TypedArray; readonly name: string };
  readonly floating: boolean;
}

const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  float32: { onnxCode: 1, bytesPerElement: 4, arrayType: Float32Array, floating: true },
  uint8: { onnxCode: 2, bytesPerElement: 1, arrayType: Uint8Array, floating: false },
  int8: { onnxCode: 3, bytesPerElement: 1, arrayType: Int8Array, floating: false },
  int32: { onnxCode: 6, bytesPerElement: 4, arrayType: Int32Array, floating: false },
  int64: { onnxCode: 7, bytesPerElement: 8, arrayType: BigInt64Array, floating: false },
  bool: { onnxCode: 9, bytesPerElement: 1, arrayType: Uint8Array, floating: false },
  float16: { onnxCode: 10, bytesPerElement: 2, arrayType: Uint16Array, floating: true },
  float64: { onnxCode: 11, bytesPerElement: 8, arrayType: Float64Array, floating: true },
  bfloat16: { onnxCode: 16, bytesPerElement: 2, arrayType: Uint16Array, floating: true },
};

export function onnxDataType(dtype: DType): number {
  return DTYPES[dtype].onnxCode;
}

export function bytesPerElement(dtype: DType): number {
  return DTYPES[dtype].bytesPerElement;
}

export function isFloating(dtype: DType): boolean {
  return DTYPES[dtype].floating;
}

export function allocateArray(dtype: DType, length: number): TypedArray {
  return new DTYPES[dtype].arrayType(length);
}

/** Whether `array` is the typed array that carries `dtype` (e.g. Float32Array for float32). */
export function arrayMatchesDType(array: TypedArray, dtype: DType): boolean {
  return array instanceof DTYPES[dtype].arrayType;
}

export function arrayTypeName(dtype: DType): string {
  return DTYPES[dtype].arrayType.name;
}
