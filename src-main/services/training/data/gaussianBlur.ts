/**
 * torchvision's GaussianBlur on interleaved RGB floats: a separable kernel of `size` taps at
 * x = −(size−1)/2 … (size−1)/2 weighted exp(−x² / 2σ²) and normalised to sum 1, with reflect
 * padding at the borders (the edge pixel is not repeated), the same σ in x and y.
 */

/** The normalised 1-D kernel torchvision builds for `size` taps and `sigma`. */
export function gaussianKernel(size: number, sigma: number): Float64Array {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new Error(`a Gaussian kernel needs an odd number of taps (got ${size})`);
  if (!(sigma > 0)) throw new Error(`a Gaussian kernel needs sigma > 0 (got ${sigma})`);
  const half = (size - 1) / 2;
  const kernel = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = (i - half) / sigma;
    kernel[i] = Math.exp(-0.5 * x * x);
    sum += kernel[i]!;
  }
  for (let i = 0; i < size; i++) kernel[i]! /= sum;
  return kernel;
}

/** Index `i` reflected into [0, length): −1 → 1, length → length − 2. */
function reflect(i: number, length: number): number {
  if (i < 0) return -i;
  if (i >= length) return 2 * (length - 1) - i;
  return i;
}

/** One pass of the kernel along x or along y, from `source` into `target`. */
function blurPass(source: Float32Array, target: Float32Array, width: number, height: number, kernel: Float64Array, alongX: boolean): void {
  const half = (kernel.length - 1) / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < kernel.length; k++) {
        const sx = alongX ? reflect(x + k - half, width) : x;
        const sy = alongX ? y : reflect(y + k - half, height);
        const at = (sy * width + sx) * 3;
        const weight = kernel[k]!;
        r += weight * source[at]!;
        g += weight * source[at + 1]!;
        b += weight * source[at + 2]!;
      }
      const out = (y * width + x) * 3;
      target[out] = r;
      target[out + 1] = g;
      target[out + 2] = b;
    }
  }
}

/** Blurs `pixels` (width × height interleaved RGB) in place. */
export function gaussianBlur(pixels: Float32Array, width: number, height: number, size: number, sigma: number): void {
  const half = (size - 1) / 2;
  if (width <= half || height <= half) throw new Error(`a ${size}-tap blur with reflect padding needs an image larger than ${half} pixels each way (got ${width} × ${height})`);
  const kernel = gaussianKernel(size, sigma);
  const scratch = new Float32Array(pixels.length);
  blurPass(pixels, scratch, width, height, kernel, true);
  blurPass(scratch, pixels, width, height, kernel, false);
}
