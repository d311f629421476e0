import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlideError } from '../../../src-main/services/slides/SlideError';
import type { RgbaImage } from '../../../src-main/services/slides/SlideReader';
import { TiffFile } from '../../../src-main/services/slides/tiff/TiffFile';
import { openTiffSlide } from '../../../src-main/services/slides/tiff/TiffSlideReader';
import {
  labelRgb,
  macroRgb,
  makeTempDir,
  removeTempDir,
  squareCentre,
  syntheticPixel,
  writeSyntheticAperio,
  writeSyntheticOmeTiff,
  writeSyntheticPyramid,
  writeLargeSyntheticPyramid,
} from '../../fixtures/syntheticSlides';
import { cmuPyramidPath, cmuSvsPath, hasSharedSlides, warnWhenSharedSlidesAbsent } from '../../fixtures/sharedData';
import type { Rgb, SyntheticCompression, SyntheticSlide } from '../../fixtures/syntheticSlides';

const svsPath = cmuSvsPath;
const pyramidPath = cmuPyramidPath;
const hasSharedData = hasSharedSlides;
warnWhenSharedSlidesAbsent('Real-slide TIFF reader tests');

function pixelAt(image: RgbaImage, x: number, y: number): [number, number, number, number] {
  const at = (y * image.width + x) * 4;
  return [image.data[at] ?? -1, image.data[at + 1] ?? -1, image.data[at + 2] ?? -1, image.data[at + 3] ?? -1];
}

function maxChannelError(actual: readonly number[], expected: Rgb): number {
  return Math.max(...expected.map((value, i) => Math.abs((actual[i] ?? 0) - value)));
}

/** Largest and mean per-channel difference between a level-0 region and the synthetic pattern. */
function compareToPattern(image: RgbaImage, slide: SyntheticSlide, originX = 0, originY = 0): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const error = maxChannelError(pixelAt(image, x, y), slide.expectedPixel(originX + x, originY + y));
      max = Math.max(max, error);
      sum += error;
    }
  }
  return { max, mean: sum / (image.width * image.height) };
}

function meanRgb(image: RgbaImage): Rgb {
  const sums = [0, 0, 0];
  for (let i = 0; i < image.data.length; i += 4) {
    for (let c = 0; c < 3; c++) sums[c] = (sums[c] ?? 0) + (image.data[i + c] ?? 0);
  }
  const count = image.data.length / 4;
  return [(sums[0] ?? 0) / count, (sums[1] ?? 0) / count, (sums[2] ?? 0) / count];
}

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('mitobench-tiff-reader-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

describe('TiffFile', () => {
  it('parses a classic libvips pyramid', async () => {
    const slide = await writeSyntheticPyramid(dir, { width: 700, height: 500, compression: 'lzw' });
    const file = await TiffFile.open(slide.path);
    try {
      expect(file.littleEndian).toBe(true);
      expect(file.bigTiff).toBe(false);
      expect(file.ifds.map((ifd) => [ifd.width, ifd.height])).toEqual([
        [700, 500],
        [350, 250],
        [175, 125],
      ]);
      const [level0, level1] = file.ifds;
      expect(level0).toMatchObject({ tileWidth: 256, tileHeight: 256, compression: 5, samplesPerPixel: 3, chunkCount: 6 });
      expect(level0?.bitsPerSample).toEqual([8, 8, 8]);
      expect(level0?.resolutionUnit).toBe(3);
      expect(level0?.xResolution).toBeCloseTo(40_000, 0);
      expect(level1?.newSubfileType).toBe(1);
      const table = await file.chunkTable(level0!);
      expect(table.offsets).toHaveLength(6);
      expect(Math.min(...table.byteCounts)).toBeGreaterThan(0);
    } finally {
      await file.close();
    }
  });

  it('parses BigTIFF with 64-bit offsets', async () => {
    const slide = await writeSyntheticPyramid(dir, { width: 600, height: 400, compression: 'jpeg', bigtiff: true });
    const file = await TiffFile.open(slide.path);
    try {
      expect(file.bigTiff).toBe(true);
      expect(file.ifds).toHaveLength(3);
      expect(file.ifds[0]?.jpegTables?.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      expect((await file.chunkTable(file.ifds[0]!)).offsets).toHaveLength(6);
    } finally {
      await file.close();
    }
  });

  it('parses big-endian files and SubIFD pyramids', async () => {
    const aperio = await writeSyntheticAperio(dir, true);
    const big = await TiffFile.open(aperio.path);
    expect(big.littleEndian).toBe(false);
    expect(big.ifds.map((ifd) => ifd.imageDescription?.split('\n')[1]?.slice(0, 5))).toEqual([
      '1000x', '1000x', '1000x', 'label', 'macro',
    ]);
    await big.close();
    const ome = await writeSyntheticOmeTiff(dir);
    const file = await TiffFile.open(ome.path);
    expect(file.ifds[0]?.subIfds.map((ifd) => [ifd.width, ifd.height, ifd.chainIndex])).toEqual([
      [450, 300, -1],
      [225, 150, -1],
    ]);
    await file.close();
  });
});

describe('TiffSlideReader on libvips pyramids', () => {
  const width = 700;
  const height = 500;
  const cases: { compression: SyntheticCompression; bigtiff?: boolean; lossless: boolean }[] = [
    { compression: 'jpeg', lossless: false },
    { compression: 'jpeg', bigtiff: true, lossless: false },
    { compression: 'lzw', lossless: true },
    { compression: 'lzw', bigtiff: true, lossless: true },
    { compression: 'deflate', lossless: true },
    { compression: 'packbits', lossless: true },
    { compression: 'none', lossless: true },
    { compression: 'webp', lossless: false },
  ];

  for (const { compression, bigtiff, lossless } of cases) {
    it(`reads ${compression}${bigtiff ? ' BigTIFF' : ''} tiles with the right pixels at every level`, async () => {
      const slide = await writeSyntheticPyramid(dir, { width, height, compression, bigtiff: bigtiff ?? false });
      const reader = await openTiffSlide(slide.path);
      try {
        expect(reader.kind).toBe('tiff');
        expect(reader.properties).toEqual({ vendor: 'generic-tiff', mppX: expect.closeTo(0.25, 6), mppY: expect.closeTo(0.25, 6), objectivePower: null });
        expect(reader.levels.map((level) => [level.width, level.height, level.tileWidth])).toEqual([
          [700, 500, 256],
          [350, 250, 256],
          [175, 125, 256],
        ]);
        expect(reader.levels[1]?.downsample).toBeCloseTo(2, 6);
        expect(reader.associatedImageNames).toEqual([]);

        const level0 = await reader.readRegion(0, 0, 0, width, height);
        const error = compareToPattern(level0, slide);
        if (lossless) expect(error.max).toBe(0);
        else expect(error.mean).toBeLessThan(compression === 'webp' ? 6 : 2);
        expect(pixelAt(level0, 699, 499)[3]).toBe(255);

        // Flat square interiors survive JPEG and the 2x2 averaging of reduced levels.
        for (const level of [0, 1, 2]) {
          const scale = 2 ** level;
          const { x, y } = squareCentre(2, 1);
          const region = await reader.readRegion(level, Math.floor(x / scale) - 2, Math.floor(y / scale) - 2, 4, 4);
          expect(maxChannelError(pixelAt(region, 2, 2), slide.expectedPixel(x, y))).toBeLessThanOrEqual(lossless ? 1 : 12);
        }
      } finally {
        await reader.close();
      }
    });
  }

  it('composes regions across tile edges and leaves the outside transparent', async () => {
    const slide = await writeSyntheticPyramid(dir, { width, height, compression: 'lzw', fileName: 'edges.tif' });
    const reader = await openTiffSlide(slide.path);
    try {
      const region = await reader.readRegion(0, -10, 240, 300, 300);
      expect(pixelAt(region, 5, 5)).toEqual([0, 0, 0, 0]);
      expect(pixelAt(region, 10, 0)).toEqual([...slide.expectedPixel(0, 240), 255]);
      expect(compareToPattern(
        await reader.readRegion(0, 250, 250, 20, 20), slide, 250, 250,
      ).max).toBe(0);
      const corner = await reader.readRegion(0, 690, 490, 20, 20);
      expect(pixelAt(corner, 9, 9)).toEqual([...slide.expectedPixel(699, 499), 255]);
      expect(pixelAt(corner, 10, 9)).toEqual([0, 0, 0, 0]);
      expect(pixelAt(corner, 9, 10)).toEqual([0, 0, 0, 0]);
      const outside = await reader.readRegion(0, 5000, 5000, 8, 8);
      expect(outside.data.every((value) => value === 0)).toBe(true);
      await expect(reader.readRegion(3, 0, 0, 1, 1)).rejects.toThrow(RangeError);
      await expect(reader.readRegion(0, 0, 0, 0, 1)).rejects.toThrow(RangeError);
    } finally {
      await reader.close();
    }
  });

  it('gives the same pixels for many concurrent overlapping reads', async () => {
    const slide = await writeSyntheticPyramid(dir, { width, height, compression: 'deflate', fileName: 'concurrent.tif' });
    const reader = await openTiffSlide(slide.path);
    try {
      const origins = Array.from({ length: 24 }, (_, i) => ({ x: (i * 37) % 500, y: (i * 53) % 300 }));
      const regions = await Promise.all(origins.map(({ x, y }) => reader.readRegion(0, x, y, 190, 190)));
      regions.forEach((region, i) => {
        const origin = origins[i]!;
        expect(compareToPattern(region, slide, origin.x, origin.y).max).toBe(0);
      });
    } finally {
      await reader.close();
    }
  });

  it('serves stored JPEG tiles as self-contained JPEGs, and null for other compressions', async () => {
    const jpeg = await openTiffSlide((await writeSyntheticPyramid(dir, { width, height, compression: 'jpeg', fileName: 'encoded.tif' })).path);
    const lzw = await openTiffSlide((await writeSyntheticPyramid(dir, { width, height, compression: 'lzw', fileName: 'encoded-lzw.tif' })).path);
    try {
      const tile = await jpeg.readEncodedTile(1, 1, 0);
      expect(tile).toMatchObject({ mimeType: 'image/jpeg', width: 256, height: 256 });
      const decoded = await sharp(tile!.data).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([decoded.info.width, decoded.info.height]).toEqual([256, 256]);
      // The level is 350 wide, so only 94 columns of this edge tile are real.
      const region = await jpeg.readRegion(1, 256, 0, 94, 250);
      const fromTile: RgbaImage = { width: 256, height: 256, data: decoded.data };
      expect(pixelAt(fromTile, 50, 100)).toEqual(pixelAt(region, 50, 100));
      await expect(jpeg.readEncodedTile(0, 3, 0)).rejects.toThrow(RangeError);
      expect(await lzw.readEncodedTile(0, 0, 0)).toBeNull();
    } finally {
      await jpeg.close();
      await lzw.close();
    }
  });

  it('reports no mpp when the file carries only the libvips default resolution', async () => {
    const slide = await writeSyntheticPyramid(dir, { width: 300, height: 300, compression: 'lzw', mpp: null, fileName: 'no-mpp.tif' });
    const reader = await openTiffSlide(slide.path);
    expect(reader.properties.mppX).toBeNull();
    expect(reader.levels).toHaveLength(2);
    await reader.close();
  });

  it('reads a single tiled level and greyscale images', async () => {
    const single = await writeSyntheticPyramid(dir, { width: 300, height: 200, compression: 'deflate', pyramid: false, fileName: 'single.tif' });
    const reader = await openTiffSlide(single.path);
    expect(reader.levels).toHaveLength(1);
    expect(compareToPattern(await reader.readRegion(0, 0, 0, 300, 200), single).max).toBe(0);
    await reader.close();

    const grey = Buffer.alloc(300 * 200);
    for (let i = 0; i < grey.length; i++) grey[i] = i % 300 % 256;
    const greyPath = path.join(dir, 'grey.tif');
    await sharp(grey, { raw: { width: 300, height: 200, channels: 1 } })
      .tiff({ tile: true, tileWidth: 128, tileHeight: 128, compression: 'lzw' })
      .toFile(greyPath);
    const greyReader = await openTiffSlide(greyPath);
    const image = await greyReader.readRegion(0, 0, 0, 300, 200);
    expect(pixelAt(image, 200, 150)).toEqual([200, 200, 200, 255]);
    expect(pixelAt(image, 290, 10)).toEqual([34, 34, 34, 255]);
    await greyReader.close();
  });

  it('writes a large JPEG pyramid by streaming (smoke test at a small size)', async () => {
    const large = await writeLargeSyntheticPyramid(dir, 3000, 2000, { blockSizePx: 8 });
    const reader = await openTiffSlide(large.path);
    try {
      expect(reader.levels.map((level) => level.width)).toEqual([3000, 1500, 750, 375, 187]);
      const region = await reader.readRegion(0, 1500, 1000, 64, 64);
      expect(compareToPattern(region, large, 1500, 1000).mean).toBeLessThan(2);
    } finally {
      await reader.close();
    }
  });
});

describe('TiffSlideReader on an Aperio-style SVS', () => {
  for (const bigEndian of [false, true]) {
    it(`finds levels, properties and associated images (${bigEndian ? 'big' : 'little'}-endian)`, async () => {
      const slide = await writeSyntheticAperio(dir, bigEndian);
      const reader = await openTiffSlide(slide.path);
      try {
        expect(reader.properties).toEqual({ vendor: 'aperio', mppX: 0.2526, mppY: 0.2526, objectivePower: 40 });
        expect(reader.levels.map((level) => [level.width, level.height, level.downsample])).toEqual([
          [1000, 700, 1],
          [500, 350, 2],
        ]);
        expect(reader.associatedImageNames).toEqual(['thumbnail', 'label', 'macro']);
        const level0 = await reader.readRegion(0, 0, 0, 1000, 700);
        expect(compareToPattern(level0, slide).mean).toBeLessThan(3);
        const { x, y } = squareCentre(3, 2);
        expect(maxChannelError(pixelAt(level0, x, y), slide.expectedPixel(x, y))).toBeLessThanOrEqual(8);

        const thumbnail = await reader.readAssociatedImage('thumbnail');
        expect([thumbnail.width, thumbnail.height]).toEqual([slide.thumbnailSize.width, slide.thumbnailSize.height]);
        expect(pixelAt(thumbnail, 100, 70)).toEqual([...slide.expectedPixel(400, 280), 255]);
        const label = await reader.readAssociatedImage('label');
        expect([label.width, label.height]).toEqual([120, 100]);
        expect(pixelAt(label, 119, 99)).toEqual([...labelRgb, 255]);
        const macro = await reader.readAssociatedImage('macro');
        expect([macro.width, macro.height]).toEqual([300, 100]);
        expect(maxChannelError(pixelAt(macro, 150, 50), macroRgb)).toBeLessThanOrEqual(3);

        const error = await reader.readAssociatedImage('overview').catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(SlideError);
        expect((error as SlideError).message).toContain(slide.path);
        expect((error as SlideError).message).toContain('no associated image "overview"');
      } finally {
        await reader.close();
      }
    });
  }
});

describe('TiffSlideReader on an OME-TIFF', () => {
  it('takes levels from SubIFDs and mpp from PhysicalSize in any unit', async () => {
    const slide = await writeSyntheticOmeTiff(dir);
    const reader = await openTiffSlide(slide.path);
    try {
      expect(reader.properties).toEqual({ vendor: 'ome-tiff', mppX: 0.25, mppY: 0.26, objectivePower: 20 });
      expect(reader.levels.map((level) => [level.width, level.height])).toEqual(
        slide.levelSizes.map((size) => [size.width, size.height]),
      );
      for (const [level, size] of slide.levelSizes.entries()) {
        const image = await reader.readRegion(level, 0, 0, size.width, size.height);
        for (const [x, y] of [[0, 0], [size.width - 1, size.height - 1], [Math.floor(size.width / 3), Math.floor(size.height / 2)]] as const) {
          expect(pixelAt(image, x, y)).toEqual([...slide.expectedLevelPixel(level, x, y), 255]);
        }
      }
      expect(reader.associatedImageNames).toEqual(['label']);
      expect(pixelAt(await reader.readAssociatedImage('label'), 10, 10)).toEqual([...labelRgb, 255]);
    } finally {
      await reader.close();
    }
  });
});

describe.skipIf(!hasSharedData)('TiffSlideReader on the shared CMU-1 slides', () => {
  it('opens the Aperio SVS with its properties and associated images', async () => {
    const reader = await openTiffSlide(svsPath);
    try {
      expect(reader.properties).toEqual({ vendor: 'aperio', mppX: 0.499, mppY: 0.499, objectivePower: 20 });
      expect(reader.levels).toEqual([{ width: 2220, height: 2967, downsample: 1, tileWidth: 240, tileHeight: 240 }]);
      expect([...reader.associatedImageNames].sort()).toEqual(['label', 'macro', 'thumbnail']);
      const sizes = await Promise.all(
        ['thumbnail', 'label', 'macro'].map(async (name) => {
          const image = await reader.readAssociatedImage(name);
          return [image.width, image.height];
        }),
      );
      expect(sizes).toEqual([[574, 768], [387, 463], [1280, 431]]);
    } finally {
      await reader.close();
    }
  });

  it('serves SVS tiles as JPEGs sharp decodes, with sensible H&E colours', async () => {
    const reader = await openTiffSlide(svsPath);
    try {
      const tile = await reader.readEncodedTile(0, 0, 0);
      expect(tile).toMatchObject({ mimeType: 'image/jpeg', width: 240, height: 240 });
      const metadata = await sharp(tile!.data).metadata();
      expect([metadata.format, metadata.width, metadata.height]).toEqual(['jpeg', 240, 240]);
      await sharp(tile!.data).raw().toBuffer();

      // Mostly light pink/white background: wrong YCbCr handling would turn it green or magenta.
      const level0 = await reader.readRegion(0, 0, 0, 2220, 2967);
      const [r, g, b] = meanRgb(level0);
      expect(Math.min(r, g, b)).toBeGreaterThan(180);
      expect(r).toBeGreaterThan(g);
      const thumbnailMean = meanRgb(await reader.readAssociatedImage('thumbnail'));
      expect(maxChannelError(thumbnailMean, [r, g, b])).toBeLessThan(3);
    } finally {
      await reader.close();
    }
  });

  it('opens the libvips pyramid of the same slide with matching colours', async () => {
    const reader = await openTiffSlide(pyramidPath);
    const svs = await openTiffSlide(svsPath);
    try {
      expect(reader.properties.vendor).toBe('generic-tiff');
      expect(reader.properties.mppX).toBeCloseTo(0.499, 3);
      expect(reader.properties.mppY).toBeCloseTo(0.499, 3);
      expect(reader.levels).toHaveLength(5);
      expect(reader.levels.every((level) => level.tileWidth === 256 && level.tileHeight === 256)).toBe(true);
      expect(reader.levels.map((level) => level.width)).toEqual([2220, 1110, 555, 277, 138]);
      const a = await reader.readRegion(0, 1000, 1000, 400, 400);
      const b = await svs.readRegion(0, 1000, 1000, 400, 400);
      expect(maxChannelError(meanRgb(a), meanRgb(b))).toBeLessThan(3);
    } finally {
      await reader.close();
      await svs.close();
    }
  });
});

it('keeps syntheticPixel deterministic for other tests', () => {
  expect(syntheticPixel(0, 0, 100, 100)).toEqual([0, 0, 160]);
  expect(syntheticPixel(99, 99, 100, 100)).toEqual([255, 255, 160]);
});
