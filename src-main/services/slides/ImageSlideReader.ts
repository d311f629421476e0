import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { Metadata } from 'sharp';
import type { EncodedTile, RgbaImage, SlideLevel, SlideProperties, SlideReader } from './SlideReader';
import { SlideError } from './SlideError';
import { micrometresPerPixel } from './resolution';

/** Beyond this the whole image would not sit comfortably in memory as RGBA (1.6 GB). */
const maxImagePixels = 20_000 * 20_000;
const gridTileSizePx = 256;

/**
 * A plain image (PNG, JPEG, single-level TIFF, ...) shown as a one-level slide. These are
 * small crops such as MIDOG region images, so the decoded RGBA is kept whole.
 */
export class ImageSlideReader implements SlideReader {
  readonly kind = 'image' as const;
  readonly associatedImageNames: readonly string[] = [];
  readonly levels: readonly SlideLevel[];
  private decoded: Promise<RgbaImage> | null = null;

  constructor(
    readonly path: string,
    width: number,
    height: number,
    readonly properties: SlideProperties,
  ) {
    this.levels = [{ width, height, downsample: 1, tileWidth: gridTileSizePx, tileHeight: gridTileSizePx }];
  }

  async readRegion(level: number, levelX: number, levelY: number, width: number, height: number): Promise<RgbaImage> {
    if (level !== 0) throw new RangeError(`level ${level} does not exist (image has 1)`);
    if (![levelX, levelY, width, height].every(Number.isInteger) || width <= 0 || height <= 0) {
      throw new RangeError(`invalid region ${levelX},${levelY} ${width}x${height}`);
    }
    const image = await this.pixels();
    const out: RgbaImage = { width, height, data: Buffer.alloc(width * height * 4) };
    const left = Math.max(levelX, 0);
    const right = Math.min(levelX + width, image.width);
    const top = Math.max(levelY, 0);
    const bottom = Math.min(levelY + height, image.height);
    for (let y = top; y < bottom && left < right; y++) {
      const source = (y * image.width + left) * 4;
      image.data.copy(out.data, ((y - levelY) * width + (left - levelX)) * 4, source, source + (right - left) * 4);
    }
    return out;
  }

  async readEncodedTile(): Promise<EncodedTile | null> {
    return null;
  }

  async readAssociatedImage(name: string): Promise<RgbaImage> {
    throw new SlideError(this.path, `no associated image "${name}" (plain images have none)`, 'missing');
  }

  async close(): Promise<void> {
    this.decoded = null;
  }

  /** Decodes on first use; a failed decode is retried next time. */
  private pixels(): Promise<RgbaImage> {
    if (!this.decoded) {
      const decoding = decodeImage(this.path);
      decoding.catch(() => {
        if (this.decoded === decoding) this.decoded = null;
      });
      this.decoded = decoding;
    }
    return this.decoded;
  }
}

async function decodeImage(path: string): Promise<RgbaImage> {
  try {
    const { data, info } = await sharp(path, { limitInputPixels: maxImagePixels })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data };
  } catch (error) {
    throw await readFailure(path, error);
  }
}

async function readFailure(path: string, error: unknown): Promise<SlideError> {
  try {
    await stat(path);
  } catch {
    return new SlideError(path, 'file not found', 'missing');
  }
  return new SlideError(path, `image cannot be decoded: ${(error as Error).message}`, 'corrupt');
}

/** sharp reports an image's density in dots per inch. */
function densityMpp(density: number | undefined): number | null {
  return micrometresPerPixel(density, 'inch');
}

export async function openImageSlide(path: string): Promise<ImageSlideReader> {
  let sizeBytes: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new SlideError(path, 'is a folder, not an image file', 'unsupported');
    sizeBytes = info.size;
  } catch (error) {
    if (error instanceof SlideError) throw error;
    throw new SlideError(path, 'file not found', 'missing');
  }
  if (sizeBytes === 0) throw new SlideError(path, 'empty file (0 bytes)', 'corrupt');
  let metadata: Metadata;
  try {
    // sharp's default pixel limit (16383 x 16383) applies even to metadata; our own limit is below.
    metadata = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new SlideError(path, `not an image sharp can read: ${(error as Error).message}`, 'corrupt');
  }
  const { width, height } = metadata;
  if (!width || !height) throw new SlideError(path, 'image has no width or height', 'corrupt');
  if (width * height > maxImagePixels) {
    throw new SlideError(
      path,
      `image is ${width}x${height} pixels, too large to open as a plain image (limit 20000x20000); convert it to a pyramidal tiled TIFF`,
      'unsupported',
    );
  }
  const mpp = densityMpp(metadata.density);
  return new ImageSlideReader(path, width, height, { vendor: 'image', mppX: mpp, mppY: mpp, objectivePower: null });
}
