import fs from 'node:fs';
import path from 'node:path';
import { openTiffSlide } from '../../src-main/services/slides/tiff/TiffSlideReader';
import { writeLargeSyntheticPyramid, writeSyntheticPyramid } from '../fixtures/syntheticSlides';
import { addFolder, browseTo, createProject, expect, screenshotFor, test, waitForViewerIdle, type ViewerHook } from './browserMode';

test('a moved slide shows as missing and is relinked to its new place, verified by content', async ({ page, app }) => {
  const incoming = path.join(app.scratch, 'scans');
  const elsewhere = path.join(app.scratch, 'archive');
  fs.mkdirSync(incoming);
  fs.mkdirSync(elsewhere);
  const slide = await writeSyntheticPyramid(incoming, { width: 3000, height: 2000, fileName: 'case-17.tif' });
  const impostor = await writeSyntheticPyramid(elsewhere, { width: 3000, height: 1000, fileName: 'other-case.tif' });

  await page.goto(app.url);
  await createProject(page, app.scratch, 'Relink');
  await addFolder(page, incoming);
  const card = page.getByTestId('slide-card');
  await expect(card).toHaveCount(1);
  await expect(card).toHaveAttribute('data-status', 'ok');

  const moved = path.join(elsewhere, 'case-17-renamed.tif');
  fs.renameSync(slide.path, moved);
  await page.reload();
  await expect(card).toHaveAttribute('data-status', 'missing');
  await expect(card.getByTestId('slide-missing')).toBeVisible();
  await expect(card.getByTestId('slide-problem')).toContainText(slide.path);
  await screenshotFor(page, 'slide-missing-en');

  // The wrong file is refused with its name, and nothing changes.
  await card.getByTestId('relink-slide').click();
  await browseTo(page, '[data-testid=relink-panel]', elsewhere);
  await card.locator('[data-testid=browser-entry][data-name="other-case.tif"]').getByTestId('browser-tick').check();
  await card.getByTestId('relink-use').click();
  await expect(page.getByTestId('error-message')).toContainText(impostor.path);
  await expect(page.getByTestId('error-message')).toContainText('content differs');
  await expect(card).toHaveAttribute('data-status', 'missing');
  await screenshotFor(page, 'relink-refused-en');

  await card.locator('[data-testid=browser-entry][data-name="case-17-renamed.tif"]').getByTestId('browser-tick').check();
  await card.getByTestId('relink-use').click();
  await expect(card).toHaveAttribute('data-status', 'ok');
  await expect(card.getByTestId('slide-name')).toHaveText('case-17-renamed.tif');
  await page.reload();
  await expect(page.getByTestId('slide-card')).toHaveAttribute('data-status', 'ok');
});

test('a 50,000 × 50,000 pyramid opens and is drawn at full resolution', async ({ page, app }) => {
  test.setTimeout(240_000);
  const folder = path.join(app.scratch, 'large');
  fs.mkdirSync(folder);
  const large = await writeLargeSyntheticPyramid(folder, 50_000, 50_000);
  console.log(`50k pyramid written in ${large.writeSeconds.toFixed(1)} s (${(large.sizeBytes / 1e6).toFixed(1)} MB)`);

  await page.goto(app.url);
  await createProject(page, app.scratch, 'Large');
  await addFolder(page, folder);
  const card = page.getByTestId('slide-card');
  await expect(card.getByTestId('slide-dimensions')).toHaveText('50,000 × 50,000 px');
  await card.getByTestId('view-slide').click();
  await waitForViewerIdle(page);
  // "automatic": this Chromium's WebGL runs in software, so the viewer uses the canvas.
  await expect(page.getByTestId('viewer-reader')).toHaveText('built-in TIFF · canvas');

  // 0.25 µm/px is a 40× scan: the 40× preset is full resolution.
  await page.getByTestId('slide-viewer').focus();
  await page.keyboard.press('Shift+Digit5');
  await expect(page.getByTestId('magnification')).toHaveText('40×');

  // Jump across the slide at full resolution and time until every tile of each view is drawn.
  const reader = await openTiffSlide(large.path);
  const secondsToSharp: number[] = [];
  const differences: number[] = [];
  for (const [x, y] of [
    [25_000, 25_000],
    [1_000, 48_000],
    [48_500, 900],
    [12_345, 37_777],
  ] as const) {
    const started = Date.now();
    const topLeft = await page.evaluate(
      ({ x, y }) => {
        const { viewer } = (window as unknown as { __mitobenchViewer: ViewerHook }).__mitobenchViewer;
        const width = viewer.element.clientWidth;
        const height = viewer.element.clientHeight;
        viewer.viewport.zoomTo(viewer.viewport.imageToViewportZoom(1), null, true);
        viewer.viewport.panTo(viewer.viewport.imageToViewportCoordinates(x + width / 2, y + height / 2), true);
        return { x, y };
      },
      { x, y },
    );
    await waitForViewerIdle(page);
    secondsToSharp.push((Date.now() - started) / 1000);

    const size = 200;
    const pixels = await page.evaluate(
      ({ size }) => {
        const canvas = (window as unknown as { __mitobenchViewer: ViewerHook }).__mitobenchViewer.viewer.drawer.canvas;
        return Array.from(canvas.getContext('2d')!.getImageData(100, 100, size, size).data);
      },
      { size },
    );
    const region = await reader.readRegion(0, topLeft.x + 100, topLeft.y + 100, size, size);
    let difference = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      for (let channel = 0; channel < 3; channel += 1) difference += Math.abs(pixels[i + channel]! - region.data[i + channel]!);
    }
    differences.push(difference / (size * size * 3));
  }
  await reader.close();
  console.log(`viewer canvas vs readRegion, mean absolute difference per view: ${differences.map((d) => d.toFixed(2)).join(', ')}`);
  // The same stored JPEG tiles; Chromium's and libvips' JPEG decoders round chroma differently (±2).
  for (const difference of differences) expect(difference).toBeLessThan(3);
  console.log(`time until a full-resolution view is sharp: ${secondsToSharp.map((s) => s.toFixed(2)).join(', ')} s`);
  await screenshotFor(page, 'viewer-50k-en');
});

test('the project, slides, missing-slide and error screens in Japanese', async ({ page, app }) => {
  const incoming = path.join(app.scratch, 'スキャン');
  fs.mkdirSync(incoming);
  const slide = await writeSyntheticPyramid(incoming, { width: 2000, height: 1500, fileName: '症例-3.tif' });
  fs.writeFileSync(path.join(incoming, '壊れた.svs'), Buffer.alloc(0));

  await page.goto(app.url);
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('language-select').selectOption('ja');
  await page.getByTestId('nav-settings').click();
  await expect(page.getByTestId('create-project')).toContainText('プロジェクトを作成');
  await screenshotFor(page, 'project-ja');

  await createProject(page, app.scratch, '犬の皮膚腫瘍');
  await addFolder(page, incoming);
  await expect(page.getByTestId('add-summary')).toContainText('追加 1 件');
  await expect(page.getByTestId('add-failure')).toContainText('empty file (0 bytes)');
  await screenshotFor(page, 'add-slides-ja');

  fs.renameSync(slide.path, path.join(app.scratch, '症例-3-moved.tif'));
  await page.reload();
  const card = page.getByTestId('slide-card');
  await expect(card.getByTestId('slide-missing')).toHaveText('見つかりません');
  await card.getByTestId('relink-slide').click();
  await expect(page.getByTestId('relink-panel')).toContainText('の移動先ファイルを探す');
  await screenshotFor(page, 'slide-missing-ja');
});

test('adding a folder runs as a job with progress that can be cancelled', async ({ page, app }) => {
  const folder = path.join(app.scratch, 'many');
  fs.mkdirSync(folder);
  for (let i = 0; i < 60; i += 1) {
    await writeSyntheticPyramid(folder, { width: 1500, height: 1200, fileName: `case-${String(i).padStart(2, '0')}.tif` });
  }
  await page.goto(app.url);
  await createProject(page, app.scratch, 'Jobs');
  await page.getByTestId('add-slides').click();
  await browseTo(page, '[data-testid=add-slides-panel]', folder);
  await page.getByTestId('add-folder').click();

  const job = page.getByTestId('job');
  await expect(job).toBeVisible();
  await expect(job).toContainText('Adding slides');
  await expect(job).toContainText('/ 60');
  await screenshotFor(page, 'job-progress-en');
  await job.getByTestId('job-cancel').click();

  await expect(page.getByTestId('add-cancelled')).toBeVisible();
  await expect(job).toHaveCount(0);
  const added = await page.getByTestId('slide-card').count();
  expect(added).toBeGreaterThan(0);
  expect(added).toBeLessThan(60);
});
