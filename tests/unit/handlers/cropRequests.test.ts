import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlideSummary } from '../../../src-main/contract/schemas';
import { answerTileRequest, cropPath, type TileResponse } from '../../../src-main/handlers/tileRequests';
import { Workspace } from '../../../src-main/handlers/Workspace';
import { AppSettings } from '../../../src-main/services/project/AppSettings';
import { cropSource } from '../../../src-main/services/slides/cellCrop';
import {
  copyInto,
  makeTempDir,
  removeTempDir,
  squareCentre,
  writeSyntheticImage,
  writeSyntheticPyramid,
  type SyntheticSlide,
} from '../../fixtures/syntheticSlides';

const IMMUTABLE = 'private, max-age=31536000, immutable';

let dir: string;
let workspace: Workspace;
let pyramid: SyntheticSlide;
let pyramidSlide: SlideSummary;
let imageSlide: SlideSummary;
let image: SyntheticSlide;

beforeAll(async () => {
  dir = await makeTempDir('mitobench-crop-requests-');
  workspace = new Workspace(new AppSettings(path.join(dir, 'settings.json')), 'browser', 'test');
  pyramid = await writeSyntheticPyramid(dir, { width: 1600, height: 1200 });
  image = await writeSyntheticImage(dir, { width: 640, height: 512, format: 'png' });
  await workspace.createProject(path.join(dir, 'project'), 'Crops');
  const { added, failed } = await workspace.slides().add([pyramid.path, image.path]);
  expect(failed).toEqual([]);
  [pyramidSlide, imageSlide] = added as [SlideSummary, SlideSummary];
});
afterAll(async () => {
  await workspace.closeProject();
  await removeTempDir(dir);
});

async function rgbOf(answer: TileResponse, cacheControl = IMMUTABLE): Promise<{ data: Buffer; width: number; height: number }> {
  expect(answer.status, String(answer.body)).toBe(200);
  expect(answer.headers['Content-Type']).toBe('image/jpeg');
  expect(answer.headers['Cache-Control']).toBe(cacheControl);
  const { data, info } = await sharp(answer.body as Buffer).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean absolute difference per channel between a decoded crop (RGB) and a region (RGBA). */
function meanDifference(rgb: Buffer, rgba: Buffer): number {
  let sum = 0;
  const pixels = rgba.length / 4;
  for (let index = 0; index < pixels; index++) {
    for (let channel = 0; channel < 3; channel++) sum += Math.abs(rgb[index * 3 + channel]! - rgba[index * 4 + channel]!);
  }
  return sum / (pixels * 3);
}

function pixelAt(rgb: { data: Buffer; width: number }, x: number, y: number): number[] {
  const at = (y * rgb.width + x) * 3;
  return [rgb.data[at]!, rgb.data[at + 1]!, rgb.data[at + 2]!];
}

describe('cell crops', () => {
  it('addresses a crop by slide id, version, centre, size and downsample', () => {
    expect(cropPath(7, 'abcd1234.3', 100.4, 99.6, 128, 2)).toBe('7/vabcd1234.3/crop/100_100_128_2.jpg');
    expect(cropPath(7, 'abcd1234.3', -5, 3, 96, 0.5)).toBe('7/vabcd1234.3/crop/0_3_96_0.5.jpg');
  });

  it('reads full resolution from level 0: its pixels are readRegion’s', async () => {
    const size = 128;
    const centre = { x: 700, y: 460 };
    const crop = await rgbOf(await answerTileRequest(workspace, cropPath(pyramidSlide.id, pyramidSlide.tileVersion, centre.x, centre.y, size, 1)));
    expect([crop.width, crop.height]).toEqual([size, size]);
    const region = await workspace.slides().readRegion(pyramidSlide.id, 0, centre.x - size / 2, centre.y - size / 2, size, size);
    expect(meanDifference(crop.data, region.data)).toBeLessThan(2);
    // And it is the slide's pattern, centred: the flat square of cell (5, 3) lies at the crop's centre.
    const square = squareCentre(5, 3);
    const expected = pyramid.expectedPixel(square.x, square.y);
    const found = pixelAt(crop, square.x - centre.x + size / 2, square.y - centre.y + size / 2);
    found.forEach((value, channel) => expect(Math.abs(value - expected[channel]!)).toBeLessThan(8));
  });

  it('reads a lower magnification from the pyramid level that has it, not from level 0', async () => {
    expect(pyramidSlide.levels.map((level) => level.downsample)).toContain(2);
    const source = cropSource(pyramidSlide.levels, 800, 600, 100, 2);
    expect(source).toEqual({ level: 1, left: 350, top: 250, width: 100, height: 100 });
    const crop = await rgbOf(await answerTileRequest(workspace, cropPath(pyramidSlide.id, pyramidSlide.tileVersion, 800, 600, 100, 2)));
    const region = await workspace.slides().readRegion(pyramidSlide.id, 1, 350, 250, 100, 100);
    // JPEG's loss only; the same region 16 pixels off differs far more.
    expect(meanDifference(crop.data, region.data)).toBeLessThan(3.5);
    const shifted = await workspace.slides().readRegion(pyramidSlide.id, 1, 366, 250, 100, 100);
    expect(meanDifference(crop.data, shifted.data)).toBeGreaterThan(10);
    // Between levels (3 level-0 pixels per crop pixel): level 1, resized.
    expect(cropSource(pyramidSlide.levels, 800, 600, 100, 3)).toEqual({ level: 1, left: 325, top: 225, width: 150, height: 150 });
  });

  it('resizes when the slide has no level at that scale, and paints outside the slide white', async () => {
    expect(imageSlide.levels).toHaveLength(1);
    // Centred on the corner: three quarters are outside the image.
    const crop = await rgbOf(await answerTileRequest(workspace, cropPath(imageSlide.id, imageSlide.tileVersion, 0, 0, 64, 4)));
    expect([crop.width, crop.height]).toEqual([64, 64]);
    for (const value of pixelAt(crop, 5, 5)) expect(value).toBeGreaterThan(245);
    // Inside: cell (0, 0)'s flat square at (64, 64) is crop pixel (32 + 16, 32 + 16).
    const expected = image.expectedPixel(64, 64);
    pixelAt(crop, 48, 48).forEach((value, channel) => expect(Math.abs(value - expected[channel]!)).toBeLessThan(10));
  });

  it('is versioned like tiles: stale versions are not cacheable, a relink changes the address and drops cached crops', async () => {
    const file = await copyInto(pyramid.path, dir, 'to-relink.tif');
    const slide = (await workspace.slides().add([file])).added[0]!;
    const before = cropPath(slide.id, slide.tileVersion, 300, 300, 64, 1);
    await rgbOf(await answerTileRequest(workspace, before));
    expect(workspace.tileCache.get(`${slide.id}@${slide.tileVersion}/crop/300_300_64_1`)).toBeDefined();

    const moved = path.join(dir, 'relinked.tif');
    fs.renameSync(file, moved);
    // The file is gone: no crop, even from the reader that is still open.
    const gone = await answerTileRequest(workspace, before);
    expect(gone.status).toBe(404);
    expect(String(gone.body)).toContain('to-relink.tif');

    const relinked = await workspace.slides().relink(slide.id, moved);
    expect(relinked.tileVersion).not.toBe(slide.tileVersion);
    expect(workspace.tileCache.get(`${slide.id}@${slide.tileVersion}/crop/300_300_64_1`)).toBeUndefined();
    const after = cropPath(slide.id, relinked.tileVersion, 300, 300, 64, 1);
    expect(after).not.toBe(before);
    await rgbOf(await answerTileRequest(workspace, after));
    await rgbOf(await answerTileRequest(workspace, before), 'no-cache');
  });

  it('refuses sizes and downsamples out of range, and unknown slides, saying why', async () => {
    const v = pyramidSlide.tileVersion;
    const refused = async (address: string, status: number) => {
      const answer = await answerTileRequest(workspace, address);
      expect(answer.status, address).toBe(status);
      expect(answer.headers['Content-Type']).toBe('text/plain; charset=utf-8');
      return String(answer.body);
    };
    expect(await refused(`${pyramidSlide.id}/v${v}/crop/10_10_2000_1.jpg`, 400)).toContain('crop size must be 16 to 1024 pixels (got 2000)');
    expect(await refused(`${pyramidSlide.id}/v${v}/crop/10_10_8_1.jpg`, 400)).toContain('crop size must be 16 to 1024');
    expect(await refused(`${pyramidSlide.id}/v${v}/crop/10_10_128_0.1.jpg`, 400)).toContain('crop downsample must be 0.25 to 64');
    expect(await refused(`${pyramidSlide.id}/v${v}/crop/10_10_1024_64.jpg`, 400)).toContain('would read');
    expect(await refused(`${pyramidSlide.id}/v${v}/crop/-10_10_128_1.jpg`, 400)).toContain('not a tile address');
    expect(await refused(`${pyramidSlide.id}/v${v}/crop/10_10_128.jpg`, 400)).toContain('not a tile address');
    expect(await refused(`${pyramidSlide.id}/v${v}/crop/../../x.jpg`, 400)).toContain('not a tile address');
    expect(await refused(`999/v${v}/crop/10_10_128_1.jpg`, 404)).toBe('slide 999 is not in this project');
  });
});
