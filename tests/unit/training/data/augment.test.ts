import { describe, expect, it } from 'vitest';
import { applyAugmentation, augmentationSourceSize, drawAugmentation, NO_AUGMENTATION, REFERENCE_AUGMENTATION } from '../../../../src-main/services/training/data/augment';
import type { AugmentationParams, RgbImage } from '../../../../src-main/services/training/data/augment';
import { adjustContrast, adjustHue, JITTER_STEPS } from '../../../../src-main/services/training/data/colourJitter';
import type { ColourJitter } from '../../../../src-main/services/training/data/colourJitter';
import { gaussianKernel } from '../../../../src-main/services/training/data/gaussianBlur';
import { seededRandom } from '../../../../src-main/services/random/seededRandom';

function randomImage(width: number, height: number, seed: number): RgbImage {
  const random = seededRandom(seed);
  return { rgb: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256)), width, height };
}

function constantImage(width: number, height: number, colour: readonly number[]): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) rgb.set(colour, p * 3);
  return { rgb, width, height };
}

function pixel(image: RgbImage, row: number, column: number): number[] {
  const at = (row * image.width + column) * 3;
  return [...image.rgb.subarray(at, at + 3)];
}

const params = (change: Partial<AugmentationParams>): AugmentationParams => ({ ...NO_AUGMENTATION, ...change });
const jitterOnly = (change: Partial<ColourJitter>): AugmentationParams =>
  params({ jitter: { order: JITTER_STEPS, brightness: 1, contrast: 1, saturation: 1, hue: 0, ...change } });

describe('geometry', () => {
  const source = randomImage(12, 12, 1);

  it('without augmentation is the exact centre crop of the source', () => {
    const patch = applyAugmentation(source, 8, 8, NO_AUGMENTATION);
    for (let row = 0; row < 8; row++) for (let column = 0; column < 8; column++) expect(pixel(patch, row, column)).toEqual(pixel(source, row + 2, column + 2));
  });

  it('flips mirror exactly, and flipping twice is the identity', () => {
    const image = randomImage(9, 7, 2);
    const horizontal = applyAugmentation(image, 9, 7, params({ flipHorizontal: true }));
    const vertical = applyAugmentation(image, 9, 7, params({ flipVertical: true }));
    for (let row = 0; row < 7; row++) {
      for (let column = 0; column < 9; column++) {
        expect(pixel(horizontal, row, column)).toEqual(pixel(image, row, 8 - column));
        expect(pixel(vertical, row, column)).toEqual(pixel(image, 6 - row, column));
      }
    }
    expect(applyAugmentation(horizontal, 9, 7, params({ flipHorizontal: true })).rgb).toEqual(image.rgb);
    expect(applyAugmentation(vertical, 9, 7, params({ flipVertical: true })).rgb).toEqual(image.rgb);
  });

  it('rotates 90° counter-clockwise as an exact transpose and flip of the centre crop', () => {
    const patch = applyAugmentation(source, 8, 8, params({ rotationDegrees: 90 }));
    // Counter-clockwise: the crop's right column becomes the top row.
    for (let row = 0; row < 8; row++) for (let column = 0; column < 8; column++) expect(pixel(patch, row, column)).toEqual(pixel(source, 2 + column, 2 + 7 - row));
    const fourTimes = [90, 90, 90, 90].reduce((image) => applyAugmentation(image, 12, 12, params({ rotationDegrees: 90 })), source);
    expect(fourTimes.rgb).toEqual(source.rgb);
    expect(applyAugmentation(source, 8, 8, params({ rotationDegrees: -270 })).rgb).toEqual(patch.rgb);
  });

  it('rotates by any angle from a large enough source without empty corners', () => {
    const size = augmentationSourceSize(224, 224);
    expect(size).toEqual({ width: 318, height: 318 });
    const flat = constantImage(size.width, size.height, [200, 100, 50]);
    for (const angle of [37, -123.4, 180, 45]) {
      const patch = applyAugmentation(flat, 224, 224, params({ rotationDegrees: angle, flipHorizontal: true }));
      expect(new Set(patch.rgb)).toEqual(new Set([200, 100, 50]));
    }
    expect(() => applyAugmentation(constantImage(240, 240, [0, 0, 0]), 224, 224, params({ rotationDegrees: 45 }))).toThrow(/rotated by 45° needs a source of at least 318 × 318 pixels \(got 240 × 240\)/);
  });

  it('keeps a smooth ramp smooth under an arbitrary rotation (bilinear, not nearest)', () => {
    // A horizontal ramp rotated by 30°: each output pixel is the ramp value at its rotated position.
    const width = 41;
    const ramp = { rgb: new Uint8Array(width * width * 3), width, height: width };
    for (let row = 0; row < width; row++) for (let column = 0; column < width; column++) ramp.rgb.fill(50 + 4 * column, (row * width + column) * 3, (row * width + column) * 3 + 3);
    const patch = applyAugmentation(ramp, 21, 21, params({ rotationDegrees: 30 }));
    const cos = Math.cos(Math.PI / 6);
    const sin = Math.sin(Math.PI / 6);
    for (let row = 0; row < 21; row++) {
      for (let column = 0; column < 21; column++) {
        const sourceColumn = 20 + cos * (column - 10) - sin * (row - 10);
        expect(Math.abs(pixel(patch, row, column)[0]! - (50 + 4 * sourceColumn))).toBeLessThanOrEqual(0.5);
      }
    }
  });

  it('refuses a source that cannot centre the patch on whole pixels', () => {
    expect(() => applyAugmentation(randomImage(11, 11, 3), 8, 8, NO_AUGMENTATION)).toThrow(/even number of pixels/);
    expect(() => applyAugmentation({ rgb: new Uint8Array(10), width: 2, height: 2 }, 2, 2, NO_AUGMENTATION)).toThrow(/has 12 bytes, not 10/);
  });
});

describe('colour jitter (torchvision ColorJitter)', () => {
  const image = randomImage(16, 16, 4);

  it('with factors 1 and hue 0 is the identity', () => {
    expect(applyAugmentation(image, 16, 16, jitterOnly({})).rgb).toEqual(image.rgb);
  });

  it('scales brightness by its factor', () => {
    const brighter = applyAugmentation(image, 16, 16, jitterOnly({ brightness: 1.1 }));
    image.rgb.forEach((value, i) => expect(brighter.rgb[i]).toBe(Math.min(255, Math.round(value * 1.1))));
  });

  it('blends contrast towards the mean grey level, and saturation towards each pixel\'s grey', () => {
    const pixels = Float32Array.from(image.rgb);
    let grey = 0;
    for (let p = 0; p < pixels.length; p += 3) grey += 0.2989 * pixels[p]! + 0.587 * pixels[p + 1]! + 0.114 * pixels[p + 2]!;
    grey /= pixels.length / 3;
    adjustContrast(pixels, 0.9);
    image.rgb.forEach((value, i) => expect(pixels[i]).toBeCloseTo(0.9 * value + 0.1 * grey, 3));
    const greyImage = constantImage(4, 4, [90, 90, 90]);
    expect(applyAugmentation(greyImage, 4, 4, jitterOnly({ saturation: 0.9, hue: 0.1 })).rgb).toEqual(greyImage.rgb);
  });

  it('turns the hue circle: a third of a turn takes pure red to pure green, and back', () => {
    const red = Float32Array.of(255, 0, 0, 128, 0, 0);
    adjustHue(red, 1 / 3);
    expect([...red].map(Math.round)).toEqual([0, 255, 0, 0, 128, 0]);
    const there = applyAugmentation(image, 16, 16, jitterOnly({ hue: 0.07 }));
    expect(there.rgb).not.toEqual(image.rgb);
    const back = applyAugmentation(there, 16, 16, jitterOnly({ hue: -0.07 }));
    back.rgb.forEach((value, i) => expect(Math.abs(value - image.rgb[i]!)).toBeLessThanOrEqual(2));
  });

  it('stays within the strength: each factor within 1 ± 0.1 moves no byte by more than 10 % (+ rounding)', () => {
    const random = seededRandom(12);
    for (let trial = 0; trial < 20; trial++) {
      const drawn = drawAugmentation(random, { ...REFERENCE_AUGMENTATION, jitterProbability: 1 });
      const jitter = drawn.jitter!;
      const oneStep = applyAugmentation(image, 16, 16, jitterOnly({ brightness: jitter.brightness }));
      image.rgb.forEach((value, i) => expect(Math.abs(oneStep.rgb[i]! - value)).toBeLessThanOrEqual(0.1 * value + 0.5));
    }
  });
});

describe('Gaussian blur (torchvision GaussianBlur)', () => {
  it('uses torchvision\'s normalised kernel', () => {
    const kernel = gaussianKernel(5, 1);
    [0.05448868, 0.24420134, 0.40261995, 0.24420134, 0.05448868].forEach((weight, i) => expect(kernel[i]).toBeCloseTo(weight, 7));
  });

  it('keeps a constant image constant and the mean of a random image', () => {
    const flat = constantImage(10, 10, [17, 130, 240]);
    expect(applyAugmentation(flat, 10, 10, params({ blur: { size: 5, sigma: 0.8 } })).rgb).toEqual(flat.rgb);
    const image = randomImage(32, 32, 5);
    const blurred = applyAugmentation(image, 32, 32, params({ blur: { size: 5, sigma: 1 } }));
    const mean = (bytes: Uint8Array) => bytes.reduce((sum, value) => sum + value, 0) / bytes.length;
    expect(Math.abs(mean(blurred.rgb) - mean(image.rgb))).toBeLessThan(1);
    expect(blurred.rgb).not.toEqual(image.rgb);
  });
});

describe('drawAugmentation', () => {
  it('draws each transform at the reference\'s rate, within its ranges', () => {
    const random = seededRandom(21);
    const draws = Array.from({ length: 4000 }, () => drawAugmentation(random));
    const rate = (count: number, p: number) => expect(Math.abs(count - 4000 * p)).toBeLessThan(4 * Math.sqrt(4000 * p * (1 - p)));
    rate(draws.filter((d) => d.jitter).length, 0.5);
    rate(draws.filter((d) => d.blur).length, 0.1);
    rate(draws.filter((d) => d.flipHorizontal).length, 0.5);
    rate(draws.filter((d) => d.flipVertical).length, 0.5);
    rate(draws.filter((d) => d.rotationDegrees !== 0).length, 0.5);
    for (const { jitter, blur, rotationDegrees } of draws) {
      expect(Math.abs(rotationDegrees)).toBeLessThanOrEqual(180);
      if (blur) expect(blur.size === 5 && blur.sigma >= 0.1 && blur.sigma <= 1).toBe(true);
      if (!jitter) continue;
      expect([...jitter.order].sort()).toEqual([...JITTER_STEPS].sort());
      for (const factor of [jitter.brightness, jitter.contrast, jitter.saturation]) expect(Math.abs(factor - 1)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(jitter.hue)).toBeLessThanOrEqual(0.1);
    }
  });

  it('is deterministic for a seed and plain JSON', () => {
    const first = Array.from({ length: 50 }, ((random) => () => drawAugmentation(random))(seededRandom(3)));
    const again = Array.from({ length: 50 }, ((random) => () => drawAugmentation(random))(seededRandom(3)));
    expect(again).toEqual(first);
    expect(JSON.parse(JSON.stringify(first))).toEqual(first);
  });

  it('names a bad option', () => {
    expect(() => drawAugmentation(seededRandom(1), { ...REFERENCE_AUGMENTATION, blurProbability: 2 })).toThrow(/blurProbability must be in \[0, 1\]/);
  });
});
