import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openImageSlide } from '../../../src-main/services/slides/ImageSlideReader';
import { openOpenSlide, openSlideLibraryStatus } from '../../../src-main/services/slides/OpenSlideReader';
import { micrometresPerPixel } from '../../../src-main/services/slides/resolution';
import { openTiffSlide } from '../../../src-main/services/slides/tiff/TiffSlideReader';
import { makeTempDir, removeTempDir, syntheticRgb } from '../../fixtures/syntheticSlides';

describe('micrometres per pixel from a resolution', () => {
  it('converts pixels per centimetre and per inch', () => {
    expect(micrometresPerPixel(40_000, 'centimetre')).toBeCloseTo(0.25);
    expect(micrometresPerPixel(101_600, 'inch')).toBeCloseTo(0.25);
  });
  it('reads the defaults writers put in files without a resolution as unknown', () => {
    expect(micrometresPerPixel(72, 'inch')).toBeNull();
    expect(micrometresPerPixel(72 / 2.54, 'centimetre')).toBeNull();
    expect(micrometresPerPixel(10, 'centimetre')).toBeNull(); // libvips' 1 pixel/mm
    expect(micrometresPerPixel(25.4, 'inch')).toBeNull();
    expect(micrometresPerPixel(0, 'inch')).toBeNull();
    expect(micrometresPerPixel(300, null)).toBeNull();
  });
});

describe('every reader gives a slide the same scale', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('mitobench-resolution-');
  });
  afterAll(async () => removeTempDir(dir));

  async function pyramid(name: string, pixelsPerMillimetre: number): Promise<string> {
    const file = `${dir}/${name}`;
    await sharp(syntheticRgb(1024, 768), { raw: { width: 1024, height: 768, channels: 3 } })
      .tiff({ tile: true, pyramid: true, compression: 'jpeg', xres: pixelsPerMillimetre, yres: pixelsPerMillimetre, resolutionUnit: 'inch' })
      .toFile(file);
    return file;
  }

  const openslideAvailable = openSlideLibraryStatus().available;

  it.skipIf(!openslideAvailable)('a 72 dpi pyramid has no scale in the built-in reader and in OpenSlide', async () => {
    const file = await pyramid('seventy-two-dpi.tif', 72 / 25.4);
    const builtIn = await openTiffSlide(file);
    const openslide = await openOpenSlide(file);
    expect(builtIn.properties.mppX).toBeNull();
    expect(openslide.properties.mppX).toBeNull();
    await builtIn.close();
    await openslide.close();
  });

  it.skipIf(!openslideAvailable)('a 0.25 µm/px pyramid has the same scale in both', async () => {
    const file = await pyramid('quarter-micron.tif', 4000);
    const builtIn = await openTiffSlide(file);
    const openslide = await openOpenSlide(file);
    expect(builtIn.properties.mppX).toBeCloseTo(0.25, 6);
    expect(openslide.properties.mppX).toBeCloseTo(0.25, 6);
    await builtIn.close();
    await openslide.close();
  });

  it.skipIf(!openslideAvailable)('a pyramid written without any resolution has no scale in either', async () => {
    const file = `${dir}/no-resolution.tif`;
    await sharp(syntheticRgb(1024, 768), { raw: { width: 1024, height: 768, channels: 3 } })
      .tiff({ tile: true, pyramid: true, compression: 'jpeg' })
      .toFile(file);
    const builtIn = await openTiffSlide(file);
    const openslide = await openOpenSlide(file);
    expect([builtIn.properties.mppX, openslide.properties.mppX]).toEqual([null, null]);
    await builtIn.close();
    await openslide.close();
  });

  it('a plain image at 72 dpi has no scale', async () => {
    const file = `${dir}/plain.png`;
    await sharp(syntheticRgb(300, 200), { raw: { width: 300, height: 200, channels: 3 } }).withMetadata({ density: 72 }).png().toFile(file);
    const image = await openImageSlide(file);
    expect(image.properties.mppX).toBeNull();
    await image.close();
  });
});
