/**
 * A minimal protocol-buffers encoder: just the wire types ONNX's messages use (varint,
 * 64-bit, length-delimited, 32-bit). Nested messages are encoded first and written as bytes.
 */
const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  Fixed32 = 5,
}

const textEncoder = new TextEncoder();

export class ProtoWriter {
  private buffer = new Uint8Array(256);
  private length = 0;
  private readonly scratch = new DataView(new ArrayBuffer(8));

  /** An unsigned or signed integer field (int32, int64, enum); negatives take ten bytes. */
  int(field: number, value: number | bigint): this {
    this.tag(field, WireType.Varint);
    this.varint(value);
    return this;
  }

  /** Repeated int64, one tag per value (proto2's unpacked encoding, as onnx.proto declares). */
  ints(field: number, values: Iterable<number | bigint>): this {
    for (const value of values) this.int(field, value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WireType.Fixed32);
    this.scratch.setFloat32(0, value, true);
    this.append(new Uint8Array(this.scratch.buffer, 0, 4));
    return this;
  }

  double(field: number, value: number): this {
    this.tag(field, WireType.Fixed64);
    this.scratch.setFloat64(0, value, true);
    this.append(new Uint8Array(this.scratch.buffer, 0, 8));
    return this;
  }

  floats(field: number, values: Iterable<number>): this {
    for (const value of values) this.float(field, value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.LengthDelimited);
    this.varint(value.length);
    this.append(value);
    return this;
  }

  /** An embedded message, encoded by `write` into its own writer. */
  message(field: number, write: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  private tag(field: number, wireType: WireType): void {
    this.varint(field * 8 + wireType);
  }

  private varint(value: number | bigint): void {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
      this.reserve(8);
      let rest = value;
      while (rest >= 0x80) {
        this.buffer[this.length++] = (rest % 0x80) | 0x80;
        rest = Math.floor(rest / 0x80);
      }
      this.buffer[this.length++] = rest;
      return;
    }
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new RangeError(`protobuf varint: ${value} is not a safe integer`);
    }
    // Negative or bigint: two's complement over 64 bits, as protobuf encodes int32/int64.
    let rest = BigInt.asUintN(64, BigInt(value));
    this.reserve(10);
    while (rest >= 0x80n) {
      this.buffer[this.length++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.buffer[this.length++] = Number(rest);
  }

  private append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}
