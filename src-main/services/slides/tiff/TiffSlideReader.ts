import type { EncodedTile, RgbaImage, SlideLevel, SlideProperties, SlideReader } from '../SlideReader';
import { SlideError } from '../SlideError';
import { TiffFile } from './TiffFile';
import type { ChunkTable, TiffIfd } from './TiffFile';
import { Compression, decodeStoredChunk, unsupportedCompressionReason } from './tileDecoder';
import { selfContainedJpegTile } from './jpegTiles';
import { micrometresPerPixel, tiffResolutionUnit } from '../resolution';

/** An image cut into stored chunks: the tiles of a level, or the strips of a label. */
interface ChunkGrid {
  ifd: TiffIfd;
  table: ChunkTable;
  kind: 'tile' | 'strip';
  chunkWidth: number;
  chunkHeight: number;
  columns: number;
  rows: number;
}

interface TiffLevel extends SlideLevel {
  grid: ChunkGrid;
}

/** What a file's structure says about the slide inside it. */
interface SlideLayout {
  levelIfds: TiffIfd[];
  associated: Map<string, TiffIfd>;
  properties: SlideProperties;
}

/** Decoded RGBA tiles kept per reader so neighbouring region reads do not decode twice. */
const decodedTileCacheBytes = 64 * 1024 * 1024;
/** A region larger than this is a caller bug, not a view (1 GiB of RGBA). */
const maxRegionPixels = 256 * 1024 * 1024;

const photometricNames: Record<number, string> = { 3: 'palette', 4: 'mask', 5: 'CMYK', 8: 'CIELab' };

class DecodedTileCache {
  private readonly tiles = new Map<string, RgbaImage>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): RgbaImage | undefined {
    const tile = this.tiles.get(key);
    if (tile) {
      // Re-insert so Map order stays least-recently-used first.
      this.tiles.delete(key);
      this.tiles.set(key, tile);
    }
    return tile;
  }

  set(key: string, tile: RgbaImage): void {
    if (this.tiles.has(key)) return;
    this.tiles.set(key, tile);
    this.bytes += tile.data.length;
    for (const [oldKey, old] of this.tiles) {
      if (this.bytes <= this.maxBytes) break;
      this.tiles.delete(oldKey);
      this.bytes -= old.data.length;
    }
  }

  clear(): void {
    this.tiles.clear();
    this.bytes = 0;
  }
}

export class TiffSlideReader implements SlideReader {
  readonly kind = 'tiff' as const;
  private readonly cache = new DecodedTileCache(decodedTileCacheBytes);
  private readonly decoding = new Map<string, Promise<RgbaImage>>();

  readonly path: string;
  /** Plain copies without the chunk tables, safe to serialise or compare. */
  readonly levels: readonly SlideLevel[];

  constructor(
    private readonly file: TiffFile,
    private readonly tiffLevels: readonly TiffLevel[],
    private readonly associated: ReadonlyMap<string, TiffIfd>,
    readonly properties: SlideProperties,
  ) {
    this.path = file.path;
    this.levels = tiffLevels.map(({ width, height, downsample, tileWidth, tileHeight }) => ({
      width,
      height,
      downsample,
      tileWidth,
      tileHeight,
    }));
  }

  get associatedImageNames(): readonly string[] {
    return [...this.associated.keys()];
  }

  async readRegion(level: number, levelX: number, levelY: number, width: number, height: number): Promise<RgbaImage> {
    const tiffLevel = this.level(level);
    if (![levelX, levelY, width, height].every(Number.isInteger) || width <= 0 || height <= 0) {
      throw new RangeError(`invalid region ${levelX},${levelY} ${width}x${height}`);
    }
    if (width * height > maxRegionPixels) throw new RangeError(`region ${width}x${height} is too large to read at once`);
    const out: RgbaImage = { width, height, data: Buffer.alloc(width * height * 4) };
    await composeChunks(tiffLevel.grid, tiffLevel.width, tiffLevel.height, levelX, levelY, out, (column, row) =>
      this.decodedTile(level, tiffLevel.grid, column, row),
    );
    return out;
  }

  async readEncodedTile(level: number, column: number, row: number): Promise<EncodedTile | null> {
    const { grid } = this.level(level);
    checkTileIndex(grid, column, row);
    if (grid.ifd.compression !== Compression.Jpeg || grid.ifd.planarConfig === 2) return null;
    const [bytes] = await this.readChunkPlanes(grid, column, row, `level ${level}`);
    if (!bytes) return null;
    try {
      const data = selfContainedJpegTile(grid.ifd.jpegTables, bytes, grid.ifd.photometric);
      return { mimeType: 'image/jpeg', data, width: grid.chunkWidth, height: grid.chunkHeight };
    } catch (error) {
      throw new SlideError(this.path, `level ${level} tile (${column}, ${row}): ${(error as Error).message}`, 'corrupt');
    }
  }

  async readAssociatedImage(name: string): Promise<RgbaImage> {
    const ifd = this.associated.get(name);
    if (!ifd) {
      const present = this.associatedImageNames.join(', ') || 'none';
      throw new SlideError(this.path, `no associated image "${name}" (present: ${present})`, 'missing');
    }
    const grid = chunkGrid(ifd, await this.file.chunkTable(ifd));
    const out: RgbaImage = { width: ifd.width, height: ifd.height, data: Buffer.alloc(ifd.width * ifd.height * 4) };
    await composeChunks(grid, ifd.width, ifd.height, 0, 0, out, (column, row) =>
      this.decodeChunk(grid, column, row, `associated image "${name}"`),
    );
    return out;
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.file.close();
  }

  private level(level: number): TiffLevel {
    const found = Number.isInteger(level) ? this.tiffLevels[level] : undefined;
    if (!found) throw new RangeError(`level ${level} does not exist (slide has ${this.tiffLevels.length})`);
    return found;
  }

  private decodedTile(level: number, grid: ChunkGrid, column: number, row: number): Promise<RgbaImage> {
    const key = `${level}:${column}:${row}`;
    const cached = this.cache.get(key);
    if (cached) return Promise.resolve(cached);
    let pending = this.decoding.get(key);
    if (!pending) {
      pending = this.decodeChunk(grid, column, row, `level ${level}`);
      this.decoding.set(key, pending);
      pending
        .then((tile) => this.cache.set(key, tile))
        .catch(() => undefined)
        .finally(() => this.decoding.delete(key));
    }
    return pending;
  }

  private async decodeChunk(grid: ChunkGrid, column: number, row: number, what: string): Promise<RgbaImage> {
    const planes = await this.readChunkPlanes(grid, column, row, what);
    // The last strip holds only the rows left; tiles are always full size.
    const height = grid.kind === 'strip' ? Math.min(grid.chunkHeight, grid.ifd.height - row * grid.chunkHeight) : grid.chunkHeight;
    try {
      return await decodeStoredChunk(grid.ifd, grid.kind, grid.chunkWidth, height, planes);
    } catch (error) {
      throw new SlideError(
        this.path,
        `${what} ${grid.kind} (${column}, ${row}) cannot be decoded: ${(error as Error).message}`,
        'corrupt',
      );
    }
  }

  private readChunkPlanes(grid: ChunkGrid, column: number, row: number, what: string): Promise<Buffer[]> {
    const perPlane = grid.columns * grid.rows;
    const planes = grid.ifd.planarConfig === 2 ? grid.ifd.samplesPerPixel : 1;
    const reads: Promise<Buffer>[] = [];
    for (let plane = 0; plane < planes; plane++) {
      const index = plane * perPlane + row * grid.columns + column;
      const offset = grid.table.offsets[index] ?? 0;
      const byteCount = grid.table.byteCounts[index] ?? 0;
      const where = `${what} ${grid.kind} (${column}, ${row})`;
      if (byteCount === 0) throw new SlideError(this.path, `${where} is empty (byte count 0)`, 'corrupt');
      if (offset + byteCount > this.file.sizeBytes) {
        throw new SlideError(
          this.path,
          `truncated: ${where} at offset ${offset} lies past the end of the file (size ${this.file.sizeBytes})`,
          'corrupt',
        );
      }
      reads.push(this.file.readBytes(offset, byteCount));
    }
    return Promise.all(reads);
  }
}

function checkTileIndex(grid: ChunkGrid, column: number, row: number): void {
  if (!Number.isInteger(column) || !Number.isInteger(row) || column < 0 || row < 0 || column >= grid.columns || row >= grid.rows) {
    throw new RangeError(`tile (${column}, ${row}) is outside the ${grid.columns}x${grid.rows} tile grid`);
  }
}

function chunkGrid(ifd: TiffIfd, table: ChunkTable): ChunkGrid {
  if (ifd.tileWidth !== null && ifd.tileHeight !== null) {
    return {
      ifd,
      table,
      kind: 'tile',
      chunkWidth: ifd.tileWidth,
      chunkHeight: ifd.tileHeight,
      columns: Math.ceil(ifd.width / ifd.tileWidth),
      rows: Math.ceil(ifd.height / ifd.tileHeight),
    };
  }
  return {
    ifd,
    table,
    kind: 'strip',
    chunkWidth: ifd.width,
    chunkHeight: ifd.rowsPerStrip,
    columns: 1,
    rows: Math.ceil(ifd.height / ifd.rowsPerStrip),
  };
}

/**
 * Copies the chunks that overlap a rectangle of an image into `out`; pixels outside the
 * image stay transparent black. Chunks are decoded concurrently.
 */
async function composeChunks(
  grid: ChunkGrid,
  imageWidth: number,
  imageHeight: number,
  originX: number,
  originY: number,
  out: RgbaImage,
  decode: (column: number, row: number) => Promise<RgbaImage>,
): Promise<void> {
  const left = Math.max(originX, 0);
  const top = Math.max(originY, 0);
  const right = Math.min(originX + out.width, imageWidth);
  const bottom = Math.min(originY + out.height, imageHeight);
  if (left >= right || top >= bottom) return;
  const jobs: Promise<void>[] = [];
  for (let row = Math.floor(top / grid.chunkHeight); row * grid.chunkHeight < bottom; row++) {
    for (let column = Math.floor(left / grid.chunkWidth); column * grid.chunkWidth < right; column++) {
      jobs.push(
        decode(column, row).then((chunk) => {
          const chunkX = column * grid.chunkWidth;
          const chunkY = row * grid.chunkHeight;
          const x0 = Math.max(left, chunkX);
          const x1 = Math.min(right, chunkX + Math.min(grid.chunkWidth, chunk.width));
          const y0 = Math.max(top, chunkY);
          const y1 = Math.min(bottom, chunkY + Math.min(grid.chunkHeight, chunk.height));
          for (let y = y0; y < y1; y++) {
            const source = ((y - chunkY) * chunk.width + (x0 - chunkX)) * 4;
            const target = ((y - originY) * out.width + (x0 - originX)) * 4;
            chunk.data.copy(out.data, target, source, source + (x1 - x0) * 4);
          }
        }),
      );
    }
  }
  await Promise.all(jobs);
}

export async function openTiffSlide(path: string): Promise<TiffSlideReader> {
  const file = await TiffFile.open(path);
  try {
    const layout = describeSlide(file);
    for (const [index, ifd] of layout.levelIfds.entries()) checkDecodable(path, ifd, `level ${index}`);
    const levels = await Promise.all(layout.levelIfds.map((ifd, index) => loadLevel(file, ifd, index, layout.levelIfds)));
    const associated = new Map([...layout.associated].filter(([, ifd]) => decodableReason(ifd) === null));
    return new TiffSlideReader(file, levels, associated, layout.properties);
  } catch (error) {
    await file.close();
    throw error;
  }
}

async function loadLevel(file: TiffFile, ifd: TiffIfd, index: number, all: TiffIfd[]): Promise<TiffLevel> {
  const grid = chunkGrid(ifd, await file.chunkTable(ifd));
  // A partly copied file fails here, at open, rather than as grey holes while viewing.
  for (let i = 0; i < ifd.chunkCount; i++) {
    const end = (grid.table.offsets[i] ?? 0) + (grid.table.byteCounts[i] ?? 0);
    if (end > file.sizeBytes) {
      const tile = i % (grid.columns * grid.rows);
      throw new SlideError(
        file.path,
        `truncated: level ${index} tile (${tile % grid.columns}, ${Math.floor(tile / grid.columns)}) ends at byte ${end}, past the end of the file (size ${file.sizeBytes})`,
        'corrupt',
      );
    }
  }
  const base = all[0] ?? ifd;
  return {
    width: ifd.width,
    height: ifd.height,
    downsample: (base.width / ifd.width + base.height / ifd.height) / 2,
    tileWidth: grid.chunkWidth,
    tileHeight: grid.chunkHeight,
    grid,
  };
}

/** Why this reader cannot decode an image, or null when it can. */
function decodableReason(ifd: TiffIfd): string | null {
  const compressionReason = unsupportedCompressionReason(ifd.compression);
  if (compressionReason) return compressionReason;
  if (ifd.samplesPerPixel !== 1 && ifd.samplesPerPixel !== 3) {
    return `${ifd.samplesPerPixel} samples per pixel; only RGB (3) and greyscale (1) images are supported`;
  }
  if (ifd.bitsPerSample.some((bits) => bits !== 8)) {
    return `${ifd.bitsPerSample.join('/')} bits per sample; only 8-bit images are supported`;
  }
  if (ifd.sampleFormat !== 1) return `sample format ${ifd.sampleFormat}; only unsigned integer samples are supported`;
  const photometric = ifd.photometric;
  if (photometric !== null && ![0, 1, 2, 6].includes(photometric)) {
    return `${photometricNames[photometric] ?? `photometric ${photometric}`} images are not supported`;
  }
  return null;
}

function checkDecodable(path: string, ifd: TiffIfd, what: string): void {
  const reason = decodableReason(ifd);
  if (reason) throw new SlideError(path, `${what}: ${reason}`, 'unsupported');
}

function describeSlide(file: TiffFile): SlideLayout {
  const first = file.ifds[0];
  const description = first?.imageDescription ?? '';
  if (!file.ifds.some((ifd) => ifd.tileWidth !== null)) {
    throw new SlideError(file.path, 'not a tiled TIFF', 'unsupported');
  }
  if (description.startsWith('Aperio')) return describeAperio(file);
  if (/<(\w+:)?OME[\s>]/.test(description)) return describeOmeTiff(file, description);
  return describeGenericTiff(file);
}

function sortedLevels(ifds: TiffIfd[]): TiffIfd[] {
  const sorted = [...ifds].sort((a, b) => b.width - a.width);
  return sorted.filter((ifd, i) => i === 0 || ifd.width !== sorted[i - 1]?.width);
}

/** Reduced levels keep the level-0 aspect ratio up to the rounding of repeated halving. */
function sameAspect(base: TiffIfd, ifd: TiffIfd): boolean {
  const expectedHeight = (ifd.width * base.height) / base.width;
  return Math.abs(expectedHeight - ifd.height) <= 1 + base.height / base.width + ifd.height * 0.01;
}

function describeAperio(file: TiffFile): SlideLayout {
  const levelIfds: TiffIfd[] = [];
  const associated = new Map<string, TiffIfd>();
  for (const ifd of file.ifds) {
    if (ifd.tileWidth !== null) {
      levelIfds.push(ifd);
      continue;
    }
    const name = aperioAssociatedName(ifd);
    if (name && !associated.has(name)) associated.set(name, ifd);
  }
  const fields = aperioFields(file.ifds[0]?.imageDescription ?? '');
  const mpp = positiveNumber(fields.get('MPP'));
  return {
    levelIfds: sortedLevels(levelIfds),
    associated,
    properties: { vendor: 'aperio', mppX: mpp, mppY: mpp, objectivePower: positiveNumber(fields.get('AppMag')) },
  };
}

/** OpenSlide's rule: the stripped image right after level 0 is the thumbnail; the rest say what they are. */
function aperioAssociatedName(ifd: TiffIfd): string | null {
  if (ifd.chainIndex === 1) return 'thumbnail';
  const description = ifd.imageDescription ?? '';
  if (/\blabel\b/i.test(description)) return 'label';
  if (/\bmacro\b/i.test(description)) return 'macro';
  if (ifd.newSubfileType === 1) return 'label';
  if (ifd.newSubfileType === 9) return 'macro';
  return null;
}

/** "Aperio Image Library ...|AppMag = 20|MPP = 0.4990|..." as key/value pairs. */
function aperioFields(description: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of description.split('|').slice(1)) {
    const equals = part.indexOf('=');
    if (equals > 0) fields.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  return fields;
}

function describeGenericTiff(file: TiffFile): SlideLayout {
  // NewSubfileType bit 2 marks transparency masks, which are not pyramid levels.
  const tiled = file.ifds.filter((ifd) => ifd.tileWidth !== null && (ifd.newSubfileType & 4) === 0);
  const sorted = sortedLevels(tiled);
  const base = sorted[0];
  const levelIfds = base ? sorted.filter((ifd) => sameAspect(base, ifd)) : [];
  return {
    levelIfds,
    associated: new Map(),
    properties: {
      vendor: 'generic-tiff',
      mppX: resolutionMpp(base?.xResolution ?? null, base?.resolutionUnit ?? 1),
      mppY: resolutionMpp(base?.yResolution ?? null, base?.resolutionUnit ?? 1),
      objectivePower: null,
    },
  };
}

function resolutionMpp(resolution: number | null, unit: number): number | null {
  return micrometresPerPixel(resolution, tiffResolutionUnit(unit));
}

const omeUnitsToMicrons: Record<string, number> = {
  'µm': 1, 'μm': 1, um: 1, micron: 1, nm: 1e-3, 'Å': 1e-4, pm: 1e-6, mm: 1e3, cm: 1e4, m: 1e6,
};

function xmlAttribute(attributes: string, name: string): string | null {
  return new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`).exec(attributes)?.[1] ?? null;
}

function describeOmeTiff(file: TiffFile, xml: string): SlideLayout {
  const first = file.ifds[0];
  const levelIfds = first ? [first, ...first.subIfds].filter((ifd) => ifd.tileWidth !== null) : [];
  if (first?.tileWidth === null) throw new SlideError(file.path, 'not a tiled TIFF (OME-TIFF level 0 is stored in strips)', 'unsupported');
  const pixels = /<(?:\w+:)?Pixels\b([^>]*)>/.exec(xml)?.[1] ?? '';
  const physicalSize = (axis: 'X' | 'Y'): number | null => {
    const size = positiveNumber(xmlAttribute(pixels, `PhysicalSize${axis}`) ?? undefined);
    const scale = omeUnitsToMicrons[xmlAttribute(pixels, `PhysicalSize${axis}Unit`) ?? 'µm'];
    return size !== null && scale !== undefined ? size * scale : null;
  };
  const associated = new Map<string, TiffIfd>();
  const images = xml.matchAll(/<(?:\w+:)?Image\b([^>]*)>([\s\S]*?)<\/(?:\w+:)?Image>/g);
  for (const [index, image] of [...images].entries()) {
    const name = /label|macro|thumbnail/i.exec(xmlAttribute(image[1] ?? '', 'Name') ?? '')?.[0]?.toLowerCase();
    const tiffData = /<(?:\w+:)?TiffData\b([^>]*)>/.exec(image[2] ?? '')?.[1] ?? '';
    const ifdIndex = Number(xmlAttribute(tiffData, 'IFD') ?? NaN);
    const ifd = file.ifds[ifdIndex];
    if (index > 0 && name && ifd && ifd !== first && !associated.has(name)) associated.set(name, ifd);
  }
  return {
    levelIfds: sortedLevels(levelIfds),
    associated,
    properties: {
      vendor: 'ome-tiff',
      mppX: physicalSize('X'),
      mppY: physicalSize('Y'),
      objectivePower: positiveNumber(/NominalMagnification\s*=\s*"([^"]*)"/.exec(xml)?.[1]),
    },
  };
}

function positiveNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  const value = Number.parseFloat(text);
  return Number.isFinite(value) && value > 0 ? value : null;
}
