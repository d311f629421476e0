import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImageSlide } from '../../../src-main/services/slides/ImageSlideReader';
import { SlideError } from '../../../src-main/services/slides/SlideError';
import type { RgbaImage } from '../../../src-main/services/slides/SlideReader';
import { makeTempDir, removeTempDir, squareCentre, writeStrippedTiff, writeSyntheticImage } from '../../fixtures/syntheticSlides';

function pixelAt(image: RgbaImage, x: number, y: number): number[] {
  const at = (y * image.width + x) * 4;
  return [...image.data.subarray(at, at + 4)];
}

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('mitobench-image-reader-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

describe('ImageSlideReader', () => {
  it('opens a PNG as one level with a 256 px tile grid and exact pixels', async () => {
    const image = await writeSyntheticImage(dir, { width: 300, height: 200, format: 'png' });
    const reader = await openImageSlide(image.path);
    try {
      expect(reader.kind).toBe('image');
      expect(reader.path).toBe(image.path);
      expect(reader.levels).toEqual([{ width: 300, height: 200, downsample: 1, tileWidth: 256, tileHeight: 256 }]);
      expect(reader.properties).toEqual({ vendor: 'image', mppX: null, mppY: null, objectivePower: null });
      expect(reader.associatedImageNames).toEqual([]);
      const whole = await reader.readRegion(0, 0, 0, 300, 200);
      for (const [x, y] of [[0, 0], [299, 199], [150, 77]] as const) {
        expect(pixelAt(whole, x, y)).toEqual([...image.expectedPixel(x, y), 255]);
      }
      const edge = await reader.readRegion(0, 290, -5, 20, 20);
      expect(pixelAt(edge, 0, 5)).toEqual([...image.expectedPixel(290, 0), 255]);
      expect(pixelAt(edge, 0, 0)).toEqual([0, 0, 0, 0]);
      expect(pixelAt(edge, 10, 10)).toEqual([0, 0, 0, 0]);
      expect(await reader.readEncodedTile()).toBeNull();
      await expect(reader.readRegion(1, 0, 0, 1, 1)).rejects.toThrow(RangeError);
      await expect(reader.readAssociatedImage('label')).rejects.toBeInstanceOf(SlideError);
    } finally {
      await reader.close();
    }
  });

  it('takes mpp from the image density, ignoring the 72 dpi default', async () => {
    const scanned = await writeSyntheticImage(dir, { width: 256, height: 256, format: 'jpeg', densityDpi: 101_600 });
    const reader = await openImageSlide(scanned.path);
    expect(reader.properties.mppX).toBeCloseTo(0.25, 6);
    expect(reader.properties.mppY).toBeCloseTo(0.25, 6);
    const { x, y } = squareCentre(1, 1);
    const region = await reader.readRegion(0, x, y, 1, 1);
    const expected = scanned.expectedPixel(x, y);
    expect(Math.max(...expected.map((value, i) => Math.abs(value - (region.data[i] ?? 0))))).toBeLessThanOrEqual(6);
    await reader.close();

    const plain = await openImageSlide((await writeSyntheticImage(dir, { width: 64, height: 64, format: 'jpeg' })).path);
    expect(plain.properties.mppX).toBeNull();
    await plain.close();
  });

  it('opens single-level TIFF, WebP, greyscale and 16-bit images as 8-bit RGBA', async () => {
    const stripped = await writeStrippedTiff(dir, 120, 90);
    const tiff = await openImageSlide(stripped.path);
    expect(pixelAt(await tiff.readRegion(0, 100, 80, 1, 1), 0, 0)).toEqual([...stripped.expectedPixel(100, 80), 255]);
    await tiff.close();

    const webp = await writeSyntheticImage(dir, { width: 50, height: 40, format: 'webp' });
    const webpReader = await openImageSlide(webp.path);
    expect(pixelAt(await webpReader.readRegion(0, 0, 0, 50, 40), 49, 39)).toEqual([...webp.expectedPixel(49, 39), 255]);
    await webpReader.close();

    const greyPath = path.join(dir, 'grey16.png');
    const grey = Buffer.alloc(20 * 10);
    for (let i = 0; i < grey.length; i++) grey[i] = i;
    // libvips widens 8-bit grey to 16-bit by multiplying by 257, so the values come back exactly.
    await sharp(grey, { raw: { width: 20, height: 10, channels: 1 } }).toColourspace('grey16').png().toFile(greyPath);
    expect((await sharp(greyPath).metadata()).depth).toBe('ushort');
    const greyReader = await openImageSlide(greyPath);
    const image = await greyReader.readRegion(0, 0, 0, 20, 10);
    expect(image.data).toHaveLength(20 * 10 * 4);
    expect(pixelAt(image, 19, 9)).toEqual([199, 199, 199, 255]);
    expect(pixelAt(image, 3, 1)).toEqual([23, 23, 23, 255]);
    await greyReader.close();
  });

  it('decodes once and serves concurrent reads from the same pixels', async () => {
    const image = await writeSyntheticImage(dir, { width: 400, height: 300, format: 'png' });
    const reader = await openImageSlide(image.path);
    const regions = await Promise.all(Array.from({ length: 10 }, (_, i) => reader.readRegion(0, i * 30, i * 20, 64, 64)));
    regions.forEach((region, i) => {
      expect(pixelAt(region, 63, 63)).toEqual([...image.expectedPixel(i * 30 + 63, i * 20 + 63), 255]);
    });
    await reader.close();
  });
});
