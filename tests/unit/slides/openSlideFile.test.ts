import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImageSlide } from '../../../src-main/services/slides/ImageSlideReader';
import { openSlideLibraryStatus } from '../../../src-main/services/slides/OpenSlideReader';
import { looksLikeSlide, openSlideFile, type ReaderChoice, type SlideOpeners } from '../../../src-main/services/slides/openSlideFile';
import { SlideError } from '../../../src-main/services/slides/SlideError';
import { openTiffSlide } from '../../../src-main/services/slides/tiff/TiffSlideReader';
import {
  copyInto,
  makeTempDir,
  removeTempDir,
  writeCompressionPatchedCopy,
  writeEmptyFile,
  writeGarbageFile,
  writeStrippedTiff,
  writeSyntheticAperio,
  writeSyntheticImage,
  writeSyntheticPyramid,
} from '../../fixtures/syntheticSlides';
import type { SyntheticSlide } from '../../fixtures/syntheticSlides';
import { cmuSvsPath, hasSharedSlides, warnWhenSharedSlidesAbsent } from '../../fixtures/sharedData';

const openslide = openSlideLibraryStatus();
if (!openslide.available) console.warn(`openSlideFile: OpenSlide cases skipped: ${openslide.reason}`);

const cmuSvs = cmuSvsPath;
const hasSharedData = hasSharedSlides;
warnWhenSharedSlidesAbsent('openSlideFile real-slide cases');

/** What a machine without libopenslide sees: OpenSlide declines every file. */
const withoutOpenSlide: SlideOpeners = {
  tiff: openTiffSlide,
  image: openImageSlide,
  openslide: async (file) => {
    throw new SlideError(file, 'OpenSlide library not found (install libopenslide0)', 'unsupported');
  },
};

async function openedKind(file: string, choice?: ReaderChoice, openers?: SlideOpeners) {
  const reader = await openSlideFile(file, choice, openers);
  try {
    return { kind: reader.kind, levels: reader.levels.length, width: reader.levels[0]!.width };
  } finally {
    await reader.close();
  }
}

async function slideError(attempt: Promise<unknown>): Promise<SlideError> {
  const error = await attempt.then(
    (reader) => {
      void (reader as { close?: () => Promise<void> }).close?.();
      return null;
    },
    (caught: unknown) => caught,
  );
  expect(error, 'expected the slide to be refused').toBeInstanceOf(SlideError);
  return error as SlideError;
}

let dir: string;
let pyramid: SyntheticSlide;
let png: SyntheticSlide;
beforeAll(async () => {
  dir = await makeTempDir('mitobench-open-slide-');
  pyramid = await writeSyntheticPyramid(dir, { width: 700, height: 500 });
  png = await writeSyntheticImage(dir, { width: 40, height: 30, format: 'png' });
});
afterAll(async () => {
  await removeTempDir(dir);
});

describe('automatic reader choice', () => {
  it('opens a pyramidal TIFF with the built-in TIFF reader, every level', async () => {
    expect(await openedKind(pyramid.path)).toEqual({ kind: 'tiff', levels: 3, width: 700 });
    expect(await openedKind(pyramid.path, 'auto', withoutOpenSlide)).toEqual({ kind: 'tiff', levels: 3, width: 700 });
  });

  it.skipIf(!hasSharedData)('opens the real CMU-1 SVS with the built-in TIFF reader', async () => {
    expect(await openedKind(cmuSvs)).toEqual({ kind: 'tiff', levels: 1, width: 2220 });
  });

  it('opens a synthetic Aperio SVS with the built-in TIFF reader', async () => {
    const svs = await writeSyntheticAperio(dir);
    expect(await openedKind(svs.path)).toMatchObject({ kind: 'tiff', width: 1000 });
  });

  it('goes by content, not name: a PNG named .tif is an image', async () => {
    const disguised = await copyInto(png.path, dir, 'crop-saved-as.tif');
    expect(await openedKind(disguised)).toEqual({ kind: 'image', levels: 1, width: 40 });
  });

  it('goes by content, not name: a pyramidal TIFF named .png is a TIFF slide', async () => {
    const disguised = await copyInto(pyramid.path, dir, 'pyramid-saved-as.png');
    expect(await openedKind(disguised)).toEqual({ kind: 'tiff', levels: 3, width: 700 });
  });

  it('leaves a stripped (untiled) TIFF crop to the image reader', async () => {
    const stripped = await writeStrippedTiff(dir, 120, 80);
    expect(await openedKind(stripped.path, 'auto', withoutOpenSlide)).toEqual({ kind: 'image', levels: 1, width: 120 });
  });

  it('says "JPEG 2000 tiles need OpenSlide" for a JPEG 2000 TIFF when OpenSlide is not installed', async () => {
    const jpeg2000 = await writeCompressionPatchedCopy(pyramid.path, dir, 33003);
    const error = await slideError(openSlideFile(jpeg2000, 'auto', withoutOpenSlide));
    expect(error.filePath).toBe(jpeg2000);
    expect(error.kind).toBe('unsupported');
    expect(error.message).toBe(`${jpeg2000}: level 0: JPEG 2000 tiles need OpenSlide`);
  });

  it('does not pass a JPEG 2000 TIFF off as a plain image', async () => {
    // Only the top level is patched: the image reader opens page 0 and could not decode it.
    const jpeg2000 = await writeCompressionPatchedCopy(pyramid.path, dir, 33005, [0]);
    const error = await slideError(openSlideFile(jpeg2000, 'auto', withoutOpenSlide));
    expect(error.message).toContain('JPEG 2000 tiles need OpenSlide');
  });

  it('sends formats only OpenSlide knows to OpenSlide, with its reason when it is missing', async () => {
    const ndpi = await writeGarbageFile(dir, 2048, 'scan.ndpi');
    const error = await slideError(openSlideFile(ndpi, 'auto', withoutOpenSlide));
    expect(error.message).toBe(`${ndpi}: OpenSlide library not found (install libopenslide0)`);
  });
});

describe('an explicit reader choice', () => {
  it.skipIf(!openslide.available)('opens a pyramidal TIFF with OpenSlide when asked', async () => {
    const reader = await openSlideFile(pyramid.path, 'openslide');
    try {
      expect(reader.kind).toBe('openslide');
      expect(reader.levels.map((level) => [level.width, level.height])).toEqual([
        [700, 500],
        [350, 250],
        [175, 125],
      ]);
      expect(reader.properties.mppX).toBeCloseTo(0.25, 3);
    } finally {
      await reader.close();
    }
  });

  it('opens a pyramidal TIFF as a plain image when asked', async () => {
    expect(await openedKind(pyramid.path, 'image')).toEqual({ kind: 'image', levels: 1, width: 700 });
  });

  it('is not silently replaced by another reader when it cannot open the file', async () => {
    const error = await slideError(openSlideFile(png.path, 'tiff'));
    expect(error.filePath).toBe(png.path);
    expect(error.message).toBe(`${png.path}: not a TIFF file (bad byte-order mark)`);

    const noOpenSlide = await slideError(openSlideFile(pyramid.path, 'openslide', withoutOpenSlide));
    expect(noOpenSlide.message).toBe(`${pyramid.path}: OpenSlide library not found (install libopenslide0)`);
  });

  it('uses only the opener it names', async () => {
    const used: string[] = [];
    const spy = (kind: keyof SlideOpeners): SlideOpeners[typeof kind] => async (file) => {
      used.push(kind);
      return withoutOpenSlide[kind](file);
    };
    const openers: SlideOpeners = { tiff: spy('tiff'), openslide: spy('openslide'), image: spy('image') };
    expect((await openedKind(pyramid.path, 'image', openers)).kind).toBe('image');
    expect(used).toEqual(['image']);
  });
});

describe('files that are not slides', () => {
  it('refuses an empty file, naming it', async () => {
    const empty = await writeEmptyFile(dir, 'empty.svs');
    const error = await slideError(openSlideFile(empty));
    expect(error).toMatchObject({ filePath: empty, kind: 'corrupt', reason: 'empty file (0 bytes)' });
    expect(error.message).toBe(`${empty}: empty file (0 bytes)`);
  });

  it('refuses garbage saved as .svs, naming it and the reason', async () => {
    const garbage = await writeGarbageFile(dir, 4096, 'garbage.svs');
    const error = await slideError(openSlideFile(garbage));
    expect(error).toMatchObject({ filePath: garbage, kind: 'corrupt' });
    expect(error.message).toBe(`${garbage}: not a TIFF file (bad byte-order mark)`);
  });

  it('refuses garbage saved as .png with the image reader’s reason', async () => {
    const garbage = await writeGarbageFile(dir, 4096, 'garbage.png');
    const error = await slideError(openSlideFile(garbage));
    expect(error.filePath).toBe(garbage);
    expect(error.message).toMatch(new RegExp(`^${garbage}: not an image sharp can read: .+`));
  });

  it('reports a missing path as missing', async () => {
    const missing = path.join(dir, 'moved-away.svs');
    const error = await slideError(openSlideFile(missing));
    expect(error).toMatchObject({ filePath: missing, kind: 'missing' });
    expect(error.message).toBe(`${missing}: file not found or not readable`);
  });

  it('refuses a folder with a SlideError rather than a raw system error', async () => {
    const folder = path.join(dir, 'a-folder.svs');
    fs.mkdirSync(folder);
    const error = await slideError(openSlideFile(folder));
    expect(error.filePath).toBe(folder);
    expect(error.message).toBe(`${folder}: is a folder, not a slide file`);
  });

  it('knows slide files by their extension when listing folders', () => {
    for (const name of ['a.svs', 'B.TIF', 'c.ndpi', 'd.mrxs', 'e.png', 'f.jpeg']) expect(looksLikeSlide(name), name).toBe(true);
    for (const name of ['notes.txt', 'project.sqlite', 'model.onnx', 'README']) expect(looksLikeSlide(name), name).toBe(false);
  });
});
