import sharp from 'sharp';
import type { SlideLevel } from './SlideReader';
import type { SlideLibrary } from './SlideLibrary';
import { bestNativeLevel } from './TileGrid';

/** Output sizes and downsamples a crop may have. */
export const CROP_LIMITS = { minSize: 16, maxSize: 1024, minDownsample: 0.25, maxDownsample: 64 } as const;
/** Most native pixels read for one crop (64 MiB of RGBA). */
const MAX_CROP_SOURCE_PIXELS = 4096 * 4096;
const CROP_JPEG_QUALITY = 88;

/** A crop that is not allowed (size, downsample, too many pixels to read); nothing was read. */
export class CropRequestError extends Error {}

/** Where a crop comes from: a rectangle of one native level, in that level's pixels. */
export interface CropSource {
  level: number;
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The native region for a square crop of `size` pixels centred on the level-0 point (x, y) at
 * `downsample` level-0 pixels per crop pixel: the coarsest native level not coarser than wanted
 * (as the tile grid chooses), covered with whole pixels.
 */
export function cropSource(levels: readonly SlideLevel[], x: number, y: number, size: number, downsample: number): CropSource {
  const { minSize, maxSize, minDownsample, maxDownsample } = CROP_LIMITS;
  if (!Number.isInteger(size) || size < minSize || size > maxSize) {
    throw new CropRequestError(`crop size must be ${minSize} to ${maxSize} pixels (got ${size})`);
  }
  if (!(downsample >= minDownsample && downsample <= maxDownsample)) {
    throw new CropRequestError(`crop downsample must be ${minDownsample} to ${maxDownsample} level-0 pixels per crop pixel (got ${downsample})`);
  }
  const level = bestNativeLevel(levels, downsample);
  const scale = 1 / levels[level]!.downsample;
  const half = (size * downsample) / 2;
  const left = Math.floor((x - half) * scale);
  const top = Math.floor((y - half) * scale);
  const width = Math.max(1, Math.ceil((x + half) * scale) - left);
  const height = Math.max(1, Math.ceil((y + half) * scale) - top);
  if (width * height > MAX_CROP_SOURCE_PIXELS) {
    throw new CropRequestError(`a ${size}-pixel crop at downsample ${downsample} would read ${width} × ${height} pixels; ask for a smaller size or downsample`);
  }
  return { level, left, top, width, height };
}

/** The crop as JPEG, read with the slide reader's readRegion; outside the slide is white. */
export async function readCellCrop(library: SlideLibrary, slideId: number, x: number, y: number, size: number, downsample: number): Promise<Buffer> {
  const source = cropSource(library.get(slideId).levels, x, y, size, downsample);
  const region = await library.readRegion(slideId, source.level, source.left, source.top, source.width, source.height);
  let picture = sharp(region.data, { raw: { width: region.width, height: region.height, channels: 4 } }).flatten({ background: '#ffffff' });
  if (region.width !== size || region.height !== size) picture = picture.resize(size, size, { fit: 'fill' });
  return picture.jpeg({ quality: CROP_JPEG_QUALITY }).toBuffer();
}
