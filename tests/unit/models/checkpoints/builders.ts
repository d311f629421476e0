import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

/** Pickle opcodes by their names in CPython's pickletools. */
export const OP = {
  MARK: 0x28,
  EMPTY_TUPLE: 0x29,
  STOP: 0x2e,
  POP: 0x30,
  POP_MARK: 0x31,
  DUP: 0x32,
  BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43,
  BINFLOAT: 0x47,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  NONE: 0x4e,
  BINPERSID: 0x51,
  REDUCE: 0x52,
  SHORT_BINSTRING: 0x55,
  BINUNICODE: 0x58,
  EMPTY_LIST: 0x5d,
  APPEND: 0x61,
  BUILD: 0x62,
  GLOBAL: 0x63,
  DICT: 0x64,
  APPENDS: 0x65,
  BINGET: 0x68,
  INST: 0x69,
  LONG_BINGET: 0x6a,
  LIST: 0x6c,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  SETITEM: 0x73,
  TUPLE: 0x74,
  SETITEMS: 0x75,
  EMPTY_DICT: 0x7d,
  PROTO: 0x80,
  NEWOBJ: 0x81,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  SHORT_BINUNICODE: 0x8c,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
} as const;

type Part = number | Uint8Array | readonly Part[];

/** Concatenates opcodes (numbers are single bytes) and encoded arguments into one pickle. */
export function bytes(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  const add = (part: Part): void => {
    if (typeof part === 'number') out.push(part);
    else if (part instanceof Uint8Array) out.push(...part);
    else part.forEach(add);
  };
  parts.forEach(add);
  return Uint8Array.from(out);
}

function le(value: number, width: number): Uint8Array {
  const buffer = Buffer.alloc(width);
  buffer.writeUIntLE(value, 0, width);
  return buffer;
}

/** The shortest integer opcode for `value`, as CPython's pickler picks it. */
export function int(value: number | bigint): Uint8Array {
  if (typeof value === 'number' && value >= 0 && value < 256) return bytes(OP.BININT1, value);
  if (typeof value === 'number' && value >= 0 && value < 65536) return bytes(OP.BININT2, le(value, 2));
  if (typeof value === 'number' && value >= -(2 ** 31) && value < 2 ** 31) {
    const buffer = Buffer.alloc(4);
    buffer.writeInt32LE(value);
    return bytes(OP.BININT, buffer);
  }
  let rest = BigInt(value);
  const digits: number[] = [];
  do {
    digits.push(Number(BigInt.asUintN(8, rest)));
    rest >>= 8n;
  } while (!((rest === 0n && (digits.at(-1)! & 0x80) === 0) || (rest === -1n && (digits.at(-1)! & 0x80) !== 0)));
  return bytes(OP.LONG1, digits.length, digits);
}

export function str(value: string): Uint8Array {
  const utf8 = Buffer.from(value, 'utf8');
  return bytes(OP.BINUNICODE, le(utf8.length, 4), utf8);
}

export function shortStr(value: string): Uint8Array {
  const utf8 = Buffer.from(value, 'utf8');
  return bytes(OP.SHORT_BINUNICODE, utf8.length, utf8);
}

export function float(value: number): Uint8Array {
  const buffer = Buffer.alloc(8);
  buffer.writeDoubleBE(value);
  return bytes(OP.BINFLOAT, buffer);
}

export function global(module: string, name: string): Uint8Array {
  return bytes(OP.GLOBAL, Buffer.from(`${module}\n${name}\n`, 'latin1'));
}

export const proto = (version = 2) => bytes(OP.PROTO, version);
export const stop = () => bytes(OP.STOP);
/** A protocol-2 pickle of `body` (which must leave one value on the stack). */
export const pickle = (...body: Part[]) => bytes(proto(), body, stop());

/** `collections.OrderedDict()` as torch writes it (GLOBAL, EMPTY_TUPLE, REDUCE). */
export const orderedDict = () => bytes(global('collections', 'OrderedDict'), OP.EMPTY_TUPLE, OP.REDUCE);

export interface TensorRecordSpec {
  readonly storageType?: string;
  readonly key: string;
  readonly storageElements: number;
  readonly offset?: number;
  readonly shape: readonly number[];
  readonly stride?: readonly number[];
}

function tuple(items: readonly Uint8Array[]): Uint8Array {
  if (items.length === 0) return bytes(OP.EMPTY_TUPLE);
  if (items.length <= 3) return bytes(items, [OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][items.length - 1]!);
  return bytes(OP.MARK, items, OP.TUPLE);
}

export function contiguousStride(shape: readonly number[]): number[] {
  const stride: number[] = [];
  let step = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    stride[axis] = step;
    step *= shape[axis]!;
  }
  return stride;
}

/** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())` with its persistent id. */
export function tensorRecord(spec: TensorRecordSpec): Uint8Array {
  const persistentId = bytes(OP.MARK, str('storage'), global('torch', spec.storageType ?? 'FloatStorage'), str(spec.key), str('cpu'), int(spec.storageElements), OP.TUPLE, OP.BINPERSID);
  return bytes(
    global('torch._utils', '_rebuild_tensor_v2'),
    OP.MARK,
    persistentId,
    int(spec.offset ?? 0),
    tuple(spec.shape.map((dim) => int(dim))),
    tuple((spec.stride ?? contiguousStride(spec.shape)).map((s) => int(s))),
    OP.NEWFALSE,
    orderedDict(),
    OP.TUPLE,
    OP.REDUCE,
  );
}

/** A dict literal: EMPTY_DICT, MARK, key/value pairs, SETITEMS. */
export function dict(entries: readonly (readonly [string, Uint8Array])[]): Uint8Array {
  return bytes(OP.EMPTY_DICT, OP.MARK, entries.map(([key, value]) => [str(key), value]), OP.SETITEMS);
}

export interface ZipMember {
  readonly name: string;
  readonly data: Uint8Array;
  readonly deflate?: boolean;
}

/** A zip archive as torch's writer lays it out; `zip64` forces the 64-bit records and extra fields. */
export function zip(members: readonly ZipMember[], options: { zip64?: boolean } = {}): Uint8Array {
  const zip64 = options.zip64 ?? false;
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const member of members) {
    const name = Buffer.from(member.name, 'utf8');
    const stored = member.deflate ? zlib.deflateRawSync(member.data) : Buffer.from(member.data);
    const crc = zlib.crc32(member.data) >>> 0;
    const method = member.deflate ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(member.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, stored);
    const extra = Buffer.alloc(zip64 ? 28 : 0);
    if (zip64) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(member.data.length), 4);
      extra.writeBigUInt64LE(BigInt(stored.length), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(zip64 ? 45 : 20, 4);
    central.writeUInt16LE(zip64 ? 45 : 20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(zip64 ? 0xffffffff : stored.length, 20);
    central.writeUInt32LE(zip64 ? 0xffffffff : member.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    centrals.push(central, name, extra);
    offset += 30 + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const tail: Buffer[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(members.length), 24);
    record.writeBigUInt64LE(BigInt(members.length), 32);
    record.writeBigUInt64LE(BigInt(directory.length), 40);
    record.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + directory.length), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : members.length, 8);
  end.writeUInt16LE(zip64 ? 0xffff : members.length, 10);
  end.writeUInt32LE(zip64 ? 0xffffffff : directory.length, 12);
  end.writeUInt32LE(zip64 ? 0xffffffff : offset, 16);
  return Buffer.concat([...locals, directory, ...tail, end]);
}

/** A torch.save archive: `<prefix>/data.pkl`, one `<prefix>/data/<key>` per storage, and the version records. */
export function torchArchive(pkl: Uint8Array, storages: Readonly<Record<string, ArrayBufferView>>, options: { prefix?: string; byteorder?: string; zip64?: boolean; deflatePickle?: boolean } = {}): Uint8Array {
  const prefix = options.prefix ?? 'archive';
  const members: ZipMember[] = [{ name: `${prefix}/data.pkl`, data: pkl, deflate: options.deflatePickle ?? false }];
  if (options.byteorder !== undefined) members.push({ name: `${prefix}/byteorder`, data: Buffer.from(options.byteorder) });
  for (const [key, view] of Object.entries(storages)) {
    members.push({ name: `${prefix}/data/${key}`, data: new Uint8Array(view.buffer, view.byteOffset, view.byteLength) });
  }
  members.push({ name: `${prefix}/version`, data: Buffer.from('3\n') });
  return zip(members, options);
}

export function tempDir(prefix: string): { dir: string; file: (name: string, data?: Uint8Array) => string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let counter = 0;
  return {
    dir,
    file(name, data) {
      const folder = fs.mkdtempSync(path.join(dir, `case${counter++}-`));
      const target = path.join(folder, name);
      if (data) fs.writeFileSync(target, data);
      return target;
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
