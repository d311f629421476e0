import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { EncodedTile, RgbaImage, SlideLevel, SlideReader } from '../../../src-main/services/slides/SlideReader';
import { TileCache } from '../../../src-main/services/slides/TileCache';
import { TileGrid, TileOutOfRangeError, bestNativeLevel, chooseTileSize } from '../../../src-main/services/slides/TileGrid';

const RED = [220, 30, 40] as const;
const BLUE = [30, 40, 220] as const;

/**
 * An in-memory slide: left half of level 0 red, right half blue, at every level. Stored tiles
 * are marker bytes (not real JPEG) so a passthrough is recognisable by identity.
 */
class FakeSlide implements SlideReader {
  readonly kind = 'tiff' as const;
  readonly path = '/fake/slide.tif';
  readonly properties = { vendor: 'fake', mppX: 0.25, mppY: 0.25, objectivePower: 40 };
  readonly associatedImageNames = [];
  regionReads: Array<[number, number, number, number, number]> = [];
  encodedReads: Array<[number, number, number]> = [];
  storedTiles = true;
  failNextRead = false;

  constructor(readonly levels: SlideLevel[]) {}

  async readRegion(level: number, levelX: number, levelY: number, width: number, height: number): Promise<RgbaImage> {
    this.regionReads.push([level, levelX, levelY, width, height]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.failNextRead) {
      this.failNextRead = false;
      throw new Error('disk on fire');
    }
    const native = this.levels[level]!;
    const data = Buffer.alloc(width * height * 4);
    // Every row is the same; rows below the level stay transparent.
    const rowBytes = Buffer.alloc(width * 4);
    for (let x = 0; x < width && levelX + x < native.width; x++) {
      const colour = (levelX + x) * native.downsample < this.levels[0]!.width / 2 ? RED : BLUE;
      rowBytes.set([...colour, 255], x * 4);
    }
    for (let y = 0; y < height && levelY + y < native.height; y++) rowBytes.copy(data, y * width * 4);
    return { width, height, data };
  }

  async readEncodedTile(level: number, column: number, row: number): Promise<EncodedTile | null> {
    this.encodedReads.push([level, column, row]);
    if (!this.storedTiles) return null;
    const native = this.levels[level]!;
    return {
      mimeType: 'image/jpeg',
      data: Buffer.from(`stored ${level}/${column}/${row}`),
      width: native.tileWidth,
      height: native.tileHeight,
    };
  }

  readAssociatedImage(): Promise<RgbaImage> {
    return Promise.reject(new Error('none'));
  }

  async close(): Promise<void> {}
}

function level(width: number, height: number, downsample: number, tile = 256): SlideLevel {
  return { width, height, downsample, tileWidth: tile, tileHeight: tile };
}

/** 2000×1500 with native levels at 1, 2 (rounded like real pyramids) and 8. */
function pyramid(): FakeSlide {
  return new FakeSlide([level(2000, 1500, 1), level(1000, 750, 2.0003), level(250, 187, 8.01)]);
}

async function decode(data: Buffer): Promise<{ width: number; height: number; pixels: Buffer }> {
  const { data: pixels, info } = await sharp(data).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, pixels };
}

function pixelAt(image: { width: number; pixels: Buffer }, x: number, y: number): number[] {
  const offset = (y * image.width + x) * 3;
  return [...image.pixels.subarray(offset, offset + 3)];
}

function expectColourNear(actual: number[], expected: readonly number[]): void {
  actual.forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThanOrEqual(12));
}

describe('TileGrid layout', () => {
  it('uses the stored tile size when every level has square tiles of a sensible size', () => {
    expect(chooseTileSize([level(100, 100, 1, 240), level(50, 50, 2, 240)])).toBe(240);
    expect(chooseTileSize([level(100, 100, 1, 512)])).toBe(512);
    expect(chooseTileSize([level(100, 100, 1, 64)])).toBe(256);
    expect(chooseTileSize([level(100, 100, 1, 2048)])).toBe(256);
    expect(chooseTileSize([{ width: 100, height: 100, downsample: 1, tileWidth: 512, tileHeight: 16 }])).toBe(256);
    expect(chooseTileSize([level(100, 100, 1, 240), level(50, 50, 2, 100)])).toBe(256);
  });

  it('describes the Deep Zoom pyramid', () => {
    const grid = new TileGrid(new FakeSlide([level(2220, 2967, 1, 240)]));
    expect(grid.describe()).toEqual({ width: 2220, height: 2967, tileSize: 240, minLevel: 0, maxLevel: 12 });
    expect(grid.levelSize(12)).toEqual({ width: 2220, height: 2967 });
    expect(grid.levelSize(11)).toEqual({ width: 1110, height: 1484 });
    expect(grid.levelSize(0)).toEqual({ width: 1, height: 1 });
    expect(new TileGrid(new FakeSlide([level(1024, 10, 1)])).maxLevel).toBe(10);
    expect(new TileGrid(new FakeSlide([level(1025, 10, 1)])).maxLevel).toBe(11);
    expect(new TileGrid(new FakeSlide([level(1, 1, 1)])).maxLevel).toBe(0);
  });

  it('picks the coarsest native level that is not coarser than asked', () => {
    const levels = pyramid().levels;
    expect(bestNativeLevel(levels, 1)).toBe(0);
    expect(bestNativeLevel(levels, 2)).toBe(1);
    expect(bestNativeLevel(levels, 4)).toBe(1);
    expect(bestNativeLevel(levels, 8)).toBe(2); // 8.01 is within 1% of 8
    expect(bestNativeLevel(levels, 64)).toBe(2);
  });
});

describe('TileGrid tiles', () => {
  it('passes a full interior stored tile through untouched', async () => {
    const slide = pyramid();
    const grid = new TileGrid(slide);
    const tile = await grid.readTile(grid.maxLevel, 1, 2);
    expect(tile.source).toBe('stored');
    expect(tile.data.toString()).toBe('stored 0/1/2');
    expect(slide.regionReads).toEqual([]);
  });

  it('passes through from a native level whose downsample is within 1%', async () => {
    const slide = pyramid();
    const grid = new TileGrid(slide);
    const tile = await grid.readTile(grid.maxLevel - 1, 2, 1);
    expect(tile.data.toString()).toBe('stored 1/2/1');
    expect(slide.encodedReads).toEqual([[1, 2, 1]]);
  });

  it('renders edge tiles at their true size instead of passing padded ones through', async () => {
    const slide = pyramid();
    const grid = new TileGrid(slide);
    // Level 0 is 2000 wide: column 7 holds pixels 1792..1999.
    const tile = await grid.readTile(grid.maxLevel, 7, 0);
    expect(tile.source).toBe('rendered');
    expect(tile.mimeType).toBe('image/jpeg');
    const image = await decode(tile.data);
    expect([image.width, image.height]).toEqual([208, 256]);
    expect(slide.regionReads).toEqual([[0, 1792, 0, 208, 256]]);
    expectColourNear(pixelAt(image, 100, 100), BLUE);
  });

  it('renders when the reader has no stored bytes', async () => {
    const slide = pyramid();
    slide.storedTiles = false;
    const tile = await new TileGrid(slide).readTile(11, 0, 0);
    expect(tile.source).toBe('rendered');
    expect((await decode(tile.data)).width).toBe(256);
  });

  it('downsamples from the closest finer native level', async () => {
    const slide = pyramid();
    const grid = new TileGrid(slide);
    // OSD level maxLevel-2 is 1/4 (500×375), drawn from native level 1 (1/2) at half size.
    const tile = await grid.readTile(grid.maxLevel - 2, 0, 0);
    expect(tile.source).toBe('rendered');
    expect(slide.regionReads).toEqual([[1, 0, 0, 512, 512]]);
    const image = await decode(tile.data);
    expect([image.width, image.height]).toEqual([256, 256]);
    // The tile spans level-0 x 0..1023; the colours change at x = 1000, i.e. tile x 250.
    expectColourNear(pixelAt(image, 10, 10), RED);
    expectColourNear(pixelAt(image, 240, 10), RED);
    expectColourNear(pixelAt(image, 255, 10), BLUE);
  });

  it('shows areas outside the slide as white', async () => {
    // Native level 2 (250×180) is smaller than OSD's 1/8 level (250×188): rows 180+ are outside.
    const slide = new FakeSlide([level(2000, 1500, 1), level(250, 180, 8.01)]);
    slide.storedTiles = false;
    const grid = new TileGrid(slide);
    const image = await decode((await grid.readTile(grid.maxLevel - 3, 0, 0)).data);
    expect([image.width, image.height]).toEqual([250, 188]);
    expectColourNear(pixelAt(image, 10, 186), [255, 255, 255]);
    expectColourNear(pixelAt(image, 10, 100), RED);
  });

  it('builds tiles far below the coarsest native level from finer tiles', async () => {
    // 4096² without a pyramid: 1/16 reads 2048² native pixels per 128-px tile (the limit);
    // 1/32 would need 4096², so it is made from four 1/16 tiles instead.
    const slide = new FakeSlide([level(4096, 4096, 1, 128)]);
    slide.storedTiles = false;
    const cache = new TileCache(10_000_000);
    const grid = new TileGrid(slide, cache, 'flat');
    expect(grid.describe()).toMatchObject({ tileSize: 128, minLevel: 0, maxLevel: 12 });

    const tile = await grid.readTile(7, 0, 0);
    expect(slide.regionReads).toEqual([
      [0, 0, 0, 2048, 2048],
      [0, 2048, 0, 2048, 2048],
      [0, 0, 2048, 2048, 2048],
      [0, 2048, 2048, 2048, 2048],
    ]);
    expect(cache.get('flat/8/1_1')).toBeDefined();
    const image = await decode(tile.data);
    expect([image.width, image.height]).toEqual([128, 128]);
    expectColourNear(pixelAt(image, 20, 64), RED);
    expectColourNear(pixelAt(image, 108, 64), BLUE);

    // The whole pyramid down to 1×1 is served from what is already there.
    const tiny = await decode((await grid.readTile(0, 0, 0)).data);
    expect([tiny.width, tiny.height]).toEqual([1, 1]);
    expect(slide.regionReads).toHaveLength(4);
  });

  it('rejects tiles outside the pyramid', async () => {
    const grid = new TileGrid(pyramid());
    const outside: Array<[number, number, number]> = [
      [grid.maxLevel + 1, 0, 0],
      [-1, 0, 0],
      [grid.maxLevel, 8, 0], // 8 × 256 = 2048 > 2000
      [grid.maxLevel, 0, 6],
      [grid.maxLevel, -1, 0],
      [grid.maxLevel, 0.5, 0],
      [0, 1, 0],
    ];
    for (const [lvl, column, row] of outside) {
      await expect(grid.readTile(lvl, column, row)).rejects.toBeInstanceOf(TileOutOfRangeError);
    }
    await expect(grid.readTile(0, 0, 0)).resolves.toMatchObject({ source: 'rendered' });
  });

  it('serves repeated requests from the cache under the documented key', async () => {
    const slide = pyramid();
    slide.storedTiles = false;
    const cache = new TileCache(10_000_000);
    const grid = new TileGrid(slide, cache, '7@3');
    const first = await grid.readTile(10, 1, 0);
    const again = await grid.readTile(10, 1, 0);
    expect(again.source).toBe('cache');
    expect(again.data).toBe(first.data);
    expect(slide.regionReads).toHaveLength(1);
    expect(cache.get('7@3/10/1_0')?.data).toBe(first.data);
  });

  it('produces a tile once for concurrent requests', async () => {
    const slide = pyramid();
    slide.storedTiles = false;
    const grid = new TileGrid(slide, new TileCache(10_000_000), 's');
    const tiles = await Promise.all([grid.readTile(9, 0, 0), grid.readTile(9, 0, 0), grid.readTile(9, 0, 0)]);
    expect(slide.regionReads).toHaveLength(1);
    expect(tiles[1]!.data).toBe(tiles[0]!.data);
  });

  it('passes a read failure on and tries again next time', async () => {
    const slide = pyramid();
    slide.storedTiles = false;
    const cache = new TileCache(10_000_000);
    const grid = new TileGrid(slide, cache, 's');
    slide.failNextRead = true;
    await expect(grid.readTile(9, 0, 0)).rejects.toThrow('disk on fire');
    expect(cache.stats().entries).toBe(0);
    await expect(grid.readTile(9, 0, 0)).resolves.toMatchObject({ source: 'rendered' });
  });
});
