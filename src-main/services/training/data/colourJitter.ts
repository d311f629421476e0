/**
 * torchvision's ColorJitter adjustments on interleaved RGB held as floats in [0, 255]. Each
 * blends the image with a "degenerate" image as torchvision's functional adjust_* define it, and
 * clamps to [0, 255] after every step as torchvision does; rounding to bytes happens once, at
 * the end of the augmentation.
 */

/** The adjustments ColorJitter applies, in the random order it draws for each image. */
export type JitterStep = 'brightness' | 'contrast' | 'saturation' | 'hue';
export const JITTER_STEPS: readonly JitterStep[] = ['brightness', 'contrast', 'saturation', 'hue'];

/** One image's jitter: factors near 1 (hue: a shift of the hue circle in [−0.5, 0.5]) and their order. */
export interface ColourJitter {
  readonly order: readonly JitterStep[];
  readonly brightness: number;
  readonly contrast: number;
  readonly saturation: number;
  readonly hue: number;
}

/** ITU-R 601-2 luma, as torchvision's rgb_to_grayscale. */
function luma(r: number, g: number, b: number): number {
  return 0.2989 * r + 0.587 * g + 0.114 * b;
}

function clamp255(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/** Blend with black: v · factor. */
export function adjustBrightness(pixels: Float32Array, factor: number): void {
  for (let i = 0; i < pixels.length; i++) pixels[i] = clamp255(pixels[i]! * factor);
}

/** Blend with the image's mean grey level: factor · v + (1 − factor) · mean(luma). */
export function adjustContrast(pixels: Float32Array, factor: number): void {
  const count = pixels.length / 3;
  let sum = 0;
  for (let p = 0; p < pixels.length; p += 3) sum += luma(pixels[p]!, pixels[p + 1]!, pixels[p + 2]!);
  const offset = (1 - factor) * (count > 0 ? sum / count : 0);
  for (let i = 0; i < pixels.length; i++) pixels[i] = clamp255(factor * pixels[i]! + offset);
}

/** Blend each pixel with its own grey level: factor · v + (1 − factor) · luma. */
export function adjustSaturation(pixels: Float32Array, factor: number): void {
  for (let p = 0; p < pixels.length; p += 3) {
    const offset = (1 - factor) * luma(pixels[p]!, pixels[p + 1]!, pixels[p + 2]!);
    for (let c = 0; c < 3; c++) pixels[p + c] = clamp255(factor * pixels[p + c]! + offset);
  }
}

/** Hue in [0, 1) of an RGB colour (any scale), as torchvision's _rgb2hsv; 0 for greys. */
function hueOf(r: number, g: number, b: number, max: number, chroma: number): number {
  if (chroma === 0) return 0;
  let sector: number;
  if (max === r) sector = (g - b) / chroma;
  else if (max === g) sector = 2 + (b - r) / chroma;
  else sector = 4 + (r - g) / chroma;
  const hue = sector / 6;
  return hue - Math.floor(hue);
}

/** Rotates each pixel's hue by `shift` turns, keeping its HSV saturation and value (torchvision's adjust_hue). */
export function adjustHue(pixels: Float32Array, shift: number): void {
  for (let p = 0; p < pixels.length; p += 3) {
    const r = pixels[p]!;
    const g = pixels[p + 1]!;
    const b = pixels[p + 2]!;
    const value = Math.max(r, g, b);
    const chroma = value - Math.min(r, g, b);
    if (chroma === 0) continue; // a grey has no hue to turn
    const saturation = chroma / value;
    let hue = hueOf(r, g, b, value, chroma) + shift;
    hue -= Math.floor(hue);
    const scaled = hue * 6;
    const sector = Math.floor(scaled) % 6;
    const fraction = scaled - Math.floor(scaled);
    const low = value * (1 - saturation);
    const falling = value * (1 - saturation * fraction);
    const rising = value * (1 - saturation * (1 - fraction));
    const [red, green, blue] = HSV_SECTORS[sector]!(value, low, falling, rising);
    pixels[p] = clamp255(red);
    pixels[p + 1] = clamp255(green);
    pixels[p + 2] = clamp255(blue);
  }
}

type SectorColour = (value: number, low: number, falling: number, rising: number) => [number, number, number];
const HSV_SECTORS: readonly SectorColour[] = [
  (v, p, _q, t) => [v, t, p],
  (v, p, q) => [q, v, p],
  (v, p, _q, t) => [p, v, t],
  (v, p, q) => [p, q, v],
  (v, p, _q, t) => [t, p, v],
  (v, p, q) => [v, p, q],
];

/** Applies the jitter's four adjustments in its drawn order. */
export function applyColourJitter(pixels: Float32Array, jitter: ColourJitter): void {
  for (const step of jitter.order) {
    if (step === 'brightness') adjustBrightness(pixels, jitter.brightness);
    else if (step === 'contrast') adjustContrast(pixels, jitter.contrast);
    else if (step === 'saturation') adjustSaturation(pixels, jitter.saturation);
    else adjustHue(pixels, jitter.hue);
  }
}
