import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { SlideError } from '../SlideError';

/** TIFF tag numbers this reader looks at. */
export const TiffTag = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  ImageDescription: 270,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  XResolution: 282,
  YResolution: 283,
  PlanarConfig: 284,
  ResolutionUnit: 296,
  Predictor: 317,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  SubIfds: 330,
  SampleFormat: 339,
  JpegTables: 347,
  YCbCrSubsampling: 530,
} as const;

/** Where the stored chunks (tiles or strips) of an image lie in the file. */
export interface ChunkTable {
  offsets: Float64Array;
  byteCounts: Float64Array;
}

/** One image file directory, with the small tags decoded and the chunk tables left on disk. */
export interface TiffIfd {
  /** File offset of the directory; identifies it. */
  offset: number;
  /** Position in the main IFD chain; -1 for directories reached through SubIFDs. */
  chainIndex: number;
  width: number;
  height: number;
  /** null when the image is stored in strips. */
  tileWidth: number | null;
  tileHeight: number | null;
  /** For stripped images; defaults to the image height as the TIFF spec says. */
  rowsPerStrip: number;
  compression: number;
  photometric: number | null;
  samplesPerPixel: number;
  bitsPerSample: number[];
  /** 1 = chunky (RGBRGB), 2 = planar (one plane per sample). */
  planarConfig: number;
  predictor: number;
  sampleFormat: number;
  newSubfileType: number;
  imageDescription: string | null;
  jpegTables: Buffer | null;
  ycbcrSubsampling: [number, number] | null;
  xResolution: number | null;
  yResolution: number | null;
  /** 1 = none, 2 = inch, 3 = centimetre. */
  resolutionUnit: number;
  subIfds: TiffIfd[];
  /** Number of stored chunks (tiles or strips), all planes included. */
  chunkCount: number;
}

interface RawEntry {
  tag: number;
  type: number;
  count: number;
  /** Inline value bytes (the entry's value field), valid when valueOffset is null. */
  inline: Buffer;
  valueOffset: number | null;
}

/** Bytes per value for each TIFF field type. */
const typeSizes: Record<number, number> = {
  1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8,
};

/** Directories are small; anything larger than this is a corrupt entry count. */
const maxEntriesPerIfd = 4096;
/** Text and table tags larger than this are not slide metadata. */
const maxSmallValueBytes = 64 * 1024 * 1024;

/**
 * A TIFF or BigTIFF file read through positional reads on one FileHandle, so several reads
 * may be in flight at once and the (many gigabyte) file is never loaded as a whole.
 */
export class TiffFile {
  private readonly chunkTables = new Map<number, Promise<ChunkTable>>();

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly sizeBytes: number,
    readonly littleEndian: boolean,
    readonly bigTiff: boolean,
    /** The main IFD chain, in file order; SubIFDs hang off their parents. */
    readonly ifds: readonly TiffIfd[],
  ) {}

  static async open(path: string): Promise<TiffFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw fileOpenError(path, error);
    }
    try {
      return await TiffFile.fromHandle(path, handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Parses the structure; the caller keeps ownership of the handle if this throws. */
  static async fromHandle(path: string, handle: FileHandle): Promise<TiffFile> {
    const info = await handle.stat();
    if (info.isDirectory()) throw new SlideError(path, 'is a folder, not a TIFF file', 'unsupported');
    const sizeBytes = info.size;
    if (sizeBytes === 0) throw new SlideError(path, 'empty file (0 bytes)', 'corrupt');
    const header = await readAt(path, handle, sizeBytes, 0, Math.min(16, sizeBytes));
    const mark = header.toString('latin1', 0, 2);
    if (mark !== 'II' && mark !== 'MM') {
      throw new SlideError(path, 'not a TIFF file (bad byte-order mark)', 'corrupt');
    }
    if (header.length < 8) {
      throw new SlideError(path, `truncated: ${sizeBytes} bytes is too short for a TIFF header`, 'corrupt');
    }
    const littleEndian = mark === 'II';
    const version = littleEndian ? header.readUInt16LE(2) : header.readUInt16BE(2);
    let firstIfdOffset: number;
    if (version === 42) {
      firstIfdOffset = littleEndian ? header.readUInt32LE(4) : header.readUInt32BE(4);
    } else if (version === 43) {
      if (header.length < 16) throw new SlideError(path, 'truncated: BigTIFF header is incomplete', 'corrupt');
      firstIfdOffset = toSafeNumber(path, littleEndian ? header.readBigUInt64LE(8) : header.readBigUInt64BE(8));
    } else {
      throw new SlideError(path, `not a TIFF file (version ${version}, expected 42 or 43)`, 'corrupt');
    }
    const parser = new IfdParser(path, handle, sizeBytes, littleEndian, version === 43);
    const ifds = await parser.readChain(firstIfdOffset);
    if (ifds.length === 0) throw new SlideError(path, 'TIFF file contains no images', 'corrupt');
    return new TiffFile(path, handle, sizeBytes, littleEndian, version === 43, ifds);
  }

  /** Reads exactly `length` bytes; a short read means the file shrank or vanished. */
  async readBytes(offset: number, length: number): Promise<Buffer> {
    return readAt(this.path, this.handle, this.sizeBytes, offset, length);
  }

  /** Offsets and byte counts of an image's tiles or strips, read once and kept. */
  chunkTable(ifd: TiffIfd): Promise<ChunkTable> {
    let table = this.chunkTables.get(ifd.offset);
    if (!table) {
      table = this.loadChunkTable(ifd);
      this.chunkTables.set(ifd.offset, table);
      // A failed read (e.g. file removed) should be retried next time, not cached.
      table.catch(() => this.chunkTables.delete(ifd.offset));
    }
    return table;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async loadChunkTable(ifd: TiffIfd): Promise<ChunkTable> {
    const parser = new IfdParser(this.path, this.handle, this.sizeBytes, this.littleEndian, this.bigTiff);
    const entries = await parser.readEntries(ifd.offset);
    const tiled = ifd.tileWidth !== null;
    const offsetsEntry = entries.get(tiled ? TiffTag.TileOffsets : TiffTag.StripOffsets);
    const countsEntry = entries.get(tiled ? TiffTag.TileByteCounts : TiffTag.StripByteCounts);
    const what = tiled ? 'tile' : 'strip';
    if (!offsetsEntry || !countsEntry) {
      throw new SlideError(this.path, `image at offset ${ifd.offset} has no ${what} offsets or byte counts`, 'corrupt');
    }
    const offsets = await parser.readNumbers(offsetsEntry);
    const byteCounts = await parser.readNumbers(countsEntry);
    if (offsets.length < ifd.chunkCount || byteCounts.length < ifd.chunkCount) {
      throw new SlideError(
        this.path,
        `image at offset ${ifd.offset} lists ${Math.min(offsets.length, byteCounts.length)} ${what}s, expected ${ifd.chunkCount}`,
        'corrupt',
      );
    }
    return { offsets, byteCounts };
  }
}

class IfdParser {
  private readonly visited = new Set<number>();

  constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
    private readonly sizeBytes: number,
    private readonly littleEndian: boolean,
    private readonly bigTiff: boolean,
  ) {}

  async readChain(firstOffset: number): Promise<TiffIfd[]> {
    const ifds: TiffIfd[] = [];
    let offset = firstOffset;
    while (offset !== 0) {
      const { entries, nextOffset } = await this.readDirectory(offset);
      ifds.push(await this.decodeIfd(offset, ifds.length, entries));
      offset = nextOffset;
    }
    return ifds;
  }

  async readEntries(offset: number): Promise<Map<number, RawEntry>> {
    return (await this.readDirectory(offset, false)).entries;
  }

  private async readDirectory(
    offset: number,
    guardLoops = true,
  ): Promise<{ entries: Map<number, RawEntry>; nextOffset: number }> {
    if (guardLoops) {
      if (this.visited.has(offset)) {
        throw new SlideError(this.path, `IFD chain loops back to offset ${offset}`, 'corrupt');
      }
      this.visited.add(offset);
    }
    const countSize = this.bigTiff ? 8 : 2;
    const entrySize = this.bigTiff ? 20 : 12;
    const offsetSize = this.bigTiff ? 8 : 4;
    if (offset + countSize > this.sizeBytes) {
      throw new SlideError(
        this.path,
        `truncated: IFD at offset ${offset} lies past the end of the file (size ${this.sizeBytes})`,
        'corrupt',
      );
    }
    const countBytes = await this.read(offset, countSize);
    const entryCount = this.bigTiff ? this.uint64(countBytes, 0) : this.uint16(countBytes, 0);
    if (entryCount === 0 || entryCount > maxEntriesPerIfd) {
      throw new SlideError(this.path, `IFD at offset ${offset} has an implausible entry count (${entryCount})`, 'corrupt');
    }
    const tableLength = entryCount * entrySize + offsetSize;
    if (offset + countSize + tableLength > this.sizeBytes) {
      throw new SlideError(
        this.path,
        `truncated: IFD at offset ${offset} extends past the end of the file (size ${this.sizeBytes})`,
        'corrupt',
      );
    }
    const table = await this.read(offset + countSize, tableLength);
    const entries = new Map<number, RawEntry>();
    const fieldSize = offsetSize;
    for (let i = 0; i < entryCount; i++) {
      const at = i * entrySize;
      const tag = this.uint16(table, at);
      const type = this.uint16(table, at + 2);
      const count = this.bigTiff ? this.uint64(table, at + 4) : this.uint32(table, at + 4);
      const fieldAt = at + (this.bigTiff ? 12 : 8);
      const inline = table.subarray(fieldAt, fieldAt + fieldSize);
      const typeSize = typeSizes[type];
      // Unknown field types cannot be sized; libtiff skips them too.
      if (typeSize === undefined) continue;
      const valueOffset =
        count * typeSize <= fieldSize ? null : this.bigTiff ? this.uint64(table, fieldAt) : this.uint32(table, fieldAt);
      entries.set(tag, { tag, type, count, inline, valueOffset });
    }
    const nextAt = entryCount * entrySize;
    const nextOffset = this.bigTiff ? this.uint64(table, nextAt) : this.uint32(table, nextAt);
    return { entries, nextOffset };
  }

  private async decodeIfd(offset: number, chainIndex: number, entries: Map<number, RawEntry>): Promise<TiffIfd> {
    const num = async (tag: number): Promise<number | null> => {
      const entry = entries.get(tag);
      if (!entry || entry.count === 0) return null;
      const values = await this.readNumbers(entry);
      return values[0] ?? null;
    };
    const width = await num(TiffTag.ImageWidth);
    const height = await num(TiffTag.ImageLength);
    if (!width || !height) {
      throw new SlideError(this.path, `image at offset ${offset} has no width or height`, 'corrupt');
    }
    const tileWidth = await num(TiffTag.TileWidth);
    const tileHeight = await num(TiffTag.TileLength);
    const tiled = tileWidth !== null || tileHeight !== null;
    if (tiled && (!tileWidth || !tileHeight)) {
      throw new SlideError(this.path, `image at offset ${offset} has an invalid tile size`, 'corrupt');
    }
    const samplesPerPixel = (await num(TiffTag.SamplesPerPixel)) ?? 1;
    const planarConfig = (await num(TiffTag.PlanarConfig)) ?? 1;
    const bitsEntry = entries.get(TiffTag.BitsPerSample);
    const bitsPerSample = bitsEntry ? Array.from(await this.readNumbers(bitsEntry)) : [1];
    const rowsPerStrip = Math.min((await num(TiffTag.RowsPerStrip)) ?? height, height) || height;
    const planes = planarConfig === 2 ? samplesPerPixel : 1;
    const chunksPerPlane =
      tileWidth && tileHeight
        ? Math.ceil(width / tileWidth) * Math.ceil(height / tileHeight)
        : Math.ceil(height / rowsPerStrip);
    const subsampling = entries.get(TiffTag.YCbCrSubsampling);
    const subsamplingValues = subsampling ? await this.readNumbers(subsampling) : null;
    const subIfdEntry = entries.get(TiffTag.SubIfds);
    const subIfdOffsets = subIfdEntry ? Array.from(await this.readNumbers(subIfdEntry)) : [];
    const subIfds: TiffIfd[] = [];
    for (const subOffset of subIfdOffsets) {
      // SubIFDs may themselves chain (a pyramid written as one SubIFD chain).
      let next = subOffset;
      while (next !== 0) {
        const sub = await this.readDirectory(next);
        subIfds.push(await this.decodeIfd(next, -1, sub.entries));
        next = sub.nextOffset;
      }
    }
    return {
      offset,
      chainIndex,
      width,
      height,
      tileWidth: tiled ? tileWidth : null,
      tileHeight: tiled ? tileHeight : null,
      rowsPerStrip,
      compression: (await num(TiffTag.Compression)) ?? 1,
      photometric: await num(TiffTag.Photometric),
      samplesPerPixel,
      bitsPerSample,
      planarConfig,
      predictor: (await num(TiffTag.Predictor)) ?? 1,
      sampleFormat: (await num(TiffTag.SampleFormat)) ?? 1,
      newSubfileType: (await num(TiffTag.NewSubfileType)) ?? 0,
      imageDescription: await this.readText(entries.get(TiffTag.ImageDescription)),
      jpegTables: await this.readRaw(entries.get(TiffTag.JpegTables)),
      ycbcrSubsampling:
        subsamplingValues && subsamplingValues.length >= 2
          ? [subsamplingValues[0] ?? 2, subsamplingValues[1] ?? 2]
          : null,
      xResolution: await num(TiffTag.XResolution),
      yResolution: await num(TiffTag.YResolution),
      resolutionUnit: (await num(TiffTag.ResolutionUnit)) ?? 2,
      subIfds,
      chunkCount: chunksPerPlane * planes,
    };
  }

  /** All values of a numeric entry; rationals become their quotient, 64-bit ones plain numbers. */
  async readNumbers(entry: RawEntry): Promise<Float64Array> {
    const bytes = await this.valueBytes(entry);
    const values = new Float64Array(entry.count);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = this.littleEndian;
    for (let i = 0; i < entry.count; i++) {
      switch (entry.type) {
        case 1: case 2: case 7: values[i] = view.getUint8(i); break;
        case 6: values[i] = view.getInt8(i); break;
        case 3: values[i] = view.getUint16(i * 2, le); break;
        case 8: values[i] = view.getInt16(i * 2, le); break;
        case 4: case 13: values[i] = view.getUint32(i * 4, le); break;
        case 9: values[i] = view.getInt32(i * 4, le); break;
        case 11: values[i] = view.getFloat32(i * 4, le); break;
        case 12: values[i] = view.getFloat64(i * 8, le); break;
        case 5: values[i] = view.getUint32(i * 8, le) / (view.getUint32(i * 8 + 4, le) || 1); break;
        case 10: values[i] = view.getInt32(i * 8, le) / (view.getInt32(i * 8 + 4, le) || 1); break;
        case 16: case 18: values[i] = toSafeNumber(this.path, view.getBigUint64(i * 8, le)); break;
        case 17: values[i] = Number(view.getBigInt64(i * 8, le)); break;
      }
    }
    return values;
  }

  private async readText(entry: RawEntry | undefined): Promise<string | null> {
    if (!entry) return null;
    const bytes = await this.valueBytes(entry);
    const end = bytes.indexOf(0);
    return bytes.toString('utf8', 0, end === -1 ? bytes.length : end);
  }

  private async readRaw(entry: RawEntry | undefined): Promise<Buffer | null> {
    if (!entry || entry.count === 0) return null;
    return Buffer.from(await this.valueBytes(entry));
  }

  private async valueBytes(entry: RawEntry): Promise<Buffer> {
    const length = entry.count * (typeSizes[entry.type] ?? 1);
    if (entry.valueOffset === null) return entry.inline.subarray(0, length);
    if (length > maxSmallValueBytes) {
      throw new SlideError(this.path, `tag ${entry.tag} is implausibly large (${length} bytes)`, 'corrupt');
    }
    if (entry.valueOffset + length > this.sizeBytes) {
      throw new SlideError(
        this.path,
        `truncated: tag ${entry.tag} data at offset ${entry.valueOffset} lies past the end of the file (size ${this.sizeBytes})`,
        'corrupt',
      );
    }
    return this.read(entry.valueOffset, length);
  }

  private read(offset: number, length: number): Promise<Buffer> {
    return readAt(this.path, this.handle, this.sizeBytes, offset, length);
  }

  private uint16(bytes: Buffer, at: number): number {
    return this.littleEndian ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at);
  }

  private uint32(bytes: Buffer, at: number): number {
    return this.littleEndian ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at);
  }

  private uint64(bytes: Buffer, at: number): number {
    return toSafeNumber(this.path, this.littleEndian ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at));
  }
}

function toSafeNumber(path: string, value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SlideError(path, `offset or count ${value} is too large to be real`, 'corrupt');
  }
  return Number(value);
}

async function readAt(
  path: string,
  handle: FileHandle,
  sizeBytes: number,
  offset: number,
  length: number,
): Promise<Buffer> {
  if (offset + length > sizeBytes) {
    throw new SlideError(
      path,
      `truncated: ${length} bytes at offset ${offset} lie past the end of the file (size ${sizeBytes})`,
      'corrupt',
    );
  }
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  try {
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
  } catch (error) {
    throw await readFailure(path, `read failed at offset ${offset}: ${(error as Error).message}`);
  }
  if (filled < length) {
    throw await readFailure(path, `file changed on disk: only ${filled} of ${length} bytes at offset ${offset} could be read`);
  }
  return buffer;
}

/** A failed read on an open file: tell the user when the file is simply gone. */
async function readFailure(path: string, reason: string): Promise<SlideError> {
  try {
    await stat(path);
  } catch {
    return new SlideError(path, 'file was removed while it was open', 'missing');
  }
  return new SlideError(path, reason, 'corrupt');
}

export function fileOpenError(path: string, error: unknown): SlideError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new SlideError(path, 'file not found', 'missing');
  if (code === 'EACCES' || code === 'EPERM') return new SlideError(path, 'permission denied', 'missing');
  if (code === 'EISDIR') return new SlideError(path, 'is a folder, not a slide file', 'unsupported');
  return new SlideError(path, `cannot open file: ${(error as Error).message}`, 'missing');
}
