import { UserFacingError } from '../../contract/errors';
import type { ModelInfo, Precision } from '../../contract/modelsSchemas';
import type { PatchInterpolation } from '../slides/cellCrop';

/** µm per pixel used when a model does not state one: 20× scans, where most pathology models were trained. */
export const DEFAULT_UM_PER_PIXEL = 0.5;
/** mean/std used when a model does not state them: ImageNet's, timm's default. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** How patches are cut and normalised for one model; `key` names them in the cache. */
export interface PatchParameters {
  /** Model pixels across and down (most models take squares; the PaddleOCR classifier 192 × 48). */
  readonly width: number;
  readonly height: number;
  readonly umPerPixel: number;
  readonly interpolation: PatchInterpolation;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly key: string;
}

const INTERPOLATIONS: readonly PatchInterpolation[] = ['nearest', 'bilinear', 'bicubic', 'lanczos'];

function triple(values: readonly number[] | null, fallback: readonly [number, number, number]): readonly [number, number, number] {
  return values && values.length === 3 ? [values[0]!, values[1]!, values[2]!] : fallback;
}

/** The model's patch parameters from its registered configuration, with the stated defaults. */
export function patchParameters(model: Pick<ModelInfo, 'name' | 'config'>): PatchParameters {
  const { config } = model;
  const [, channels, height, width] = config.inputShape;
  if (config.inputShape.length !== 4 || channels !== 3 || height === undefined || width === undefined || height < 1 || width < 1) {
    throw new UserFacingError('invalid-argument', `model "${model.name}" takes input ${JSON.stringify(config.inputShape)}; embeddings need RGB images [batch, 3, height, width]`);
  }
  const asked = (config.interpolation ?? 'bicubic').toLowerCase();
  const interpolation = INTERPOLATIONS.find((name) => asked.startsWith(name)) ?? 'bicubic';
  const umPerPixel = config.umPerPixel && config.umPerPixel > 0 ? config.umPerPixel : DEFAULT_UM_PER_PIXEL;
  const mean = triple(config.mean, IMAGENET_MEAN);
  const std = triple(config.std, IMAGENET_STD);
  const size = width === height ? `${height}` : `${width}x${height}`;
  const key = `size=${size};mpp=${umPerPixel};interp=${interpolation};mean=${mean.join(',')};std=${std.join(',')}`;
  return { width, height, umPerPixel, interpolation, mean, std, key };
}

/** The model's cache key: its weights hash, the output used as the embedding, and the precision it ran in. */
export function modelKey(model: Pick<ModelInfo, 'fileHash' | 'embeddingOutput'>, precision: Precision = 'float32'): string {
  // float32 keys keep their original form, so caches from before half precision stay valid.
  return precision === 'float32' ? `${model.fileHash}:${model.embeddingOutput}` : `${model.fileHash}:${model.embeddingOutput}:${precision}`;
}

/**
 * Writes an interleaved RGB patch into `target` (NCHW float32) at image `index`:
 * (value / 255 − mean[c]) / std[c].
 */
export function normaliseInto(
  target: Float32Array,
  index: number,
  rgb: Uint8Array,
  width: number,
  height: number,
  mean: readonly number[],
  std: readonly number[],
): void {
  const plane = width * height;
  if (rgb.length !== plane * 3) throw new Error(`a ${width} × ${height} RGB patch has ${plane * 3} bytes, not ${rgb.length}`);
  const base = index * 3 * plane;
  for (let c = 0; c < 3; c++) {
    const offset = base + c * plane;
    const m = mean[c]!;
    const s = std[c]!;
    for (let p = 0; p < plane; p++) target[offset + p] = (rgb[p * 3 + c]! / 255 - m) / s;
  }
}
