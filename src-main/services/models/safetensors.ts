import type fs from 'node:fs/promises';
import { CheckpointError } from './CheckpointError';
import { openAndParse, readTensorBytes, readUpTo } from './fileReading';
import { bfloat16ToFloat32, float16ToFloat32 } from '../graph/halfPrecision';
import { openShards, ShardedCheckpoint } from './shardedCheckpoint';

/** The dtypes of the safetensors format, with their element sizes in bytes. */
export const SAFETENSORS_DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
} as const;

export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPE_BYTES;

export type TensorValues = Float32Array | Float64Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

export interface TensorEntry {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** Bytes of the tensor's data, as stored. */
  readonly byteLength: number;
  /** The file that holds it (a shard of a sharded checkpoint). */
  readonly file: string;
}

/** A set of named tensors readable one at a time: a safetensors file or a sharded checkpoint. */
export interface TensorSource {
  tensors(): readonly TensorEntry[];
  has(name: string): boolean;
  entry(name: string): TensorEntry;
  /** The tensor's values; F16 and BF16 are widened to float32. */
  read(name: string): Promise<TensorValues>;
  close(): Promise<void>;
}

/** The format's own limit on the JSON header (safetensors refuses larger ones). */
const MAX_HEADER_BYTES = 100_000_000;

interface StoredTensor extends TensorEntry {
  /** Offset of the first byte in the file. */
  readonly fileOffset: number;
}

/** One `.safetensors` file: the header is parsed and checked on open; data is read per tensor. */
export class SafetensorsFile implements TensorSource {
  private constructor(
    readonly filePath: string,
    private readonly handle: fs.FileHandle,
    private readonly entries: ReadonlyMap<string, StoredTensor>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  static async open(filePath: string): Promise<SafetensorsFile> {
    return openAndParse(filePath, async (handle) => {
      const { entries, metadata } = await readHeader(filePath, handle);
      return new SafetensorsFile(filePath, handle, entries, metadata);
    });
  }

  tensors(): readonly TensorEntry[] {
    return [...this.entries.keys()].map((name) => this.entry(name));
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  entry(name: string): TensorEntry {
    const { dtype, shape, byteLength, file } = this.stored(name);
    return { name, dtype, shape, byteLength, file };
  }

  async read(name: string): Promise<TensorValues> {
    const entry = this.stored(name);
    if (entry.dtype === 'F8_E4M3' || entry.dtype === 'F8_E5M2') {
      throw new CheckpointError(this.filePath, `dtype ${entry.dtype} is not supported yet`, name);
    }
    const bytes = await readTensorBytes(this.handle, this.filePath, entry.fileOffset, entry.byteLength, name);
    return decode(entry.dtype, bytes.buffer);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private stored(name: string): StoredTensor {
    const entry = this.entries.get(name);
    if (!entry) throw new CheckpointError(this.filePath, 'no such tensor in this file', name);
    return entry;
  }
}

function decode(dtype: Exclude<SafetensorsDType, 'F8_E4M3' | 'F8_E5M2'>, buffer: ArrayBuffer): TensorValues {
  switch (dtype) {
    case 'F64':
      return new Float64Array(buffer);
    case 'F32':
      return new Float32Array(buffer);
    case 'F16':
      return float16ToFloat32(new Uint16Array(buffer));
    case 'BF16':
      return bfloat16ToFloat32(new Uint16Array(buffer));
    case 'I64':
      return new BigInt64Array(buffer);
    case 'U64':
      return new BigUint64Array(buffer);
    case 'I32':
      return new Int32Array(buffer);
    case 'U32':
      return new Uint32Array(buffer);
    case 'I16':
      return new Int16Array(buffer);
    case 'U16':
      return new Uint16Array(buffer);
    case 'I8':
      return new Int8Array(buffer);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buffer);
  }
}

async function readHeader(
  filePath: string,
  handle: fs.FileHandle,
): Promise<{ entries: Map<string, StoredTensor>; metadata: Record<string, string> }> {
  const fail = (reason: string, tensor?: string): never => {
    throw new CheckpointError(filePath, reason, tensor);
  };
  const fileSize = (await handle.stat()).size;
  if (fileSize < 8) fail(`truncated: ${fileSize} bytes, but a safetensors file starts with an 8-byte header length`);
  const prefix = await readUpTo(handle, 0, 8);
  const headerLength = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(fileSize - 8)) {
    fail(`the header length (${headerLength} bytes) goes beyond the end of the file (${fileSize} bytes): truncated or not a safetensors file`);
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(`the header length (${headerLength} bytes) exceeds the format's limit of ${MAX_HEADER_BYTES}`);
  const headerBytes = await readUpTo(handle, 8, Number(headerLength));
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    fail(`the header is not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(header)) fail('the header is not a JSON object');

  const dataStart = 8 + Number(headerLength);
  const dataLength = fileSize - dataStart;
  let metadata: Record<string, string> = {};
  const entries = new Map<string, StoredTensor>();
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!isRecord(value) || !Object.values(value).every((item) => typeof item === 'string')) {
        fail('__metadata__ must be an object of strings');
      }
      metadata = value as Record<string, string>;
      continue;
    }
    if (!isRecord(value)) fail('the header entry is not an object', name);
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in SAFETENSORS_DTYPE_BYTES)) fail(`unknown dtype ${JSON.stringify(dtype)}`, name);
    if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) fail(`invalid shape ${JSON.stringify(shape)}`, name);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      fail(`invalid data_offsets ${JSON.stringify(offsets)}`, name);
    }
    const [begin, end] = offsets as [number, number];
    const elementBytes = SAFETENSORS_DTYPE_BYTES[dtype as SafetensorsDType];
    const expected = (shape as number[]).reduce((product, dim) => product * dim, 1) * elementBytes;
    if (expected !== end - begin) {
      fail(`shape [${(shape as number[]).join(',')}] of ${dtype} needs ${expected} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`, name);
    }
    if (end > dataLength) {
      fail(`data_offsets [${begin}, ${end}] reach beyond the ${dataLength} bytes of data in the file (truncated file or a header lying about sizes)`, name);
    }
    entries.set(name, { name, dtype: dtype as SafetensorsDType, shape: shape as number[], byteLength: end - begin, file: filePath, fileOffset: dataStart + begin });
  }
  checkNoOverlap(filePath, [...entries.values()], dataStart);
  return { entries, metadata };
}

function checkNoOverlap(filePath: string, entries: StoredTensor[], dataStart: number): void {
  const sorted = entries.filter((entry) => entry.byteLength > 0).sort((a, b) => a.fileOffset - b.fileOffset);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    const current = sorted[i]!;
    if (current.fileOffset < previous.fileOffset + previous.byteLength) {
      const range = (entry: StoredTensor) => `[${entry.fileOffset - dataStart}, ${entry.fileOffset - dataStart + entry.byteLength}]`;
      throw new CheckpointError(filePath, `data_offsets ${range(current)} overlap those of "${previous.name}" ${range(previous)}`, current.name);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const SAFETENSORS_INDEX_NAME = 'model.safetensors.index.json';
export const SAFETENSORS_SINGLE_NAME = 'model.safetensors';
const SAFETENSORS_LAYOUT = { indexName: SAFETENSORS_INDEX_NAME, singleName: SAFETENSORS_SINGLE_NAME };

/**
 * A checkpoint split over shards by `model.safetensors.index.json` (its `weight_map` names the
 * shard of every tensor), or a single file seen through the same interface.
 */
export class SafetensorsCheckpoint extends ShardedCheckpoint<SafetensorsFile> {
  /** Opens a `.safetensors` file, an index JSON, or a folder holding either. */
  static async open(target: string): Promise<SafetensorsCheckpoint> {
    return new SafetensorsCheckpoint(await openShards(target, SAFETENSORS_LAYOUT, (file) => SafetensorsFile.open(file)));
  }

  /** Metadata of every shard, merged. */
  get metadata(): Readonly<Record<string, string>> {
    return Object.assign({}, ...this.shards.map((shard) => shard.metadata)) as Record<string, string>;
  }
}
