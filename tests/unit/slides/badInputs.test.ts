import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImageSlide } from '../../../src-main/services/slides/ImageSlideReader';
import { SlideError } from '../../../src-main/services/slides/SlideError';
import { TiffFile } from '../../../src-main/services/slides/tiff/TiffFile';
import { openTiffSlide } from '../../../src-main/services/slides/tiff/TiffSlideReader';
import {
  copyInto,
  makeFileVanish,
  makeTempDir,
  removeTempDir,
  writeCompressionPatchedCopy,
  writeEmptyFile,
  writeGarbageFile,
  writeLoopingIfdCopy,
  writeOversizedPngHeader,
  writeStrippedTiff,
  writeSyntheticImage,
  writeSyntheticPyramid,
  writeTagPatchedCopy,
  writeTruncatedCopy,
} from '../../fixtures/syntheticSlides';
import type { SyntheticSlide } from '../../fixtures/syntheticSlides';

/** Awaits a failure and checks it is a SlideError of the kind, naming the file and the reason. */
async function expectSlideError(
  attempt: Promise<unknown>,
  file: string,
  kind: SlideError['kind'],
  reason: string | RegExp,
): Promise<SlideError> {
  const error = await attempt.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error, 'expected the call to fail').toBeInstanceOf(SlideError);
  const slideError = error as SlideError;
  expect(slideError.kind).toBe(kind);
  expect(slideError.filePath).toBe(file);
  expect(slideError.message.startsWith(`${file}: `)).toBe(true);
  if (typeof reason === 'string') expect(slideError.reason).toContain(reason);
  else expect(slideError.reason).toMatch(reason);
  return slideError;
}

let dir: string;
let jpegPyramid: SyntheticSlide;
let lzwPyramid: SyntheticSlide;
beforeAll(async () => {
  dir = await makeTempDir('mitobench-bad-inputs-');
  jpegPyramid = await writeSyntheticPyramid(dir, { width: 700, height: 500, compression: 'jpeg' });
  lzwPyramid = await writeSyntheticPyramid(dir, { width: 700, height: 500, compression: 'lzw' });
});
afterAll(async () => {
  await removeTempDir(dir);
});

describe('files that are not there', () => {
  it('reports a missing path as missing: file not found', async () => {
    const file = path.join(dir, 'no-such-slide.svs');
    await expectSlideError(openTiffSlide(file), file, 'missing', 'file not found');
    await expectSlideError(TiffFile.open(file), file, 'missing', 'file not found');
    await expectSlideError(openImageSlide(file), file, 'missing', 'file not found');
  });

  it('declines a folder so another reader can try it', async () => {
    await expectSlideError(openTiffSlide(dir), dir, 'unsupported', 'is a folder');
    await expectSlideError(openImageSlide(dir), dir, 'unsupported', 'is a folder');
  });

  it('fails reads with a clear error when the file vanishes while open', async () => {
    const tiffCopy = await copyInto(jpegPyramid.path, dir, 'vanishing.tif');
    const reader = await openTiffSlide(tiffCopy);
    await reader.readRegion(0, 0, 0, 10, 10);
    await makeFileVanish(tiffCopy);
    await expectSlideError(reader.readRegion(0, 400, 300, 10, 10), tiffCopy, 'missing', 'file was removed while it was open');
    await expectSlideError(reader.readEncodedTile(1, 0, 0), tiffCopy, 'missing', 'removed');
    await reader.close();

    const image = await writeSyntheticImage(dir, { width: 40, height: 30, format: 'png' });
    const imageReader = await openImageSlide(image.path);
    await makeFileVanish(image.path);
    await expectSlideError(imageReader.readRegion(0, 0, 0, 4, 4), image.path, 'missing', 'file not found');
    await imageReader.close();
  });
});

describe('files that are not slides at all', () => {
  it('rejects an empty file', async () => {
    const file = await writeEmptyFile(dir);
    await expectSlideError(openTiffSlide(file), file, 'corrupt', 'empty file (0 bytes)');
    await expectSlideError(openImageSlide(file), file, 'corrupt', 'empty file (0 bytes)');
  });

  it('rejects garbage bytes', async () => {
    const file = await writeGarbageFile(dir);
    await expectSlideError(openTiffSlide(file), file, 'corrupt', 'not a TIFF file (bad byte-order mark)');
    await expectSlideError(openImageSlide(file), file, 'corrupt', /^not an image sharp can read: .+/);
  });

  it('opens a truncated PNG by its header but fails the first read as corrupt', async () => {
    const image = await writeSyntheticImage(dir, { width: 200, height: 150, format: 'png' });
    const { size } = await stat(image.path);
    const file = await writeTruncatedCopy(image.path, dir, Math.floor(size / 2));
    const reader = await openImageSlide(file);
    await expectSlideError(reader.readRegion(0, 0, 0, 10, 10), file, 'corrupt', /^image cannot be decoded: .+/);
    await reader.close();
  });

  it('rejects a TIFF-looking header with a wrong version or no room for a header', async () => {
    const badVersion = path.join(dir, 'bad-version.tif');
    await writeFile(badVersion, Buffer.from([0x49, 0x49, 0x63, 0x00, 0x08, 0x00, 0x00, 0x00]));
    await expectSlideError(openTiffSlide(badVersion), badVersion, 'corrupt', 'not a TIFF file (version 99, expected 42 or 43)');
    const tiny = path.join(dir, 'tiny.tif');
    await writeFile(tiny, Buffer.from([0x4d, 0x4d, 0x00]));
    await expectSlideError(openTiffSlide(tiny), tiny, 'corrupt', 'truncated: 3 bytes is too short for a TIFF header');
  });
});

describe('truncated and damaged TIFFs', () => {
  it('names the IFD that lies past the end of a truncated file', async () => {
    const file = await writeTruncatedCopy(jpegPyramid.path, dir, 1000);
    await expectSlideError(
      openTiffSlide(file),
      file,
      'corrupt',
      /^truncated: IFD at offset \d+ lies past the end of the file \(size 1000\)$/,
    );
  });

  it('reports truncation wherever the cut falls', async () => {
    const { size } = await stat(lzwPyramid.path);
    for (const keep of [8, 9, Math.floor(size / 2), size - 1]) {
      const file = await writeTruncatedCopy(lzwPyramid.path, dir, keep);
      await expectSlideError(openTiffSlide(file), file, 'corrupt', /^truncated: /);
    }
  });

  it('refuses at open a tile whose data lies past the end of the file', async () => {
    const file = await writeTagPatchedCopy(lzwPyramid.path, dir, [{ tag: 324, value: 4_000_000_000, valueIndex: 3, ifdIndexes: [0] }], 'tile-past-eof.tif');
    await expectSlideError(openTiffSlide(file), file, 'corrupt', /^truncated: level 0 tile \(0, 1\) ends at byte 4000\d+, past the end of the file/);
  });

  it('names the level and tile whose byte count is zero', async () => {
    const file = await writeTagPatchedCopy(jpegPyramid.path, dir, [{ tag: 325, value: 0, valueIndex: 4, ifdIndexes: [0] }], 'zero-byte-tile.tif');
    const reader = await openTiffSlide(file);
    await expectSlideError(reader.readRegion(0, 200, 200, 100, 100), file, 'corrupt', 'level 0 tile (1, 1) is empty (byte count 0)');
    await expectSlideError(reader.readEncodedTile(0, 1, 1), file, 'corrupt', 'level 0 tile (1, 1) is empty');
    expect((await reader.readRegion(0, 0, 0, 100, 100)).width).toBe(100);
    await reader.close();
  });

  it('names the tile whose stored bytes are not a JPEG', async () => {
    // Tile (1, 0) now points at the TIFF header instead of JPEG data.
    const file = await writeTagPatchedCopy(jpegPyramid.path, dir, [{ tag: 324, value: 0, valueIndex: 1, ifdIndexes: [0] }], 'not-jpeg-tile.tif');
    const reader = await openTiffSlide(file);
    await expectSlideError(reader.readRegion(0, 256, 0, 10, 10), file, 'corrupt', 'level 0 tile (1, 0) cannot be decoded: JPEG tile does not start with an SOI marker');
    await expectSlideError(reader.readEncodedTile(0, 1, 0), file, 'corrupt', 'level 0 tile (1, 0)');
    await reader.close();
  });

  it('stops on an IFD chain that loops', async () => {
    const file = await writeLoopingIfdCopy(lzwPyramid.path, dir);
    await expectSlideError(openTiffSlide(file), file, 'corrupt', /^IFD chain loops back to offset \d+$/);
  });
});

describe('valid TIFFs this reader declines', () => {
  it('sends JPEG 2000 slides to OpenSlide, checking every level', async () => {
    const all = await writeCompressionPatchedCopy(jpegPyramid.path, dir, 33003);
    await expectSlideError(openTiffSlide(all), all, 'unsupported', 'level 0: JPEG 2000 tiles need OpenSlide');
    const lastLevel = await writeCompressionPatchedCopy(jpegPyramid.path, dir, 33005, [2]);
    await expectSlideError(openTiffSlide(lastLevel), lastLevel, 'unsupported', 'level 2: JPEG 2000 tiles need OpenSlide');
  });

  it('names other compressions it cannot decode', async () => {
    const cases: [number, string][] = [
      [50000, 'compression 50000 (ZSTD) is not supported by the built-in reader'],
      [6, 'compression 6 (old-style JPEG) is not supported by the built-in reader'],
      [12345, 'compression 12345 is not supported by the built-in reader'],
    ];
    for (const [compression, reason] of cases) {
      const file = await writeCompressionPatchedCopy(lzwPyramid.path, dir, compression, [1]);
      await expectSlideError(openTiffSlide(file), file, 'unsupported', `level 1: ${reason}`);
    }
  });

  it('leaves a stripped (untiled) TIFF to the image reader', async () => {
    const stripped = await writeStrippedTiff(dir, 200, 100);
    await expectSlideError(openTiffSlide(stripped.path), stripped.path, 'unsupported', 'not a tiled TIFF');
    const reader = await openImageSlide(stripped.path);
    expect(reader.levels[0]).toMatchObject({ width: 200, height: 100 });
    await reader.close();
  });

  it('declines pixel formats other than 8-bit grey or RGB', async () => {
    const rgba = path.join(dir, 'rgba.tif');
    await sharp({ create: { width: 300, height: 300, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } })
      .tiff({ tile: true, compression: 'lzw' })
      .toFile(rgba);
    await expectSlideError(openTiffSlide(rgba), rgba, 'unsupported', 'level 0: 4 samples per pixel; only RGB (3) and greyscale (1) images are supported');

    const deep = path.join(dir, 'rgb16.tif');
    await sharp({ create: { width: 300, height: 300, channels: 3, background: '#123456' } })
      .toColourspace('rgb16')
      .tiff({ tile: true, compression: 'lzw' })
      .toFile(deep);
    await expectSlideError(openTiffSlide(deep), deep, 'unsupported', 'level 0: 16/16/16 bits per sample; only 8-bit images are supported');
  });

  it('refuses plain images too large to hold in memory, pointing to pyramidal TIFF', async () => {
    const file = await writeOversizedPngHeader(dir, 30_000, 25_000);
    await expectSlideError(openImageSlide(file), file, 'unsupported', /30000x25000 .*too large.*pyramidal tiled TIFF/);
  });
});
