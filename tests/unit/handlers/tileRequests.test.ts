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
    expect(expectText(await answerTileRequest(workspace, '1/v3fa2c1d0.1/0/0_0.jpg'), 409)).toBe('Open or create a project first.');
    expect(expectText(await answerTileRequest(workspace, '1/v3fa2c1d0.1/thumbnail.jpg'), 409)).toBe('Open or create a project first.');
  });
});

describe('with a project', () => {
  /** This project's key, the first part of every tile version. */
  let key: string;
  /** A version string of this project: "<key>.<n>". */
  const version = (n: number) => `${key}.${n}`;

  beforeAll(async () => {
    await workspace.createProject(path.join(dir, 'project'), 'Tiles');
    const { added, failed } = await workspace.slides().add([pyramidFile, aperio.path]);
    expect(failed).toEqual([]);
    [pyramidSlide, aperioSlide] = added as [SlideSummary, SlideSummary];
    key = pyramidSlide.tileVersion.split('.')[0]!;
  });

  it('gives each slide a version of the project key and a count', () => {
    expect(key).toMatch(/^[0-9a-f]{8}$/);
    expect(pyramidSlide.tileVersion).toBe(version(1));
    expect(aperioSlide.tileVersion).toBe(version(1));
    expect(workspace.slides().currentTileVersion(pyramidSlide.id)).toBe(version(1));
  });

  it('addresses tiles by slide id and version, never by path', () => {
    expect(tilePath(12, '3fa2c1d0.3', 10, 2, 1)).toBe('12/v3fa2c1d0.3/10/2_1.jpg');
    expect(tilePath(pyramidSlide.id, pyramidSlide.tileVersion, 0, 0, 0)).toBe(`${pyramidSlide.id}/v${key}.1/0/0_0.jpg`);
  });

  it('serves a tile of the current version as cacheable forever', async () => {
    const answer = await answerTileRequest(workspace, tilePath(pyramidSlide.id, pyramidSlide.tileVersion, 10, 0, 0));
    expectJpeg(answer, IMMUTABLE);
    expect(answer.headers['X-Tile-Source']).toMatch(/^(stored|cache)$/);
    const edge = expectJpeg(await answerTileRequest(workspace, tilePath(pyramidSlide.id, version(1), 10, 2, 1)), IMMUTABLE);
    expect(await sharp(edge).metadata()).toMatchObject({ width: 188, height: 244 });
  });

  it('serves a tile of a stale version with no-cache, so the viewer revalidates', async () => {
    expectJpeg(await answerTileRequest(workspace, tilePath(pyramidSlide.id, version(0), 9, 0, 0)), 'no-cache');
    expectJpeg(await answerTileRequest(workspace, tilePath(pyramidSlide.id, version(7), 9, 0, 0)), 'no-cache');
  });

  it('serves the current count under another project\'s key with no-cache', async () => {
    const otherKey = key === '3fa2c1d0' ? '0badf00d' : '3fa2c1d0';
    expectJpeg(await answerTileRequest(workspace, tilePath(pyramidSlide.id, `${otherKey}.1`, 9, 0, 0)), 'no-cache');
    expectJpeg(await answerTileRequest(workspace, `${pyramidSlide.id}/v${otherKey}.1/thumbnail.jpg`), 'no-cache');
    expectJpeg(await answerTileRequest(workspace, `${aperioSlide.id}/v${otherKey}.1/associated/label.jpg`), 'no-cache');
    // A key that merely starts like this project's is another key.
    expectJpeg(await answerTileRequest(workspace, tilePath(pyramidSlide.id, `${key}0.1`, 9, 0, 0)), 'no-cache');
  });

  it('answers 404 for a slide that is not in the project', async () => {
    expect(expectText(await answerTileRequest(workspace, `999/v${version(1)}/0/0_0.jpg`), 404)).toBe('slide 999 is not in this project');
    expect(expectText(await answerTileRequest(workspace, `999/v${version(1)}/thumbnail.jpg`), 404)).toBe(
      'slide 999 is not in this project',
    );
    expect(expectText(await answerTileRequest(workspace, `999/v${version(1)}/associated/label.jpg`), 404)).toBe(
      'slide 999 is not in this project',
    );
    expectText(await answerTileRequest(workspace, `99999999999999999999/v${version(1)}/0/0_0.jpg`), 404);
  });

  it('answers 404 for a tile outside the pyramid, without logging it as a failure', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    for (const [level, column, row] of [
      [11, 0, 0],
      [10, 3, 0],
      [10, 0, 2],
      [0, 1, 0],
    ]) {
      const answer = await answerTileRequest(workspace, tilePath(pyramidSlide.id, version(1), level!, column!, row!));
      expect(expectText(answer, 404)).toBe(`no tile at level ${level}, column ${column}, row ${row}`);
    }
    expect(logged).not.toHaveBeenCalled();
  });

  it('answers 400 for anything that is not a tile address, path traversal included', async () => {
    const id = pyramidSlide.id;
    const v = `v${version(1)}`;
    const malformed = [
      '',
      'tile.jpg',
      '../../etc/passwd',
      '/etc/passwd',
      `${id}/${v}/../../../../etc/passwd`,
      `${id}/${v}/10/0_0.jpg/../../../etc/passwd`,
      `../${id}/${v}/10/0_0.jpg`,
      `${id}/${v}/10/../../../project.sqlite`,
      `${id}/${v}/associated/../../x.jpg`,
      `${id}/${v}/associated/LABEL.jpg`,
      `${id}/${v}/10/0_0.png`,
      `${id}/${version(1)}/10/0_0.jpg`,
      `${id}/${v}/10/-1_0.jpg`,
      `${id}/${v}/10/0_0.jpg\u0000`,
      `${id}/${v}/10/0.5_0.jpg`,
      `-${id}/${v}/10/0_0.jpg`,
      `${id}/${v}/10/0_0.jpg.exe`,
      // Versions without the project key (the old form), or malformed ones.
      `${id}/v1/10/0_0.jpg`,
      `${id}/v1/thumbnail.jpg`,
      `${id}/v1/associated/label.jpg`,
      `${id}/v${key}/10/0_0.jpg`,
      `${id}/v${key}./10/0_0.jpg`,
      `${id}/v.1/10/0_0.jpg`,
      `${id}/v${key}.1.2/10/0_0.jpg`,
      `${id}/v${key}.-1/10/0_0.jpg`,
      `${id}/v${key.toUpperCase()}G.1/10/0_0.jpg`,
      `${id}/v${key}.1/../${key}.1/10/0_0.jpg`,
    ];
    for (const address of malformed) {
      expect(expectText(await answerTileRequest(workspace, address), 400), JSON.stringify(address)).toBe(
        `not a tile address: ${address}`,
      );
    }
  });

  it('serves the thumbnail as a JPEG', async () => {
    const body = expectJpeg(await answerTileRequest(workspace, `${pyramidSlide.id}/v${version(1)}/thumbnail.jpg`), IMMUTABLE);
    // The pyramid level where the whole 700×500 slide fits one tile.
    expect(await sharp(body).metadata()).toMatchObject({ width: 175, height: 125 });
    expectJpeg(await answerTileRequest(workspace, `${aperioSlide.id}/v${version(9)}/thumbnail.jpg`), 'no-cache');
  });

  it('serves the label and macro images of a slide that has them', async () => {
    expect(aperioSlide.associatedImages).toEqual(expect.arrayContaining(['label', 'macro']));
    const label = expectJpeg(await answerTileRequest(workspace, `${aperioSlide.id}/v${version(1)}/associated/label.jpg`), IMMUTABLE);
    const { data, info } = await sharp(label).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([aperio.labelSize.width, aperio.labelSize.height]);
    const centre = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
    for (let channel = 0; channel < 3; channel++) expect(Math.abs(data[centre + channel]! - labelRgb[channel]!)).toBeLessThan(8);
    const macro = expectJpeg(await answerTileRequest(workspace, `${aperioSlide.id}/v${version(1)}/associated/macro.jpg`), IMMUTABLE);
    expect(await sharp(macro).metadata()).toMatchObject({ width: aperio.macroSize.width, height: aperio.macroSize.height });
  });

  it('answers 404 for an associated image the slide does not have, naming the file', async () => {
    const message = expectText(await answerTileRequest(workspace, `${aperioSlide.id}/v${version(1)}/associated/overview.jpg`), 404);
    expect(message).toBe(`${aperio.path}: no associated image "overview" (present: ${aperioSlide.associatedImages.join(', ')})`);
    expectText(await answerTileRequest(workspace, `${pyramidSlide.id}/v${version(1)}/associated/label.jpg`), 404);
  });

  it('answers 404 naming the file when the slide file was moved away', async () => {
    const file = await copyInto(pyramidFile, dir, 'moving.tif');
    const slide = (await workspace.slides().add([file])).added[0]!;
    fs.renameSync(file, `${file}.moved`);
    const message = expectText(await answerTileRequest(workspace, tilePath(slide.id, slide.tileVersion, 10, 0, 0)), 404);
    expect(message).toBe(`${file}: file not found (moved or renamed?)`);
  });

  it('answers 500 naming the file when the slide file became unreadable', async () => {
    const file = await copyInto(pyramidFile, dir, 'damaged.tif');
    const slide = (await workspace.slides().add([file])).added[0]!;
    // Same size: the reader finds the damage.
    fs.writeFileSync(file, Buffer.alloc(slide.fileSizeBytes));
    const message = expectText(await answerTileRequest(workspace, tilePath(slide.id, slide.tileVersion, 10, 0, 0)), 500);
    expect(message).toBe(`${file}: not a TIFF file (bad byte-order mark)`);
  });

  it('answers 500 naming the file when the slide file changed since it was added', async () => {
    const file = await copyInto(pyramidFile, dir, 'changed.tif');
    const slide = (await workspace.slides().add([file])).added[0]!;
    fs.appendFileSync(file, Buffer.alloc(10));
    const message = expectText(await answerTileRequest(workspace, tilePath(slide.id, slide.tileVersion, 10, 0, 0)), 500);
    expect(message).toBe(
      `${file}: the file changed since it was added (${slide.fileSizeBytes + 10} bytes, was ${slide.fileSizeBytes}); relink to the original file`,
    );
  });

  it('serves the new version as immutable and the old one as no-cache after a relink', async () => {
    const file = await copyInto(pyramidFile, dir, 'relinked.tif');
    const slide = (await workspace.slides().add([file])).added[0]!;
    const renamed = path.join(dir, 'relinked-renamed.tif');
    fs.renameSync(file, renamed);
    const relinked = await workspace.slides().relink(slide.id, renamed);
    expect(relinked.tileVersion).toBe(version(2));
    expect(workspace.slides().currentTileVersion(slide.id)).toBe(version(2));
    expectJpeg(await answerTileRequest(workspace, tilePath(slide.id, version(2), 10, 0, 0)), IMMUTABLE);
    expectJpeg(await answerTileRequest(workspace, tilePath(slide.id, version(1), 10, 0, 0)), 'no-cache');
    expectJpeg(await answerTileRequest(workspace, `${slide.id}/v${version(2)}/thumbnail.jpg`), IMMUTABLE);
    expectJpeg(await answerTileRequest(workspace, `${slide.id}/v${version(1)}/thumbnail.jpg`), 'no-cache');
  });
});

describe('two projects', () => {
  let twoDir: string;
  let twoWorkspace: Workspace;
  beforeAll(async () => {
    twoDir = await makeTempDir('mitobench-tile-requests-two-');
    twoWorkspace = new Workspace(new AppSettings(path.join(twoDir, 'settings.json')), 'browser', 'test');
  });
  afterAll(async () => {
    await twoWorkspace.closeProject();
    await removeTempDir(twoDir);
  });

  it('give their slide 1 different tile addresses, so a browser never shows one project\'s cached tiles for the other', async () => {
    const projectA = path.join(twoDir, 'a');
    await twoWorkspace.createProject(projectA, 'A');
    const slideA = (await twoWorkspace.slides().add([await copyInto(pyramidFile, twoDir, 'a.tif')])).added[0]!;
    const addressA = tilePath(slideA.id, slideA.tileVersion, 9, 0, 0);
    const thumbnailA = `${slideA.id}/v${slideA.tileVersion}/thumbnail.jpg`;
    const tileA = expectJpeg(await answerTileRequest(twoWorkspace, addressA), IMMUTABLE);
    expectJpeg(await answerTileRequest(twoWorkspace, thumbnailA), IMMUTABLE);

    await twoWorkspace.createProject(path.join(twoDir, 'b'), 'B');
    const other = await writeSyntheticPyramid(twoDir, { width: 300, height: 200, fileName: 'b.tif' });
    const slideB = (await twoWorkspace.slides().add([other.path])).added[0]!;
    expect([slideA.id, slideB.id]).toEqual([1, 1]);
    expect(slideB.tileVersion).not.toBe(slideA.tileVersion);
    expect(slideB.tileVersion.split('.')[1]).toBe('1');
    const addressB = tilePath(slideB.id, slideB.tileVersion, 9, 0, 0);
    const thumbnailB = `${slideB.id}/v${slideB.tileVersion}/thumbnail.jpg`;
    expect(addressB).not.toBe(addressA);
    expect(thumbnailB).not.toBe(thumbnailA);

    // B's own address: B's pixels (not A's, from any cache), cacheable forever.
    const answerB = await answerTileRequest(twoWorkspace, addressB);
    const tileB = expectJpeg(answerB, IMMUTABLE);
    expect(answerB.headers['X-Tile-Source']).not.toBe('cache');
    expect(await sharp(tileB).metadata()).toMatchObject({ width: 256, height: 200 });
    expect(tileB.equals(tileA)).toBe(false);
    expectJpeg(await answerTileRequest(twoWorkspace, thumbnailB), IMMUTABLE);
    // A's address while B is open is not B's current version: never cached for good.
    expectJpeg(await answerTileRequest(twoWorkspace, addressA), 'no-cache');
    expectJpeg(await answerTileRequest(twoWorkspace, thumbnailA), 'no-cache');

    // Opening A again gives back its own addresses, still valid in the browser's cache.
    await twoWorkspace.openProject(projectA);
    expect(twoWorkspace.slides().get(1).tileVersion).toBe(slideA.tileVersion);
    const again = expectJpeg(await answerTileRequest(twoWorkspace, addressA), IMMUTABLE);
    expect(again.equals(tileA)).toBe(true);
    expectJpeg(await answerTileRequest(twoWorkspace, addressB), 'no-cache');
  });
});
