import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { openTiffSlide } from '../../src-main/services/slides/tiff/TiffSlideReader';
import {
  addFolder,
  createProject,
  expect,
  repositoryRoot,
  screenshotFor,
  test,
  waitForViewerIdle,
  type ViewerHook,
} from './browserMode';
import { cmuSvsPath, hasSharedSlides, sharedSlidesFolder } from '../fixtures/sharedData';

const SVS = cmuSvsPath;

/** Mean absolute RGB difference between two RGBA images of equal size. */
function meanAbsoluteDifference(a: Buffer, b: Buffer): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let channel = 0; channel < 3; channel += 1) sum += Math.abs(a[i + channel]! - b[i + channel]!);
    count += 3;
  }
  return sum / count;
}

test.describe('with the shared CMU-1 slides', () => {
  test.skip(!hasSharedSlides, `needs the shared CMU-1 slides, absent here: ${cmuSvsPath}`);

  test('create a project, add slides, view at full resolution, switch language, see a corrupt file named', async ({ page, app }) => {
    await page.goto(app.url);
    await expect(page.getByTestId('create-project')).toBeVisible();
    await screenshotFor(page, 'project-en');

    await createProject(page, app.scratch, 'Canine cutaneous');
    await addFolder(page, sharedSlidesFolder);
    const cards = page.getByTestId('slide-card');
    await expect(cards).toHaveCount(2);
    const svsCard = cards.filter({ hasText: 'CMU-1-Small-Region.svs' });
    await expect(svsCard.getByTestId('slide-dimensions')).toHaveText('2,220 × 2,967 px');
    await expect(svsCard.getByTestId('slide-mpp')).toHaveText('0.4990');
    await expect(svsCard.getByTestId('slide-associated')).toHaveCount(2);
    await expect(svsCard.getByTestId('slide-reader')).toHaveValue('auto');
    await expect
      .poll(() => svsCard.getByTestId('slide-thumbnail').evaluate((image: HTMLImageElement) => image.naturalWidth))
      .toBeGreaterThan(100);

    // A corrupt file is reported by name and reason; the app keeps working.
    const incoming = path.join(app.scratch, 'incoming');
    fs.mkdirSync(incoming);
    fs.writeFileSync(path.join(incoming, 'broken.svs'), Buffer.from('this is not a slide at all, just text '.repeat(40)));
    await addFolder(page, incoming);
    const failure = page.getByTestId('add-failure');
    await expect(failure).toHaveCount(1);
    await expect(failure).toContainText(path.join(incoming, 'broken.svs'));
    await expect(failure).toContainText(/not a TIFF|not recognise|cannot|corrupt|not an image/i);
    await expect(cards).toHaveCount(2);

    // Tags survive a reload.
    await svsCard.getByTestId('add-tag').click();
    await svsCard.getByTestId('tag-key').fill('tumour');
    await svsCard.getByTestId('tag-value').fill('melanoma');
    await svsCard.getByTestId('save-tags').click();
    await expect(svsCard.getByTestId('save-tags')).toHaveCount(0);
    await page.reload();
    await expect(page.getByTestId('slide-card').filter({ hasText: 'CMU-1-Small-Region.svs' }).getByTestId('tag-value')).toHaveValue('melanoma');
    await screenshotFor(page, 'slides-en');

    // WebGL draws every slide pixel exactly (this Chromium runs it in software, which
    // "automatic" would avoid for speed).
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('renderer-select').selectOption('webgl');
    await page.getByTestId('nav-slides').click();

    // The viewer: the zoom preset for 20× on a 20× scan is full resolution.
    await page.getByTestId('slide-card').filter({ hasText: 'CMU-1-Small-Region.svs' }).getByTestId('view-slide').click();
    await waitForViewerIdle(page);
    await expect(page.getByTestId('viewer-reader')).toHaveText('built-in TIFF · WebGL');
    await screenshotFor(page, 'viewer-en');
    await page.getByTestId('slide-viewer').focus();
    await page.keyboard.press('Shift+Digit4');
    await expect(page.getByTestId('magnification')).toHaveText('20×');
    await waitForViewerIdle(page);
    await expect(page.getByTestId('scale-bar')).toContainText('µm');

    // Pixels on screen equal the same region read through the slide service. The view is set
    // to exactly one slide pixel per screen pixel, with an integral slide pixel at its top-left.
    const topLeft = { x: 700, y: 1200 };
    const landing = await page.evaluate(({ x, y }) => {
      const { viewer, OpenSeadragon } = (window as unknown as { __mitobenchViewer: ViewerHook }).__mitobenchViewer;
      const { viewport } = viewer;
      const width = viewer.element.clientWidth;
      const height = viewer.element.clientHeight;
      viewport.zoomTo(viewport.imageToViewportZoom(1), null, true);
      viewport.panTo(viewport.imageToViewportCoordinates(x + width / 2, y + height / 2), true);
      const origin = viewport.imageToViewerElementCoordinates(new OpenSeadragon.Point(x, y));
      const far = viewport.imageToViewerElementCoordinates(new OpenSeadragon.Point(x + 100, y + 100));
      return { originX: origin.x, originY: origin.y, spanX: far.x - origin.x, spanY: far.y - origin.y };
    }, topLeft);
    // The slide pixel (700, 1200) sits at the viewer's top-left corner, 1 screen pixel per slide pixel.
    expect(landing.originX).toBeCloseTo(0, 2);
    expect(landing.originY).toBeCloseTo(0, 2);
    expect(landing.spanX).toBeCloseTo(100, 2);
    expect(landing.spanY).toBeCloseTo(100, 2);
    await waitForViewerIdle(page);
    await expect(page.getByTestId('magnification')).toHaveText('20×');
    await screenshotFor(page, 'viewer-full-resolution');
    const size = 240;
    const margin = 2;
    // A patch away from the edges; read from the drawer's canvas, which is what the user sees.
    const patch = { x: 300, y: 200 };
    const canvasPixels = await page.evaluate(
      ({ x, y, width, height }) => {
        const canvas = (window as unknown as { __mitobenchViewer: ViewerHook }).__mitobenchViewer.viewer.drawer.canvas;
        return Array.from(canvas.getContext('2d')!.getImageData(x, y, width, height).data);
      },
      { x: patch.x - margin, y: patch.y - margin, width: size + 2 * margin, height: size + 2 * margin },
    );
    const onScreen = Buffer.from(canvasPixels);
    const reader = await openTiffSlide(SVS);
    const region = await reader.readRegion(0, topLeft.x + patch.x, topLeft.y + patch.y, size, size);
    await reader.close();

    let best = { difference: Number.POSITIVE_INFINITY, dx: 0, dy: 0 };
    for (let dy = -margin; dy <= margin; dy += 1) {
      for (let dx = -margin; dx <= margin; dx += 1) {
        const crop = await sharp(onScreen, { raw: { width: size + 2 * margin, height: size + 2 * margin, channels: 4 } })
          .extract({ left: margin + dx, top: margin + dy, width: size, height: size })
          .raw()
          .toBuffer();
        const difference = meanAbsoluteDifference(crop, region.data);
        if (difference < best.difference) best = { difference, dx, dy };
      }
    }
    // Kept for a person to compare when this fails.
    const screens = path.join(repositoryRoot, 'test-results', 'screens');
    await sharp(onScreen, { raw: { width: size + 2 * margin, height: size + 2 * margin, channels: 4 } }).png().toFile(path.join(screens, 'compare-viewer.png'));
    await sharp(region.data, { raw: { width: size, height: size, channels: 4 } }).png().toFile(path.join(screens, 'compare-readRegion.png'));
    console.log(`viewer canvas vs readRegion: mean absolute difference ${best.difference.toFixed(2)} of 255 at shift (${best.dx}, ${best.dy})`);
    // Same stored JPEG tiles, same decoder (libjpeg-turbo), drawn at their true size by WebGL.
    expect(best).toMatchObject({ dx: 0, dy: 0 });
    expect(best.difference).toBeLessThan(1);
    // And the view is not blank: tissue has dark nuclei.
    expect(onScreen.some((value, index) => index % 4 === 0 && value < 150)).toBe(true);

    // Japanese, everywhere, and remembered.
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('language-select').selectOption('ja');
    await expect(page.getByTestId('nav-slides')).toHaveText('スライド');
    await screenshotFor(page, 'settings-ja');
    await page.getByTestId('nav-slides').click();
    await expect(page.getByTestId('add-slides')).toHaveText('スライドを追加…');
    await screenshotFor(page, 'slides-ja');
    await page.getByTestId('nav-viewer').click();
    await waitForViewerIdle(page);
    await screenshotFor(page, 'viewer-ja');
    await page.reload();
    await expect(page.getByTestId('app')).toHaveAttribute('data-language', 'ja');
    await expect(page.getByTestId('nav-slides')).toHaveText('スライド');
  });
});

test('the server refuses requests without the launch token', async ({ page, app }) => {
  const origin = new URL(app.url).origin;
  const response = await page.request.post(`${origin}/api/app.info`, { data: {} });
  expect(response.status()).toBe(401);
  const tile = await page.request.get(`${origin}/tiles/1/v1/0/0_0.jpg`);
  expect(tile.status()).toBe(401);
});
