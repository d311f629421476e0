import type { SafetensorsDType } from '../safetensors';
import { bytesOf, fixedBytesOf, integerOf, ProtoError, readMessage, stringOf, varintsOf } from './ProtoReader';

/** ONNX TensorProto.DataType codes Mitobench can read, as the element types of the safetensors reader. */
export const ONNX_DTYPES: Readonly<Record<number, SafetensorsDType>> = {
  1: 'F32',
  2: 'U8',
  3: 'I8',
  4: 'U16',
  5: 'I16',
  6: 'I32',
  7: 'I64',
  9: 'BOOL',
  10: 'F16',
  11: 'F64',
  12: 'U32',
  13: 'U64',
  16: 'BF16',
  17: 'F8_E4M3',
  19: 'F8_E5M2',
};

const ONNX_DTYPE_NAMES: Readonly<Record<number, string>> = { 8: 'STRING', 14: 'COMPLEX64', 15: 'COMPLEX128', 18: 'FLOAT8E4M3FNUZ', 20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4' };

export function onnxDTypeName(code: number): string {
  return ONNX_DTYPES[code] ?? ONNX_DTYPE_NAMES[code] ?? `data type ${code}`;
}

/* Field numbers of onnx.proto's TensorProto. */
const Field = { dims: 1, dataType: 2, floatData: 4, int32Data: 5, int64Data: 7, name: 8, rawData: 9, doubleData: 10, uint64Data: 11, externalData: 13, dataLocation: 14 } as const;
const DATA_LOCATION_EXTERNAL = 1;

/** A TensorProto as stored: where its values are, not yet the values. */
export interface TensorProto {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  /** A view into the model file's bytes. */
  readonly rawData?: Uint8Array;
  /** `location`, `offset`, `length` … when the values lie in another file. */
  readonly externalData?: ReadonlyMap<string, string>;
  /** Values from the typed repeated fields (float_data, int32_data …), as little-endian bytes of the element type. */
  readonly typedData?: Uint8Array;
}

export function parseTensorProto(bytes: Uint8Array, what: string): TensorProto {
  let name = '';
  const dims: number[] = [];
  let dataType = 0;
  let rawData: Uint8Array | undefined;
  let dataLocation = 0;
  const externalData = new Map<string, string>();
  const floatChunks: Uint8Array[] = [];
  const doubleChunks: Uint8Array[] = [];
  const int32Values: bigint[] = [];
  const int64Values: bigint[] = [];
  const uint64Values: bigint[] = [];
  readMessage(bytes, what, (field, value) => {
    switch (field) {
      case Field.dims:
        for (const dim of varintsOf(value, `${what} dims`)) dims.push(Number(BigInt.asIntN(64, dim)));
        break;
      case Field.dataType:
        dataType = integerOf(value, `${what} data_type`);
        break;
      case Field.name:
        name = stringOf(value, `${what} name`);
        break;
      case Field.rawData:
        rawData = bytesOf(value, `${what} raw_data`);
        break;
      case Field.floatData:
        floatChunks.push(fixedBytesOf(value, 4, `${what} float_data`));
        break;
      case Field.doubleData:
        doubleChunks.push(fixedBytesOf(value, 8, `${what} double_data`));
        break;
      case Field.int32Data:
        int32Values.push(...varintsOf(value, `${what} int32_data`));
        break;
      case Field.int64Data:
        int64Values.push(...varintsOf(value, `${what} int64_data`));
        break;
      case Field.uint64Data:
        uint64Values.push(...varintsOf(value, `${what} uint64_data`));
        break;
      case Field.externalData: {
        let key = '';
        let text = '';
        readMessage(bytesOf(value, `${what} external_data`), `${what} external_data`, (entryField, entryValue) => {
          if (entryField === 1) key = stringOf(entryValue, 'external_data key');
          else if (entryField === 2) text = stringOf(entryValue, 'external_data value');
        });
        externalData.set(key, text);
        break;
      }
      case Field.dataLocation:
        dataLocation = integerOf(value, `${what} data_location`);
        break;
    }
  });
  for (const dim of dims) if (!Number.isSafeInteger(dim) || dim < 0) throw new ProtoError(`${what}: invalid dimension ${dim}`);
  const typedData = typedBytes(ONNX_DTYPES[dataType], { floatChunks, doubleChunks, int32Values, int64Values, uint64Values });
  return {
    name,
    dims,
    dataType,
    ...(rawData ? { rawData } : {}),
    ...(dataLocation === DATA_LOCATION_EXTERNAL ? { externalData } : {}),
    ...(typedData ? { typedData } : {}),
  };
}

interface TypedFields {
  readonly floatChunks: Uint8Array[];
  readonly doubleChunks: Uint8Array[];
  readonly int32Values: bigint[];
  readonly int64Values: bigint[];
  readonly uint64Values: bigint[];
}

/** The typed field that onnx.proto assigns to the element type, converted to its little-endian bytes. */
function typedBytes(dtype: SafetensorsDType | undefined, fields: TypedFields): Uint8Array | undefined {
  const concat = (chunks: Uint8Array[]) => (chunks.length ? Buffer.concat(chunks) : undefined);
  const bytesOfArray = (array: ArrayBufferView) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  // int32_data carries every element type of 32 bits or less, each value wrapped to int32 first.
  const fromInt32 = (TypedArray: new (values: number[]) => ArrayBufferView) =>
    fields.int32Values.length ? bytesOfArray(new TypedArray(fields.int32Values.map((value) => Number(BigInt.asIntN(32, value))))) : undefined;
  switch (dtype) {
    case 'F32':
      return concat(fields.floatChunks);
    case 'F64':
      return concat(fields.doubleChunks);
    case 'I64':
      return fields.int64Values.length ? bytesOfArray(BigInt64Array.from(fields.int64Values, (value) => BigInt.asIntN(64, value))) : undefined;
    case 'U64':
      return fields.uint64Values.length ? bytesOfArray(BigUint64Array.from(fields.uint64Values)) : undefined;
    case 'U32':
      return fields.uint64Values.length ? bytesOfArray(Uint32Array.from(fields.uint64Values, Number)) : undefined;
    case 'I32':
      return fromInt32(Int32Array);
    case 'I16':
      return fromInt32(Int16Array);
    // float16 and bfloat16 travel as their 16-bit patterns in int32_data.
    case 'U16':
    case 'F16':
    case 'BF16':
      return fromInt32(Uint16Array);
    case 'I8':
      return fromInt32(Int8Array);
    case 'U8':
    case 'BOOL':
    case 'F8_E4M3':
    case 'F8_E5M2':
      return fromInt32(Uint8Array);
    default:
      return undefined;
  }
}
