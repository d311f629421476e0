import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  argbToRgbaInPlace,
  detectOpenSlideVendor,
  openOpenSlide,
  openSlideLibraryStatus,
} from '../../../src-main/services/slides/OpenSlideReader';
import { SlideError } from '../../../src-main/services/slides/SlideError';
import { cmuPyramidPath, cmuSvsPath, hasSharedSlides, warnWhenSharedSlidesAbsent } from '../../fixtures/sharedData';
import type { RgbaImage } from '../../../src-main/services/slides/SlideReader';

const svsPath = cmuSvsPath;
const pyramidPath = cmuPyramidPath;

const library = openSlideLibraryStatus();
const haveSharedData = hasSharedSlides;
if (!library.available) console.warn(`OpenSlide reader tests skipped: ${library.reason}`);
warnWhenSharedSlidesAbsent('OpenSlide real-slide tests');

let tempDir: string;
beforeAll(() => {
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-openslide-'));
});
afterAll(() => {
  fs.rmSync(tempDir, { recursive: true, force: true });
});

async function expectSlideError(promise: Promise<unknown>, kind: SlideError['kind'], reason?: RegExp): Promise<SlideError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SlideError);
  const slideError = error as SlideError;
  expect(slideError.kind).toBe(kind);
  if (reason) expect(slideError.reason).toMatch(reason);
  return slideError;
}

function meanAbsoluteDifference(a: RgbaImage, b: RgbaImage): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

/** 2×2 box filter, the way the level-1 of a pyramid is made from level 0. */
function halve(image: RgbaImage): RgbaImage {
  const width = image.width / 2;
  const height = image.height / 2;
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        const at = (dx: number, dy: number) => image.data[((2 * y + dy) * image.width + 2 * x + dx) * 4 + c]!;
        data[(y * width + x) * 4 + c] = Math.round((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1)) / 4);
      }
    }
  }
  return { width, height, data };
}

describe('argbToRgbaInPlace', () => {
  it('reorders native ARGB to RGBA bytes and un-premultiplies partial alpha', () => {
    const argb = new Uint32Array([0xff102030, 0x80406080, 0x00000000, 0x40ffffff]);
    const pixels = Buffer.from(argb.buffer);
    argbToRgbaInPlace(pixels);
    expect([...pixels.subarray(0, 4)]).toEqual([0x10, 0x20, 0x30, 0xff]);
    // 0x40 premultiplied by 0x80/255 is 128/255 of the straight value.
    expect([...pixels.subarray(4, 8)]).toEqual([128, 191, 255, 128]);
    expect([...pixels.subarray(8, 12)]).toEqual([0, 0, 0, 0]);
    // Out-of-range premultiplied values (colour > alpha) are clamped, not wrapped.
    expect([...pixels.subarray(12, 16)]).toEqual([255, 255, 255, 0x40]);
  });
});

describe('OpenSlide library missing', () => {
  it('reports why and declines every file as unsupported', async () => {
    vi.resetModules();
    vi.doMock('koffi', () => ({
      default: {
        load: () => {
          throw new Error('cannot open shared object file');
        },
      },
    }));
    try {
      const reader = await import('../../../src-main/services/slides/OpenSlideReader');
      expect(reader.openSlideLibraryStatus()).toEqual({
        available: false,
        version: null,
        reason: 'OpenSlide library not found (install libopenslide0)',
      });
      expect(reader.detectOpenSlideVendor(import.meta.filename)).toBeNull();
      // A fresh module graph has its own SlideError class, so compare by name.
      await expect(reader.openOpenSlide(import.meta.filename)).rejects.toMatchObject({
        name: 'SlideError',
        kind: 'unsupported',
        reason: 'OpenSlide library not found (install libopenslide0)',
      });
    } finally {
      vi.doUnmock('koffi');
      vi.resetModules();
    }
  });
});

describe.skipIf(!library.available)('OpenSlideReader bad inputs', () => {
  it('reports the library version', () => {
    expect(library.version).toMatch(/^\d+\.\d+/);
  });

  it('declines a file that is not a slide', async () => {
    const garbage = path.join(tempDir, 'garbage.svs');
    fs.writeFileSync(garbage, Buffer.alloc(64 * 1024, 0x5a));
    await expectSlideError(openOpenSlide(garbage), 'unsupported', /OpenSlide does not recognise this format/);
    expect(detectOpenSlideVendor(garbage)).toBeNull();
  });

  it('declines an empty file', async () => {
    const empty = path.join(tempDir, 'empty.tif');
    fs.writeFileSync(empty, '');
    await expectSlideError(openOpenSlide(empty), 'unsupported');
  });

  it('reports a missing file as missing', async () => {
    const error = await expectSlideError(openOpenSlide(path.join(tempDir, 'nope.svs')), 'missing');
    expect(error.message).toContain('nope.svs');
  });
});

describe.skipIf(!library.available || !haveSharedData)('OpenSlideReader on real slides', () => {
  it('reads the Aperio metadata', async () => {
    expect(detectOpenSlideVendor(svsPath)).toBe('aperio');
    const reader = await openOpenSlide(svsPath);
    try {
      expect(reader.kind).toBe('openslide');
      expect(reader.path).toBe(svsPath);
      expect(reader.levels).toEqual([{ width: 2220, height: 2967, downsample: 1, tileWidth: 240, tileHeight: 240 }]);
      expect(reader.properties).toEqual({ vendor: 'aperio', mppX: 0.499, mppY: 0.499, objectivePower: 20 });
      expect([...reader.associatedImageNames].sort()).toEqual(['label', 'macro', 'thumbnail']);
      expect(reader.rawProperties()['aperio.AppMag']).toBe('20');
    } finally {
      await reader.close();
    }
  });

  it('reads a generic pyramidal TIFF, with µm per pixel from its resolution tags', async () => {
    const reader = await openOpenSlide(pyramidPath);
    try {
      expect(reader.levels.map((l) => [l.width, l.height])).toEqual([
        [2220, 2967],
        [1110, 1483],
        [555, 741],
        [277, 370],
        [138, 185],
      ]);
      expect(reader.levels[1]!.downsample).toBeCloseTo(2, 2);
      expect(reader.levels.every((l) => l.tileWidth === 256 && l.tileHeight === 256)).toBe(true);
      expect(reader.properties.vendor).toBe('generic-tiff');
      expect(reader.properties.mppX).toBeCloseTo(0.499, 4);
      expect(reader.properties.mppY).toBeCloseTo(0.499, 4);
      expect(reader.properties.objectivePower).toBeNull();
      expect(reader.associatedImageNames).toEqual([]);
    } finally {
      await reader.close();
    }
  });

  it('takes region origins in the level’s own pixels', async () => {
    const reader = await openOpenSlide(pyramidPath);
    try {
      const level1 = await reader.readRegion(1, 300, 400, 64, 64);
      const level0 = await reader.readRegion(0, 600, 800, 128, 128);
      const elsewhere = await reader.readRegion(0, 1200, 1600, 128, 128);
      // Same place: only resampling and JPEG differences. Twice the coordinates: a different place.
      expect(meanAbsoluteDifference(level1, halve(level0))).toBeLessThan(4);
      expect(meanAbsoluteDifference(level1, halve(elsewhere))).toBeGreaterThan(10);
    } finally {
      await reader.close();
    }
  });

  it('returns straight RGBA, transparent beyond the slide', async () => {
    const reader = await openOpenSlide(svsPath);
    try {
      const region = await reader.readRegion(0, 2200, 2950, 40, 30);
      expect(region.data.length).toBe(40 * 30 * 4);
      const pixel = (x: number, y: number) => [...region.data.subarray((y * 40 + x) * 4, (y * 40 + x) * 4 + 4)];
      expect(pixel(0, 0)[3]).toBe(255);
      expect(pixel(19, 16)[3]).toBe(255);
      expect(pixel(20, 0)).toEqual([0, 0, 0, 0]);
      expect(pixel(0, 17)).toEqual([0, 0, 0, 0]);
      await expect(reader.readEncodedTile()).resolves.toBeNull();
    } finally {
      await reader.close();
    }
  });

  it('reads the associated images', async () => {
    const reader = await openOpenSlide(svsPath);
    try {
      const label = await reader.readAssociatedImage('label');
      expect([label.width, label.height]).toEqual([387, 463]);
      const thumbnail = await reader.readAssociatedImage('thumbnail');
      expect([thumbnail.width, thumbnail.height]).toEqual([574, 768]);
      expect(thumbnail.data.length).toBe(574 * 768 * 4);
      expect(thumbnail.data[3]).toBe(255);
      await expectSlideError(reader.readAssociatedImage('overview'), 'missing', /no associated image "overview"/);
    } finally {
      await reader.close();
    }
  });

  it('rejects bad regions', async () => {
    const reader = await openOpenSlide(pyramidPath);
    try {
      await expect(reader.readRegion(5, 0, 0, 10, 10)).rejects.toThrow(RangeError);
      await expect(reader.readRegion(0, 0, 0, 0, 10)).rejects.toThrow(RangeError);
      await expect(reader.readRegion(0, 0, 0, 10.5, 10)).rejects.toThrow(RangeError);
    } finally {
      await reader.close();
    }
  });

  it('closes once, after reads still running, and refuses reads afterwards', async () => {
    const reader = await openOpenSlide(svsPath);
    const running = reader.readRegion(0, 0, 0, 1024, 1024);
    await Promise.all([reader.close(), reader.close()]);
    expect((await running).width).toBe(1024);
    await expectSlideError(reader.readRegion(0, 0, 0, 8, 8), 'corrupt', /closed/);
    await expectSlideError(reader.readAssociatedImage('label'), 'corrupt', /closed/);
  });

  it('gives a SlideError, not a crash, when the file vanishes after opening', async () => {
    const copy = path.join(tempDir, 'vanishing.svs');
    fs.copyFileSync(svsPath, copy);
    const reader = await openOpenSlide(copy);
    try {
      await reader.readRegion(0, 0, 0, 16, 16);
      fs.rmSync(copy);
      const reads = [0, 1, 2, 3].map((i) => reader.readRegion(0, i * 500, i * 600, 300, 300));
      await Promise.allSettled(reads);
      for (const read of reads) await expectSlideError(read, 'missing');
    } finally {
      await reader.close();
    }
  });

  it('gives a SlideError when the file is damaged after opening', async () => {
    const copy = path.join(tempDir, 'truncated.svs');
    fs.copyFileSync(svsPath, copy);
    const reader = await openOpenSlide(copy);
    try {
      fs.truncateSync(copy, 100_000);
      await expectSlideError(reader.readRegion(0, 1000, 1000, 300, 300), 'corrupt');
    } finally {
      await reader.close();
    }
  });

  it('declines a truncated slide it cannot parse', async () => {
    const truncated = path.join(tempDir, 'cut.svs');
    fs.writeFileSync(truncated, fs.readFileSync(svsPath).subarray(0, 1_000_000));
    await expect(openOpenSlide(truncated)).rejects.toBeInstanceOf(SlideError);
  });
});
