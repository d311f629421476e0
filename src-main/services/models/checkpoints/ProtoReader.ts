/**
 * A minimal protocol-buffers decoder: it walks a message's fields (varint, 64-bit,
 * length-delimited, 32-bit) and leaves their meaning to the caller. Length-delimited values
 * are views into the input, never copies, so a large raw_data field costs nothing.
 */
export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  StartGroup = 3,
  EndGroup = 4,
  Fixed32 = 5,
}

export type FieldValue =
  | { readonly wireType: WireType.Varint; readonly varint: bigint }
  | { readonly wireType: WireType.LengthDelimited | WireType.Fixed32 | WireType.Fixed64; readonly bytes: Uint8Array };

export class ProtoError extends Error {
  override readonly name = 'ProtoError';
}

const utf8 = new TextDecoder('utf-8');

/** Calls `onField` for each field of the message in `bytes`; `what` names the message in errors. */
export function readMessage(bytes: Uint8Array, what: string, onField: (field: number, value: FieldValue) => void): void {
  let position = 0;
  const fail = (reason: string): never => {
    throw new ProtoError(`${what}: ${reason} at byte ${position}`);
  };
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (position >= bytes.length) fail('the message ends inside a varint (truncated?)');
      const byte = bytes[position++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, result);
    }
    return fail('a varint is longer than 10 bytes');
  };
  const take = (length: number): Uint8Array => {
    if (position + length > bytes.length) fail(`a ${length}-byte field runs past the end of the message (truncated?)`);
    const slice = bytes.subarray(position, position + length);
    position += length;
    return slice;
  };
  while (position < bytes.length) {
    const tag = varint();
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (field === 0) fail('field number 0');
    switch (wireType) {
      case WireType.Varint:
        onField(field, { wireType, varint: varint() });
        break;
      case WireType.Fixed64:
        onField(field, { wireType, bytes: take(8) });
        break;
      case WireType.Fixed32:
        onField(field, { wireType, bytes: take(4) });
        break;
      case WireType.LengthDelimited: {
        const length = varint();
        if (length > BigInt(bytes.length - position)) fail(`a length of ${length} bytes runs past the end of the message (truncated?)`);
        onField(field, { wireType, bytes: take(Number(length)) });
        break;
      }
      default:
        fail(`wire type ${wireType} (groups) is not supported`);
    }
  }
}

function expectWire(value: FieldValue, wireType: WireType, what: string): void {
  if (value.wireType !== wireType) throw new ProtoError(`${what}: wire type ${value.wireType} where ${wireType} was expected`);
}

/** The bytes of a length-delimited field (a string, bytes or an embedded message). */
export function bytesOf(value: FieldValue, what: string): Uint8Array {
  expectWire(value, WireType.LengthDelimited, what);
  return (value as { bytes: Uint8Array }).bytes;
}

export function stringOf(value: FieldValue, what: string): string {
  return utf8.decode(bytesOf(value, what));
}

/** A signed 64-bit integer field, as a number (refused when beyond 2^53). */
export function integerOf(value: FieldValue, what: string): number {
  expectWire(value, WireType.Varint, what);
  const signed = BigInt.asIntN(64, (value as { varint: bigint }).varint);
  if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) throw new ProtoError(`${what}: ${signed} is too large`);
  return Number(signed);
}

export function float32Of(value: FieldValue, what: string): number {
  expectWire(value, WireType.Fixed32, what);
  const { bytes } = value as { bytes: Uint8Array };
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getFloat32(0, true);
}

/**
 * The values of a repeated varint field (int32, int64, uint64, enums) in one occurrence: one
 * value when unpacked, all of them when packed. Returned as raw 64-bit patterns.
 */
export function varintsOf(value: FieldValue, what: string): bigint[] {
  if (value.wireType === WireType.Varint) return [value.varint];
  const values: bigint[] = [];
  readPackedVarints(bytesOf(value, what), what, values);
  return values;
}

function readPackedVarints(bytes: Uint8Array, what: string, out: bigint[]): void {
  let position = 0;
  while (position < bytes.length) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (position >= bytes.length) throw new ProtoError(`${what}: packed varints end inside a value`);
      if (shift >= 70n) throw new ProtoError(`${what}: a varint is longer than 10 bytes`);
      const byte = bytes[position++]!;
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if (byte < 0x80) break;
    }
    out.push(BigInt.asUintN(64, result));
  }
}

/** Little-endian bytes of a repeated fixed-width field (float, double), packed or not. */
export function fixedBytesOf(value: FieldValue, width: 4 | 8, what: string): Uint8Array {
  const expected = width === 4 ? WireType.Fixed32 : WireType.Fixed64;
  if (value.wireType === expected) return (value as { bytes: Uint8Array }).bytes;
  const bytes = bytesOf(value, what);
  if (bytes.length % width !== 0) throw new ProtoError(`${what}: packed field of ${bytes.length} bytes is not a multiple of ${width}`);
  return bytes;
}
