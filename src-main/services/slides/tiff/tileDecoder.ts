import sharp from 'sharp';
import type { RgbaImage } from '../SlideReader';
import type { TiffIfd } from './TiffFile';
import { selfContainedJpegTile } from './jpegTiles';

/** The fields of an IFD that say how its stored chunks are encoded. */
export type StoredEncoding = Pick<
  TiffIfd,
  | 'compression'
  | 'photometric'
  | 'samplesPerPixel'
  | 'bitsPerSample'
  | 'planarConfig'
  | 'predictor'
  | 'jpegTables'
  | 'ycbcrSubsampling'
>;

/** How the stored chunks cut up an image. */
export type ChunkLayout =
  | { kind: 'tiles'; tileWidth: number; tileHeight: number }
  | { kind: 'strips'; rowsPerStrip: number };

export const Compression = {
  None: 1,
  Lzw: 5,
  OldJpeg: 6,
  Jpeg: 7,
  AdobeDeflate: 8,
  PackBits: 32773,
  Deflate: 32946,
  Zstd: 50000,
  WebP: 50001,
} as const;

/**
 * Compressions libvips (inside sharp) decodes from a TIFF, besides JPEG which we merge
 * ourselves. sharp's bundled libtiff is built without ZSTD, so that one is refused up front.
 */
const libvipsCompressions = new Set<number>([
  Compression.None,
  Compression.Lzw,
  Compression.AdobeDeflate,
  Compression.Deflate,
  Compression.PackBits,
  Compression.WebP,
]);

const jpeg2000Compressions = new Set([33003, 33005, 34712]);

const compressionNames: Record<number, string> = {
  2: 'CCITT RLE',
  3: 'CCITT fax 3',
  4: 'CCITT fax 4',
  6: 'old-style JPEG',
  34676: 'SGI LogLuv',
  34887: 'LERC',
  34925: 'LZMA',
  50000: 'ZSTD',
  50002: 'JPEG XL',
  52546: 'JPEG XL',
};

/** Why tiles with this compression cannot be decoded here, or null when they can. */
export function unsupportedCompressionReason(compression: number): string | null {
  if (compression === Compression.Jpeg || libvipsCompressions.has(compression)) return null;
  if (jpeg2000Compressions.has(compression)) return 'JPEG 2000 tiles need OpenSlide';
  const name = compressionNames[compression];
  return `compression ${compression}${name ? ` (${name})` : ''} is not supported by the built-in reader`;
}

/** Decodes any image sharp understands into straight 8-bit sRGB RGBA. */
async function decodeToRgba(input: Buffer): Promise<RgbaImage> {
  // failOn 'error': like browsers, show a tile with minor JPEG damage rather than none.
  const { data, info } = await sharp(input, { failOn: 'error', limitInputPixels: false })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`decoder produced ${info.channels} channels, expected 4`);
  return { width: info.width, height: info.height, data };
}

export function decodeJpeg(jpeg: Buffer): Promise<RgbaImage> {
  return decodeToRgba(jpeg);
}

/**
 * Decodes one stored tile or strip. `planes` holds one chunk, or one per sample for planar
 * images; a strip's height is its own row count (the last strip may be shorter). JPEG chunks
 * are decoded as the self-contained JPEG a browser would get.
 */
export function decodeStoredChunk(
  encoding: StoredEncoding,
  kind: 'tile' | 'strip',
  width: number,
  height: number,
  planes: Buffer[],
): Promise<RgbaImage> {
  const [first] = planes;
  if (encoding.compression === Compression.Jpeg && planes.length === 1 && first) {
    return decodeJpeg(selfContainedJpegTile(encoding.jpegTables, first, encoding.photometric));
  }
  const layout: ChunkLayout =
    kind === 'tile' ? { kind: 'tiles', tileWidth: width, tileHeight: height } : { kind: 'strips', rowsPerStrip: height };
  return decodeToRgba(buildMiniTiff(width, height, layout, encoding, planes));
}

interface TagValue {
  tag: number;
  /** 3 = SHORT, 4 = LONG, 7 = UNDEFINED. */
  type: 3 | 4 | 7;
  values: readonly number[] | Uint8Array;
}

/**
 * A classic little-endian TIFF holding one image made of the given chunks, so that libtiff
 * (through sharp) can undo LZW, Deflate, predictors and the rest for us.
 */
export function buildMiniTiff(
  width: number,
  height: number,
  layout: ChunkLayout,
  encoding: StoredEncoding,
  chunks: Buffer[],
): Buffer {
  const samples = encoding.samplesPerPixel;
  const photometric = encoding.photometric ?? (samples >= 3 ? 2 : 1);
  const bits = Array.from({ length: samples }, (_, i) => encoding.bitsPerSample[i] ?? encoding.bitsPerSample[0] ?? 8);
  const tiled = layout.kind === 'tiles';
  // Offsets are filled in once the layout of the file is known.
  const chunkOffsets = chunks.map(() => 0);
  const tags: TagValue[] = [
    { tag: 256, type: 4, values: [width] },
    { tag: 257, type: 4, values: [height] },
    { tag: 258, type: 3, values: bits },
    { tag: 259, type: 3, values: [encoding.compression] },
    { tag: 262, type: 3, values: [photometric] },
    ...(tiled ? [] : [{ tag: 273, type: 4 as const, values: chunkOffsets }]),
    { tag: 277, type: 3, values: [samples] },
    ...(tiled
      ? []
      : [
          { tag: 278, type: 4 as const, values: [layout.rowsPerStrip] },
          { tag: 279, type: 4 as const, values: chunks.map((chunk) => chunk.length) },
        ]),
    { tag: 284, type: 3, values: [encoding.planarConfig] },
    ...(encoding.predictor !== 1 ? [{ tag: 317, type: 3 as const, values: [encoding.predictor] }] : []),
    ...(tiled
      ? [
          { tag: 322, type: 4 as const, values: [layout.tileWidth] },
          { tag: 323, type: 4 as const, values: [layout.tileHeight] },
          { tag: 324, type: 4 as const, values: chunkOffsets },
          { tag: 325, type: 4 as const, values: chunks.map((chunk) => chunk.length) },
        ]
      : []),
    ...(encoding.jpegTables ? [{ tag: 347, type: 7 as const, values: encoding.jpegTables }] : []),
    ...(encoding.ycbcrSubsampling && photometric === 6
      ? [{ tag: 530, type: 3 as const, values: encoding.ycbcrSubsampling }]
      : []),
  ];

  const ifdOffset = 8;
  const ifdLength = 2 + tags.length * 12 + 4;
  const valueSize = (tag: TagValue): number => tag.values.length * (tag.type === 3 ? 2 : tag.type === 4 ? 4 : 1);
  let extraLength = 0;
  for (const tag of tags) {
    const size = valueSize(tag);
    if (size > 4) extraLength += size + (size % 2);
  }
  const dataStart = ifdOffset + ifdLength + extraLength;
  let chunkAt = dataStart;
  chunks.forEach((chunk, i) => {
    chunkOffsets[i] = chunkAt;
    chunkAt += chunk.length;
  });

  const out = Buffer.alloc(chunkAt);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(ifdOffset, 4);
  out.writeUInt16LE(tags.length, ifdOffset);
  let extraAt = ifdOffset + ifdLength;
  tags.forEach((tag, i) => {
    const entryAt = ifdOffset + 2 + i * 12;
    out.writeUInt16LE(tag.tag, entryAt);
    out.writeUInt16LE(tag.type, entryAt + 2);
    out.writeUInt32LE(tag.values.length, entryAt + 4);
    const size = valueSize(tag);
    let valueAt = entryAt + 8;
    if (size > 4) {
      out.writeUInt32LE(extraAt, entryAt + 8);
      valueAt = extraAt;
      extraAt += size + (size % 2);
    }
    writeValues(out, valueAt, tag);
  });
  out.writeUInt32LE(0, ifdOffset + 2 + tags.length * 12);
  chunks.forEach((chunk, i) => chunk.copy(out, chunkOffsets[i] ?? 0));
  return out;
}

function writeValues(out: Buffer, at: number, tag: TagValue): void {
  const values = tag.values;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? 0;
    if (tag.type === 3) out.writeUInt16LE(value, at + i * 2);
    else if (tag.type === 4) out.writeUInt32LE(value, at + i * 4);
    else out.writeUInt8(value, at + i);
  }
}
