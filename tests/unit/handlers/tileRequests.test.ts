import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SlideSummary } from '../../../src-main/contract/schemas';
import { answerTileRequest, tilePath, type TileResponse } from '../../../src-main/handlers/tileRequests';
import { Workspace } from '../../../src-main/handlers/Workspace';
import { AppSettings } from '../../../src-main/services/project/AppSettings';
import {
  copyInto,
  labelRgb,
  makeTempDir,
  removeTempDir,
  writeSyntheticAperio,
  writeSyntheticPyramid,
} from '../../fixtures/syntheticSlides';
import type { SyntheticAperio } from '../../fixtures/syntheticSlides';

const IMMUTABLE = 'private, max-age=31536000, immutable';

let dir: string;
let workspace: Workspace;
let pyramidSlide: SlideSummary;
let aperioSlide: SlideSummary;
let aperio: SyntheticAperio;
let pyramidFile: string;

beforeAll(async () => {
  dir = await makeTempDir('mitobench-tile-requests-');
  workspace = new Workspace(new AppSettings(path.join(dir, 'settings.json')), 'browser', 'test');
  pyramidFile = (await writeSyntheticPyramid(dir, { width: 700, height: 500 })).path;
  aperio = await writeSyntheticAperio(dir);
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(async () => {
  await workspace.closeProject();
  await removeTempDir(dir);
});

function expectJpeg(answer: TileResponse, cacheControl: string): Buffer {
  expect(answer.status, String(answer.body)).toBe(200);
  expect(answer.headers['Content-Type']).toBe('image/jpeg');
  expect(answer.headers['Cache-Control']).toBe(cacheControl);
  const body = answer.body as Buffer;
  expect(Buffer.isBuffer(body)).toBe(true);
  expect(answer.headers['Content-Length']).toBe(String(body.length));
  expect([...body.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  return body;
}

function expectText(answer: TileResponse, status: number): string {
  expect(answer.status).toBe(status);
  expect(answer.headers['Content-Type']).toBe('text/plain; charset=utf-8');
  expect(answer.headers['Cache-Control']).toBe('no-store');
  return String(answer.body);
}

describe('before a project is open', () => {
  it('answers 409 asking for a project', async () => {
    expect(expectText(await answerTileRequest(workspace, '1/v1/0/0_0.jpg'), 409)).toBe('Open or create a project first.');
  });
});

describe('with a project', () => {
  beforeAll(async () => {
    await workspace.createProject(path.join(dir, 'project'), 'Tiles');
    const { added, failed } = await workspace.slides().add([pyramidFile, aperio.path]);
    expect(failed).toEqual([]);
    [pyramidSlide, aperioSlide] = added as [SlideSummary, SlideSummary];
  });

  it('addresses tiles by slide id and version, never by path', () => {
    expect(tilePath(12, '3', 10, 2, 1)).toBe('12/v3/10/2_1.jpg');
  });

  it('serves a tile of the current version as cacheable forever', async () => {
    const answer = await answerTileRequest(workspace, tilePath(pyramidSlide.id, pyramidSlide.tileVersion, 10, 0, 0));
    expectJpeg(answer, IMMUTABLE);
    expect(answer.headers['X-Tile-Source']).toMatch(/^(stored|cache)$/);
    const edge = expectJpeg(await answerTileRequest(workspace, tilePath(pyramidSlide.id, '1', 10, 2, 1)), IMMUTABLE);
    expect(await sharp(edge).metadata()).toMatchObject({ width: 188, height: 244 });
  });

  it('serves a tile of a stale version with no-cache, so the viewer revalidates', async () => {
    expectJpeg(await answerTileRequest(workspace, tilePath(pyramidSlide.id, '0', 9, 0, 0)), 'no-cache');
    expectJpeg(await answerTileRequest(workspace, tilePath(pyramidSlide.id, '7', 9, 0, 0)), 'no-cache');
  });

  it('answers 404 for a slide that is not in the project', async () => {
    expect(expectText(await answerTileRequest(workspace, '999/v1/0/0_0.jpg'), 404)).toBe('slide 999 is not in this project');
    expect(expectText(await answerTileRequest(workspace, '999/v1/thumbnail.jpg'), 404)).toBe('slide 999 is not in this project');
    expectText(await answerTileRequest(workspace, '99999999999999999999/v1/0/0_0.jpg'), 404);
  });

  it('answers 404 for a tile outside the pyramid, without logging it as a failure', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    for (const [level, column, row] of [
      [11, 0, 0],
      [10, 3, 0],
      [10, 0, 2],
      [0, 1, 0],
    ]) {
      const answer = await answerTileRequest(workspace, tilePath(pyramidSlide.id, '1', level!, column!, row!));
      expect(expectText(answer, 404)).toBe(`no tile at level ${level}, column ${column}, row ${row}`);
    }
    expect(logged).not.toHaveBeenCalled();
  });

  it('answers 400 for anything that is not a tile address, path traversal included', async () => {
    const id = pyramidSlide.id;
    const malformed = [
      '',
      'tile.jpg',
      '../../etc/passwd',
      '/etc/passwd',
      `${id}/v1/../../../../etc/passwd`,
      `${id}/v1/10/0_0.jpg/../../../etc/passwd`,
      `../${id}/v1/10/0_0.jpg`,
      `${id}/v1/10/../../../project.sqlite`,
      `${id}/v1/associated/../../x.jpg`,
      `${id}/v1/associated/LABEL.jpg`,
      `${id}/v1/10/0_0.png`,
      `${id}/1/10/0_0.jpg`,
      `${id}/v1/10/-1_0.jpg`,
      `${id}/v1/10/0_0.jpg\u0000`,
      `${id}/v1/10/0.5_0.jpg`,
      `-${id}/v1/10/0_0.jpg`,
      `${id}/v1/10/0_0.jpg.exe`,
    ];
    for (const address of malformed) {
      expect(expectText(await answerTileRequest(workspace, address), 400), JSON.stringify(address)).toBe(
        `not a tile address: ${address}`,
      );
    }
  });

  it('serves the thumbnail as a JPEG', async () => {
    const body = expectJpeg(await answerTileRequest(workspace, `${pyramidSlide.id}/v1/thumbnail.jpg`), IMMUTABLE);
    expect(await sharp(body).metadata()).toMatchObject({ width: 256, height: 183 });
    expectJpeg(await answerTileRequest(workspace, `${aperioSlide.id}/v9/thumbnail.jpg`), 'no-cache');
  });

  it('serves the label and macro images of a slide that has them', async () => {
    expect(aperioSlide.associatedImages).toEqual(expect.arrayContaining(['label', 'macro']));
    const label = expectJpeg(await answerTileRequest(workspace, `${aperioSlide.id}/v1/associated/label.jpg`), IMMUTABLE);
    const { data, info } = await sharp(label).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([aperio.labelSize.width, aperio.labelSize.height]);
    const centre = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
    for (let channel = 0; channel < 3; channel++) expect(Math.abs(data[centre + channel]! - labelRgb[channel]!)).toBeLessThan(8);
    const macro = expectJpeg(await answerTileRequest(workspace, `${aperioSlide.id}/v1/associated/macro.jpg`), IMMUTABLE);
    expect(await sharp(macro).metadata()).toMatchObject({ width: aperio.macroSize.width, height: aperio.macroSize.height });
  });

  it('answers 404 for an associated image the slide does not have, naming the file', async () => {
    const message = expectText(await answerTileRequest(workspace, `${aperioSlide.id}/v1/associated/overview.jpg`), 404);
    expect(message).toBe(`${aperio.path}: no associated image "overview" (present: ${aperioSlide.associatedImages.join(', ')})`);
    expectText(await answerTileRequest(workspace, `${pyramidSlide.id}/v1/associated/label.jpg`), 404);
  });

  it('answers 404 naming the file when the slide file was moved away', async () => {
    const file = await copyInto(pyramidFile, dir, 'moving.tif');
    const slide = (await workspace.slides().add([file])).added[0]!;
    fs.renameSync(file, `${file}.moved`);
    const message = expectText(await answerTileRequest(workspace, tilePath(slide.id, '1', 10, 0, 0)), 404);
    expect(message).toBe(`${file}: file not found or not readable`);
  });

  it('answers 500 naming the file when the slide file became unreadable', async () => {
    const file = await copyInto(pyramidFile, dir, 'damaged.tif');
    const slide = (await workspace.slides().add([file])).added[0]!;
    fs.writeFileSync(file, Buffer.alloc(0));
    const message = expectText(await answerTileRequest(workspace, tilePath(slide.id, '1', 10, 0, 0)), 500);
    expect(message).toBe(`${file}: empty file (0 bytes)`);
  });

  it('serves the new version as immutable and the old one as no-cache after a relink', async () => {
    const file = await copyInto(pyramidFile, dir, 'relinked.tif');
    const slide = (await workspace.slides().add([file])).added[0]!;
    const renamed = path.join(dir, 'relinked-renamed.tif');
    fs.renameSync(file, renamed);
    const relinked = await workspace.slides().relink(slide.id, renamed);
    expect(relinked.tileVersion).toBe('2');
    expectJpeg(await answerTileRequest(workspace, tilePath(slide.id, '2', 10, 0, 0)), IMMUTABLE);
    expectJpeg(await answerTileRequest(workspace, tilePath(slide.id, '1', 10, 0, 0)), 'no-cache');
  });
});
