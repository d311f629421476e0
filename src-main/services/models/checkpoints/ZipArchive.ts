import type fs from 'node:fs/promises';
import zlib from 'node:zlib';
import { CheckpointError } from '../CheckpointError';
import { openAndParse, readExactly, readUpTo } from '../fileReading';

/** One member of a zip archive, as its central directory describes it. */
export interface ZipEntry {
  readonly name: string;
  /** 0: stored; 8: deflate. Other methods are refused when read. */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly crc32: number;
  readonly localHeaderOffset: number;
  readonly encrypted: boolean;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_BYTES = 22;
/** The end record may be followed by a comment of up to 65,535 bytes. */
const MAX_EOCD_SEARCH = EOCD_BYTES + 0xffff;
/** Compressed members are inflated in memory: only small ones (pickles, text) are accepted. */
const MAX_INFLATE_BYTES = 256 * 1024 * 1024;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;

/**
 * A read-only zip archive (torch.save's container): the central directory is read on open,
 * members are read by name. Stored members are read in place; small deflated ones are
 * inflated. ZIP64 is supported because checkpoints above 4 GiB use it.
 */
export class ZipArchive {
  private constructor(
    readonly filePath: string,
    private readonly handle: fs.FileHandle,
    readonly fileSize: number,
    private readonly byName: ReadonlyMap<string, ZipEntry>,
  ) {}

  static async open(filePath: string): Promise<ZipArchive> {
    return openAndParse(filePath, async (handle) => {
      const fileSize = (await handle.stat()).size;
      const entries = await readCentralDirectory(filePath, handle, fileSize);
      return new ZipArchive(filePath, handle, fileSize, new Map(entries.map((entry) => [entry.name, entry])));
    });
  }

  entries(): readonly ZipEntry[] {
    return [...this.byName.values()];
  }

  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** The member's uncompressed bytes; `range` (stored members only) reads a slice of them. */
  async read(name: string, range?: { readonly offset: number; readonly length: number }): Promise<Uint8Array> {
    const entry = this.byName.get(name);
    const fail = (reason: string): never => {
      throw new CheckpointError(this.filePath, `entry "${name}": ${reason}`);
    };
    if (!entry) return fail('missing from the archive');
    if (entry.encrypted) fail('is encrypted');
    const dataStart = await this.dataStart(entry);
    if (entry.method === METHOD_STORED) {
      if (entry.compressedSize !== entry.size) fail(`a stored entry whose sizes differ (${entry.compressedSize} and ${entry.size} bytes)`);
      const offset = range?.offset ?? 0;
      const length = range?.length ?? entry.size;
      if (offset < 0 || length < 0 || offset + length > entry.size) fail(`bytes [${offset}, ${offset + length}] lie outside its ${entry.size} bytes`);
      return this.readExactly(name, dataStart + offset, length);
    }
    if (entry.method !== METHOD_DEFLATE) fail(`compression method ${entry.method} is not supported (only stored and deflate)`);
    if (entry.size > MAX_INFLATE_BYTES) {
      fail(`is deflate-compressed and ${entry.size} bytes long; tensor data must be stored uncompressed as torch.save writes it`);
    }
    const compressed = await this.readExactly(name, dataStart, entry.compressedSize);
    let inflated: Uint8Array;
    try {
      inflated = zlib.inflateRawSync(compressed, { maxOutputLength: Math.max(1, entry.size) });
    } catch (error) {
      return fail(`cannot be inflated (${(error as Error).message})`);
    }
    if (inflated.length !== entry.size) fail(`inflates to ${inflated.length} bytes, but the directory says ${entry.size}`);
    if (zlib.crc32(inflated) >>> 0 !== entry.crc32) fail('fails its CRC-32 check (corrupt archive)');
    if (!range) return inflated;
    if (range.offset < 0 || range.length < 0 || range.offset + range.length > inflated.length) fail(`bytes [${range.offset}, ${range.offset + range.length}] lie outside its ${entry.size} bytes`);
    return inflated.subarray(range.offset, range.offset + range.length);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async dataStart(entry: ZipEntry): Promise<number> {
    const header = await this.readExactly(entry.name, entry.localHeaderOffset, 30);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (view.getUint32(0, true) !== LOCAL_SIGNATURE) {
      throw new CheckpointError(this.filePath, `entry "${entry.name}": no local header at offset ${entry.localHeaderOffset} (corrupt archive)`);
    }
    const start = entry.localHeaderOffset + 30 + view.getUint16(26, true) + view.getUint16(28, true);
    if (start + entry.compressedSize > this.fileSize) {
      throw new CheckpointError(this.filePath, `entry "${entry.name}": its ${entry.compressedSize} bytes reach beyond the end of the file (truncated?)`);
    }
    return start;
  }

  private readExactly(name: string, position: number, length: number): Promise<Uint8Array> {
    return readExactly(this.handle, position, length, () => new CheckpointError(this.filePath, `entry "${name}": the file ended while reading it (truncated?)`));
  }
}

async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<DataView> {
  const bytes = await readUpTo(handle, position, length);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function uint64(view: DataView, offset: number, filePath: string, what: string): number {
  const value = view.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointError(filePath, `${what} ${value} is too large (corrupt archive)`);
  return Number(value);
}

interface Directory {
  readonly count: number;
  readonly offset: number;
  readonly size: number;
}

async function findDirectory(filePath: string, handle: fs.FileHandle, fileSize: number): Promise<Directory> {
  const notZip = (): never => {
    throw new CheckpointError(filePath, 'is not a zip archive or is truncated (no end-of-central-directory record)');
  };
  if (fileSize < EOCD_BYTES) notZip();
  const searchLength = Math.min(fileSize, MAX_EOCD_SEARCH);
  const tailStart = fileSize - searchLength;
  const tail = await readAt(handle, tailStart, searchLength);
  let at = -1;
  for (let i = tail.byteLength - EOCD_BYTES; i >= 0; i--) {
    if (tail.getUint32(i, true) === EOCD_SIGNATURE && i + EOCD_BYTES + tail.getUint16(i + 20, true) <= tail.byteLength) {
      at = i;
      break;
    }
  }
  if (at < 0) return notZip();
  const count = tail.getUint16(at + 10, true);
  const size = tail.getUint32(at + 12, true);
  const offset = tail.getUint32(at + 16, true);
  if (count !== 0xffff && size !== 0xffffffff && offset !== 0xffffffff) return { count, offset, size };
  // ZIP64: a locator just before the end record points at the 64-bit end record.
  const locatorAt = tailStart + at - 20;
  if (locatorAt < 0) return notZip();
  const locator = await readAt(handle, locatorAt, 20);
  if (locator.byteLength < 20 || locator.getUint32(0, true) !== ZIP64_LOCATOR_SIGNATURE) {
    throw new CheckpointError(filePath, 'the end record points to a ZIP64 record that is missing (corrupt archive)');
  }
  const recordAt = uint64(locator, 8, filePath, 'ZIP64 record offset');
  const record = await readAt(handle, recordAt, 56);
  if (record.byteLength < 56 || record.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) {
    throw new CheckpointError(filePath, `no ZIP64 end record at offset ${recordAt} (corrupt archive)`);
  }
  return {
    count: uint64(record, 32, filePath, 'entry count'),
    size: uint64(record, 40, filePath, 'directory size'),
    offset: uint64(record, 48, filePath, 'directory offset'),
  };
}

async function readCentralDirectory(filePath: string, handle: fs.FileHandle, fileSize: number): Promise<ZipEntry[]> {
  const directory = await findDirectory(filePath, handle, fileSize);
  if (directory.offset + directory.size > fileSize) {
    throw new CheckpointError(filePath, `the central directory [${directory.offset}, ${directory.offset + directory.size}] lies beyond the end of the file (${fileSize} bytes): truncated?`);
  }
  const view = await readAt(handle, directory.offset, directory.size);
  const decoder = new TextDecoder('utf-8');
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let index = 0; index < directory.count; index++) {
    if (at + 46 > view.byteLength || view.getUint32(at, true) !== CENTRAL_SIGNATURE) {
      throw new CheckpointError(filePath, `central directory entry ${index} is malformed (corrupt archive)`);
    }
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > view.byteLength) throw new CheckpointError(filePath, `central directory entry ${index} is malformed (corrupt archive)`);
    const name = decoder.decode(new Uint8Array(view.buffer, at + 46, nameLength));
    let compressedSize = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    let localHeaderOffset = view.getUint32(at + 42, true);
    // ZIP64 extra field: 64-bit values for the 32-bit fields that hold 0xffffffff, in this order.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = view.getUint16(extra, true);
      const length = view.getUint16(extra + 2, true);
      if (id === 0x0001) {
        let field = extra + 4;
        const next = (what: string): number => {
          if (field + 8 > extra + 4 + length) throw new CheckpointError(filePath, `entry "${name}": ZIP64 extra field lacks the ${what}`);
          const value = uint64(view, field, filePath, what);
          field += 8;
          return value;
        };
        if (size === 0xffffffff) size = next('size');
        if (compressedSize === 0xffffffff) compressedSize = next('compressed size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next('header offset');
      }
      extra += 4 + length;
    }
    entries.push({
      name,
      method: view.getUint16(at + 10, true),
      compressedSize,
      size,
      crc32: view.getUint32(at + 16, true),
      localHeaderOffset,
      encrypted: (view.getUint16(at + 8, true) & 1) !== 0,
    });
    at = end;
  }
  return entries;
}
