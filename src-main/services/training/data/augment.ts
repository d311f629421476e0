import { shuffled } from '../../random/seededRandom';
import type { RandomSource } from '../../random/seededRandom';
import { applyColourJitter, JITTER_STEPS } from './colourJitter';
import type { ColourJitter } from './colourJitter';
import { gaussianBlur } from './gaussianBlur';

/**
 * Training augmentation as in the reference code of the paper
 * (DeepMicroscopy/FoundationModelComparison, train_classifier.py, `create_dataloaders`):
 * ColorJitter(0.1, 0.1, 0.1, 0.1) with p 0.5, GaussianBlur(5 × 5, σ ~ U(0.1, 1.0)) with p 0.1,
 * horizontal and vertical flips with p 0.5 each, and RandomRotation(180) — any angle in
 * [−180°, 180°] — with p 0.5.
 *
 * Two deliberate differences: torchvision rotates with nearest-neighbour sampling and fills the
 * corners with black; here the patch is sampled bilinearly from a larger source crop
 * (`augmentationSourceSize`), so a rotated patch shows tissue everywhere. And the geometry (flips,
 * rotation) is applied first, in one resampling, then the colour jitter and blur on the final
 * patch: jitter is per pixel (contrast uses the patch's mean grey) and blur nearly commutes with
 * the geometry, so the result matches the reference's order up to those corners.
 *
 * Parameters are drawn with `drawAugmentation` and applied by `applyAugmentation`, a pure
 * function: a worker that gets the parameters gives the same bytes as any other.
 */

/** An interleaved RGB image, row-major. */
export interface RgbImage {
  readonly rgb: Uint8Array;
  readonly width: number;
  readonly height: number;
}

export interface GaussianBlurParams {
  /** Odd number of kernel taps. */
  readonly size: number;
  readonly sigma: number;
}

/** One patch's augmentation, as plain JSON. */
export interface AugmentationParams {
  readonly flipHorizontal: boolean;
  readonly flipVertical: boolean;
  /** Counter-clockwise degrees, as torchvision's rotate; 0 when no rotation was drawn. */
  readonly rotationDegrees: number;
  readonly jitter: ColourJitter | null;
  readonly blur: GaussianBlurParams | null;
}

/** What `drawAugmentation` draws from; each probability is of applying that transform. */
export interface AugmentationOptions {
  readonly jitterProbability: number;
  /** ColorJitter's brightness, contrast and saturation factors in [1 − s, 1 + s], hue shift in [−s, s]. */
  readonly jitterStrength: number;
  readonly blurProbability: number;
  readonly blurKernelSize: number;
  readonly blurSigmaMin: number;
  readonly blurSigmaMax: number;
  /** Of each flip, drawn independently. */
  readonly flipProbability: number;
  readonly rotationProbability: number;
  /** Angles are drawn uniformly in [−max, max]. */
  readonly maxRotationDegrees: number;
}

/** The reference's training augmentation (see the file comment). */
export const REFERENCE_AUGMENTATION: AugmentationOptions = {
  jitterProbability: 0.5,
  jitterStrength: 0.1,
  blurProbability: 0.1,
  blurKernelSize: 5,
  blurSigmaMin: 0.1,
  blurSigmaMax: 1.0,
  flipProbability: 0.5,
  rotationProbability: 0.5,
  maxRotationDegrees: 180,
};

/** The patch as it is: the centre of the source, unchanged (validation, prediction). */
export const NO_AUGMENTATION: AugmentationParams = { flipHorizontal: false, flipVertical: false, rotationDegrees: 0, jitter: null, blur: null };

function uniform(random: RandomSource, low: number, high: number): number {
  return low + (high - low) * random();
}

function checkOptions(options: AugmentationOptions): void {
  const probabilities = ['jitterProbability', 'blurProbability', 'flipProbability', 'rotationProbability'] as const;
  for (const name of probabilities) {
    const p = options[name];
    if (!(p >= 0 && p <= 1)) throw new Error(`augmentation ${name} must be in [0, 1] (got ${p})`);
  }
  if (!(options.jitterStrength >= 0 && options.jitterStrength <= 0.5)) throw new Error(`augmentation jitterStrength must be in [0, 0.5] (got ${options.jitterStrength})`);
  if (!(options.blurSigmaMin > 0 && options.blurSigmaMax >= options.blurSigmaMin)) {
    throw new Error(`augmentation blur sigma range must be 0 < min ≤ max (got ${options.blurSigmaMin} to ${options.blurSigmaMax})`);
  }
  if (!(options.maxRotationDegrees >= 0 && options.maxRotationDegrees <= 180)) {
    throw new Error(`augmentation maxRotationDegrees must be in [0, 180] (got ${options.maxRotationDegrees})`);
  }
}

/** One patch's parameters, drawn in the reference's order (jitter, blur, flips, rotation). */
export function drawAugmentation(random: RandomSource, options: AugmentationOptions = REFERENCE_AUGMENTATION): AugmentationParams {
  checkOptions(options);
  let jitter: ColourJitter | null = null;
  if (random() < options.jitterProbability) {
    const s = options.jitterStrength;
    const order = shuffled(JITTER_STEPS, random);
    const brightness = uniform(random, Math.max(0, 1 - s), 1 + s);
    const contrast = uniform(random, Math.max(0, 1 - s), 1 + s);
    const saturation = uniform(random, Math.max(0, 1 - s), 1 + s);
    const hue = uniform(random, -s, s);
    jitter = { order, brightness, contrast, saturation, hue };
  }
  const blur = random() < options.blurProbability ? { size: options.blurKernelSize, sigma: uniform(random, options.blurSigmaMin, options.blurSigmaMax) } : null;
  const flipHorizontal = random() < options.flipProbability;
  const flipVertical = random() < options.flipProbability;
  const rotationDegrees = random() < options.rotationProbability ? uniform(random, -options.maxRotationDegrees, options.maxRotationDegrees) : 0;
  return { flipHorizontal, flipVertical, rotationDegrees, jitter, blur };
}

/** cos and sin of a counter-clockwise angle, exact at right angles (so 90° is an exact transpose and flip). */
function rotationTrig(degrees: number): { cos: number; sin: number } {
  const turned = ((degrees % 360) + 360) % 360;
  if (turned === 0) return { cos: 1, sin: 0 };
  if (turned === 90) return { cos: 0, sin: 1 };
  if (turned === 180) return { cos: -1, sin: 0 };
  if (turned === 270) return { cos: 0, sin: -1 };
  const radians = (degrees * Math.PI) / 180;
  return { cos: Math.cos(radians), sin: Math.sin(radians) };
}

/** The smallest side ≥ `needed` with the parity of `output`, so the output sits on whole source pixels. */
function sideWithParity(needed: number, output: number): number {
  const side = Math.max(output, Math.ceil(needed - 1e-9));
  return (side - output) % 2 === 0 ? side : side + 1;
}

/**
 * The source crop a `width` × `height` patch needs to be rotated by any angle without leaving
 * the source: the patch's pixel-centre diagonal plus one pixel, centred on the same point.
 */
export function augmentationSourceSize(width: number, height: number): { width: number; height: number } {
  const reach = 2 * Math.hypot((width - 1) / 2, (height - 1) / 2) + 1;
  return { width: sideWithParity(reach, width), height: sideWithParity(reach, height) };
}

function checkImage(image: RgbImage, name: string): void {
  const { width, height, rgb } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`the ${name} must be at least 1 × 1 pixels (got ${width} × ${height})`);
  if (rgb.length !== width * height * 3) throw new Error(`a ${width} × ${height} RGB ${name} has ${width * height * 3} bytes, not ${rgb.length}`);
}

/**
 * The output patch's pixels as floats: each output pixel centre mapped back through the rotation
 * and flips to the source (whose centre is the output's centre), sampled bilinearly. With no
 * rotation (or right angles) the samples fall on whole source pixels and are copied exactly.
 */
function resample(source: RgbImage, width: number, height: number, params: AugmentationParams): Float32Array {
  const { cos, sin } = rotationTrig(params.rotationDegrees);
  const reachX = Math.abs(cos) * ((width - 1) / 2) + Math.abs(sin) * ((height - 1) / 2);
  const reachY = Math.abs(sin) * ((width - 1) / 2) + Math.abs(cos) * ((height - 1) / 2);
  if (reachX > (source.width - 1) / 2 + 1e-9 || reachY > (source.height - 1) / 2 + 1e-9) {
    throw new Error(
      `a ${width} × ${height} patch rotated by ${params.rotationDegrees}° needs a source of at least ${sideWithParity(2 * reachX + 1, width)} × ${sideWithParity(2 * reachY + 1, height)} pixels (got ${source.width} × ${source.height})`,
    );
  }
  if ((source.width - width) % 2 !== 0 || (source.height - height) % 2 !== 0) {
    throw new Error(`the source (${source.width} × ${source.height}) and the patch (${width} × ${height}) must differ by an even number of pixels each way, so the patch is centred on whole pixels`);
  }
  const signX = params.flipHorizontal ? -1 : 1;
  const signY = params.flipVertical ? -1 : 1;
  const centreX = (source.width - 1) / 2;
  const centreY = (source.height - 1) / 2;
  const lastX = source.width - 1;
  const lastY = source.height - 1;
  const { rgb } = source;
  const pixels = new Float32Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const dy = row - (height - 1) / 2;
    for (let column = 0; column < width; column++) {
      const dx = column - (width - 1) / 2;
      // Counter-clockwise rotation of the image = clockwise rotation of the sampling offset; flips act before it.
      const x = Math.min(Math.max(centreX + signX * (cos * dx - sin * dy), 0), lastX);
      const y = Math.min(Math.max(centreY + signY * (sin * dx + cos * dy), 0), lastY);
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const tx = x - x0;
      const ty = y - y0;
      const x1 = Math.min(x0 + 1, lastX);
      const y1 = Math.min(y0 + 1, lastY);
      const topLeft = (y0 * source.width + x0) * 3;
      const topRight = (y0 * source.width + x1) * 3;
      const bottomLeft = (y1 * source.width + x0) * 3;
      const bottomRight = (y1 * source.width + x1) * 3;
      const out = (row * width + column) * 3;
      for (let c = 0; c < 3; c++) {
        const top = rgb[topLeft + c]! + tx * (rgb[topRight + c]! - rgb[topLeft + c]!);
        const bottom = rgb[bottomLeft + c]! + tx * (rgb[bottomRight + c]! - rgb[bottomLeft + c]!);
        pixels[out + c] = top + ty * (bottom - top);
      }
    }
  }
  return pixels;
}

function toBytes(pixels: Float32Array): Uint8Array {
  const bytes = new Uint8Array(pixels.length);
  // Uint8Array wraps (256 → 0), so clamp first: a blur's float sum can land a hair above 255.
  for (let i = 0; i < pixels.length; i++) bytes[i] = Math.min(255, Math.max(0, Math.round(pixels[i]!)));
  return bytes;
}

/**
 * The `width` × `height` patch at the centre of `source`, flipped, rotated, colour-jittered and
 * blurred as `params` say. Deterministic: the same source and parameters give the same bytes.
 */
export function applyAugmentation(source: RgbImage, width: number, height: number, params: AugmentationParams): RgbImage {
  checkImage(source, 'source');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`the patch must be at least 1 × 1 pixels (got ${width} × ${height})`);
  const pixels = resample(source, width, height, params);
  if (params.jitter) applyColourJitter(pixels, params.jitter);
  if (params.blur) gaussianBlur(pixels, width, height, params.blur.size, params.blur.sigma);
  return { rgb: toBytes(pixels), width, height };
}
