import { describe, expect, it } from 'vitest';
import { ProtoWriter } from '../../../src-main/services/graph/ProtoWriter';

const bytes = (write: (writer: ProtoWriter) => void): number[] => {
  const writer = new ProtoWriter();
  write(writer);
  return [...writer.finish()];
};

describe('ProtoWriter', () => {
  it('encodes varints as the protobuf documentation shows', () => {
    expect(bytes((w) => w.int(1, 150))).toEqual([0x08, 0x96, 0x01]);
    expect(bytes((w) => w.int(2, 300))).toEqual([0x10, 0xac, 0x02]);
    expect(bytes((w) => w.int(1, 2 ** 40))).toEqual([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
  });

  it('encodes negative int64 as ten-byte two’s complement', () => {
    expect(bytes((w) => w.int(1, -1))).toEqual([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(bytes((w) => w.int(1, -(2n ** 63n)))).toEqual([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
  });

  it('encodes strings, floats, doubles and nested messages', () => {
    expect(bytes((w) => w.string(2, 'testing'))).toEqual([0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]);
    expect(bytes((w) => w.float(2, 1))).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f]);
    expect(bytes((w) => w.double(1, 1))).toEqual([0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    expect(bytes((w) => w.message(3, (inner) => inner.int(1, 150)))).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);
  });

  it('grows past its initial buffer', () => {
    const long = new Uint8Array(100_000).fill(7);
    const encoded = bytes((w) => w.bytes(1, long));
    expect(encoded.length).toBe(100_000 + 4);
    expect(encoded.slice(0, 4)).toEqual([0x0a, 0xa0, 0x8d, 0x06]);
  });

  it('refuses numbers that are not safe integers', () => {
    expect(() => bytes((w) => w.int(1, 1.5))).toThrow('not a safe integer');
  });
});
