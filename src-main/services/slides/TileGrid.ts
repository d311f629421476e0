import sharp from 'sharp';
import type { OverlayOptions, Sharp } from 'sharp';
import type { SlideLevel, SlideReader } from './SlideReader';
import type { TileCache } from './TileCache';

/** What OpenSeadragon needs to build a tile source (Deep Zoom layout, overlap 0). */
export interface TilePyramid {
  width: number;
  height: number;
  tileSize: number;
  /** Lowest level served (0: every level down to 1×1 pixel). */
  minLevel: number;
  /** The full-resolution level: ceil(log2(max(width, height))). */
  maxLevel: number;
}

/**
 * 'stored': the file's own JPEG bytes; 'rendered': decoded, resampled and encoded here;
 * 'cache': served from the TileCache (originally one of the two).
 */
export type TileOrigin = 'stored' | 'rendered' | 'cache';

export interface GridTile {
  data: Buffer;
  mimeType: 'image/jpeg';
  source: TileOrigin;
}

/** A tile address outside the pyramid; the HTTP layer answers 404. */
export class TileOutOfRangeError extends Error {
  override readonly name = 'TileOutOfRangeError';
  constructor(level: number, column: number, row: number) {
    super(`no tile at level ${level}, column ${column}, row ${row}`);
  }
}

const DEFAULT_TILE_SIZE_PX = 256;
const MIN_STORED_TILE_SIZE_PX = 128;
const MAX_STORED_TILE_SIZE_PX = 1024;
/** Relative tolerance when matching a level's downsample (pyramids round odd sizes). */
const DOWNSAMPLE_TOLERANCE = 0.01;
/**
 * Most native pixels read for one tile (16 MiB of RGBA): up to 8× downsampling per side for
 * 256-px tiles. Coarser tiles are built from finer tiles instead.
 */
const MAX_SOURCE_PIXELS_PER_TILE = 2048 * 2048;
const JPEG_QUALITY = 90;
const WHITE = { r: 255, g: 255, b: 255 };

/**
 * The OpenSeadragon (Deep Zoom) tile pyramid over any SlideReader. Level L has downsample
 * 2^(maxLevel - L). Tiles that coincide with a stored JPEG tile are sent as stored; all others
 * are rendered from the closest native level at or above the requested resolution, or, far
 * below the coarsest native level, from the four tiles of the next finer level.
 */
export class TileGrid {
  readonly tileSize: number;
  readonly maxLevel: number;
  readonly minLevel: number;
  /** One promise per tile being produced, so concurrent requests share the work. */
  private readonly pending = new Map<string, Promise<GridTile>>();

  constructor(
    private readonly reader: SlideReader,
    private readonly cache: TileCache | null = null,
    private readonly cacheKeyPrefix = '',
  ) {
    const level0 = reader.levels[0];
    if (!level0) throw new Error(`${reader.path}: the slide has no levels`);
    this.tileSize = chooseTileSize(reader.levels);
    this.maxLevel = Math.ceil(Math.log2(Math.max(level0.width, level0.height, 1)));
    // Every level can be served: very low ones are built from finer tiles.
    this.minLevel = 0;
  }

  describe(): TilePyramid {
    const level0 = this.reader.levels[0]!;
    return {
      width: level0.width,
      height: level0.height,
      tileSize: this.tileSize,
      minLevel: this.minLevel,
      maxLevel: this.maxLevel,
    };
  }

  /** Pixel size of an OSD level. */
  levelSize(level: number): { width: number; height: number } {
    const level0 = this.reader.levels[0]!;
    const downsample = this.downsampleOf(level);
    return { width: Math.ceil(level0.width / downsample), height: Math.ceil(level0.height / downsample) };
  }

  async readTile(level: number, column: number, row: number): Promise<GridTile> {
    this.assertInRange(level, column, row);
    const key = `${this.cacheKeyPrefix}/${level}/${column}_${row}`;
    const cached = this.cache?.get(key);
    if (cached) return { data: cached.data, mimeType: cached.mimeType, source: 'cache' };

    const running = this.pending.get(key);
    if (running) return running;
    const producing = this.produceTile(level, column, row).then((tile) => {
      this.cache?.set(key, { data: tile.data, mimeType: tile.mimeType });
      return tile;
    });
    this.pending.set(key, producing);
    try {
      return await producing;
    } finally {
      this.pending.delete(key);
    }
  }

  private async produceTile(level: number, column: number, row: number): Promise<GridTile> {
    const downsample = this.downsampleOf(level);
    const nativeIndex = bestNativeLevel(this.reader.levels, downsample);
    const native = this.reader.levels[nativeIndex]!;
    const size = this.levelSize(level);
    const tileWidth = Math.min(this.tileSize, size.width - column * this.tileSize);
    const tileHeight = Math.min(this.tileSize, size.height - row * this.tileSize);

    const sameScale = Math.abs(native.downsample - downsample) <= downsample * DOWNSAMPLE_TOLERANCE;
    if (sameScale) {
      const stored = await this.storedTile(nativeIndex, native, column, row);
      if (stored) return stored;
    }

    // The tile's rectangle in the native level's pixels. At the same scale the grids coincide
    // exactly; otherwise scale by the ratio of downsamples and cover it with whole pixels.
    const scale = sameScale ? 1 : downsample / native.downsample;
    const left = Math.floor(column * this.tileSize * scale);
    const top = Math.floor(row * this.tileSize * scale);
    const width = Math.ceil((column * this.tileSize + tileWidth) * scale) - left;
    const height = Math.ceil((row * this.tileSize + tileHeight) * scale) - top;
    if (width * height > MAX_SOURCE_PIXELS_PER_TILE) {
      return this.renderFromFinerTiles(level, column, row, tileWidth, tileHeight);
    }

    const region = await this.reader.readRegion(nativeIndex, left, top, width, height);
    let image = sharp(region.data, { raw: { width: region.width, height: region.height, channels: 4 } })
      // Outside the slide is transparent; a viewer shows white glass there.
      .flatten({ background: WHITE });
    if (region.width !== tileWidth || region.height !== tileHeight) {
      image = image.resize(tileWidth, tileHeight, { fit: 'fill' });
    }
    return this.encoded(image);
  }

  /**
   * Far below the coarsest native level (a slide without a pyramid), one tile would need a
   * huge native read. Instead it is made from the (up to) four tiles of the next finer OSD
   * level, which come through readTile and so are cached and shared, like a Deep Zoom
   * generator builds its pyramid. Children are read one after another: reading them all at
   * once would fan out into thousands of native reads for the lowest levels.
   */
  private async renderFromFinerTiles(level: number, column: number, row: number, tileWidth: number, tileHeight: number): Promise<GridTile> {
    const finer = this.levelSize(level + 1);
    const canvasWidth = Math.min(2 * this.tileSize, finer.width - 2 * column * this.tileSize);
    const canvasHeight = Math.min(2 * this.tileSize, finer.height - 2 * row * this.tileSize);
    const children: OverlayOptions[] = [];
    for (const dy of [0, 1]) {
      for (const dx of [0, 1]) {
        const childColumn = 2 * column + dx;
        const childRow = 2 * row + dy;
        if (childColumn * this.tileSize >= finer.width || childRow * this.tileSize >= finer.height) continue;
        const child = await this.readTile(level + 1, childColumn, childRow);
        children.push({ input: child.data, left: dx * this.tileSize, top: dy * this.tileSize });
      }
    }
    // sharp composites after resizing, so compositing and resizing are two pipelines.
    const canvas = await sharp({ create: { width: canvasWidth, height: canvasHeight, channels: 3, background: WHITE } })
      .composite(children)
      .raw()
      .toBuffer({ resolveWithObject: true });
    // Compositing adds an alpha channel; the raw layout must say so.
    const { width, height, channels } = canvas.info;
    const image = sharp(canvas.data, { raw: { width, height, channels } })
      .flatten({ background: WHITE })
      .resize(tileWidth, tileHeight, { fit: 'fill' });
    return this.encoded(image);
  }

  private async encoded(image: Sharp): Promise<GridTile> {
    const data = await image.jpeg({ quality: JPEG_QUALITY }).toBuffer();
    return { data, mimeType: 'image/jpeg', source: 'rendered' };
  }

  /**
   * The stored JPEG when the OSD tile is exactly one full stored tile. Edge tiles are not
   * passed through: stored ones are padded to the full tile size and the viewer would stretch
   * the padding into the picture.
   */
  private async storedTile(nativeIndex: number, native: SlideLevel, column: number, row: number): Promise<GridTile | null> {
    if (native.tileWidth !== this.tileSize || native.tileHeight !== this.tileSize) return null;
    if ((column + 1) * this.tileSize > native.width || (row + 1) * this.tileSize > native.height) return null;
    const stored = await this.reader.readEncodedTile(nativeIndex, column, row);
    if (!stored || stored.width !== this.tileSize || stored.height !== this.tileSize) return null;
    return { data: stored.data, mimeType: stored.mimeType, source: 'stored' };
  }

  private downsampleOf(level: number): number {
    return 2 ** (this.maxLevel - level);
  }

  private assertInRange(level: number, column: number, row: number): void {
    const whole = Number.isInteger(level) && Number.isInteger(column) && Number.isInteger(row);
    if (!whole || level < this.minLevel || level > this.maxLevel || column < 0 || row < 0) {
      throw new TileOutOfRangeError(level, column, row);
    }
    const size = this.levelSize(level);
    if (column * this.tileSize >= size.width || row * this.tileSize >= size.height) {
      throw new TileOutOfRangeError(level, column, row);
    }
  }
}

/**
 * The stored tile size when every level has the same kind of square tiles in a size a viewer
 * handles well, so most tiles can be passed through; 256 otherwise.
 */
export function chooseTileSize(levels: readonly SlideLevel[]): number {
  const first = levels[0];
  if (!first) return DEFAULT_TILE_SIZE_PX;
  const usable = levels.every(
    (level) =>
      level.tileWidth === level.tileHeight &&
      level.tileWidth >= MIN_STORED_TILE_SIZE_PX &&
      level.tileWidth <= MAX_STORED_TILE_SIZE_PX,
  );
  return usable ? first.tileWidth : DEFAULT_TILE_SIZE_PX;
}

/** The native level with the largest downsample not coarser than wanted (level 0 at worst). */
export function bestNativeLevel(levels: readonly SlideLevel[], downsample: number): number {
  let best = 0;
  levels.forEach((level, index) => {
    if (level.downsample <= downsample * (1 + DOWNSAMPLE_TOLERANCE) && level.downsample > levels[best]!.downsample) {
      best = index;
    }
  });
  return best;
}
