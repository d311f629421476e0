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

/** Resampling kernels a model's preprocessing may name (timm: 'bicubic', 'bilinear', ...). */
export type PatchInterpolation = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos';

const PATCH_KERNELS: Record<PatchInterpolation, 'nearest' | 'linear' | 'cubic' | 'lanczos3'> = {
  nearest: 'nearest',
  bilinear: 'linear',
  bicubic: 'cubic',
  lanczos: 'lanczos3',
};

/** A model's input patch: `size` × `size` RGB pixels (row-major, interleaved) and where it came from. */
export interface ModelPatch {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
  readonly source: CropSource;
  /** Level-0 pixels per patch pixel. */
  readonly downsample: number;
}

/**
 * The square patch a model sees around the level-0 point (x, y): `size` pixels at
 * `downsample` level-0 pixels per patch pixel (the model's µm per pixel over the slide's),
 * read from the best native level and resized with `interpolation`; outside the slide is white.
 * The patch starts at the nearest whole source pixel to its exact corner (≤ half a source pixel off).
 */
export async function readModelPatch(
  library: SlideLibrary,
  slideId: number,
  x: number,
  y: number,
  width: number,
  height: number,
  downsample: number,
  interpolation: PatchInterpolation,
): Promise<ModelPatch> {
  const levels = library.get(slideId).levels;
  const level = bestNativeLevel(levels, downsample);
  const scale = 1 / levels[level]!.downsample;
  const extentX = Math.max(1, Math.round(width * downsample * scale));
  const extentY = Math.max(1, Math.round(height * downsample * scale));
  const left = Math.round((x - (width * downsample) / 2) * scale);
  const top = Math.round((y - (height * downsample) / 2) * scale);
  if (extentX * extentY > MAX_CROP_SOURCE_PIXELS) {
    throw new CropRequestError(`a ${width} × ${height} patch at downsample ${downsample} would read ${extentX} × ${extentY} pixels`);
  }
  const source: CropSource = { level, left, top, width: extentX, height: extentY };
  const region = await library.readRegion(slideId, level, left, top, extentX, extentY);
  let picture = sharp(region.data, { raw: { width: region.width, height: region.height, channels: 4 } }).flatten({ background: '#ffffff' });
  if (extentX !== width || extentY !== height) picture = picture.resize(width, height, { fit: 'fill', kernel: PATCH_KERNELS[interpolation] });
  const { data, info } = await picture.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new CropRequestError(`the patch came out ${info.width} × ${info.height} × ${info.channels}, not ${width} × ${height} × 3`);
  }
  return { width, height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), source, downsample };
}
