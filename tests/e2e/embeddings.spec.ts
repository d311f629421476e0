import fs from 'node:fs';
import path from 'node:path';
import { writeSyntheticPyramid } from '../fixtures/syntheticSlides';
import { addFolder, copyTinyCheckpoint, createProject, expect, importAnnotationFile, registerCheckpoint, screenshotFor, test, waitForViewerIdle } from './browserMode';


/** Eight labelled cells near pattern squares, each shifted differently so their patches differ; two classes. */
const labelsCsv = [
  'x,y,label,slide,annotator',
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${192 + 128 * (i % 4) + 9 * i},${192 + 128 * Math.floor(i / 4) - 5 * i},${i % 2 === 0 ? 'mitotic figure' : 'non-mitotic figure (imposter)'},case-1.tif,Ana`),
  '',
].join('\n');

test('extracts embeddings of labelled cells with a tiny model and shows their 2-D map', async ({ page, app }) => {
  const folder = path.join(app.scratch, 'scans');
  fs.mkdirSync(folder);
  await writeSyntheticPyramid(folder, { width: 1024, height: 768, fileName: 'case-1.tif' });
  const csvFile = path.join(app.scratch, 'labels.csv');
  fs.writeFileSync(csvFile, labelsCsv);
  const checkpoint = copyTinyCheckpoint(app.scratch);

  await page.goto(app.url);
  await createProject(page, app.scratch, 'Embeddings');
  await addFolder(page, folder);
  await importAnnotationFile(page, csvFile, { cells: 8, votes: 8 });

  await registerCheckpoint(page, checkpoint);

  const panel = page.getByTestId('model-embeddings');
  await expect(panel.getByTestId('embeddings-cached')).toHaveText('0 of 8 labelled cells embedded');
  await expect(panel).toContainText('patches 32 px at 0.5 µm/px, bicubic');
  await expect(panel.getByTestId('embeddings-extract')).toBeDisabled();
  await panel.getByTestId('embeddings-all-slides').check();
  await panel.getByTestId('embeddings-extract').click();
  await expect(panel.getByTestId('embeddings-result')).toContainText('8 embedded, 0 already cached');
  await expect(panel.getByTestId('embeddings-cached')).toHaveText('8 of 8 labelled cells embedded');

  // A second run finds everything cached.
  await panel.getByTestId('embeddings-extract').click();
  await expect(panel.getByTestId('embeddings-result')).toContainText('0 embedded, 8 already cached');

  // Half precision at batch 4 is a separate build and a separate cache; float32's stays.
  await panel.getByTestId('embeddings-precision').selectOption('float16');
  await expect(panel.getByTestId('embeddings-cached')).toHaveText('0 of 8 labelled cells embedded');
  await panel.getByTestId('embeddings-batch').selectOption('4');
  await panel.getByTestId('embeddings-extract').click();
  await expect(panel.getByTestId('embeddings-result')).toContainText('8 embedded, 0 already cached');
  await panel.getByTestId('embeddings-precision').selectOption('float32');
  await expect(panel.getByTestId('embeddings-cached')).toHaveText('8 of 8 labelled cells embedded');

  await panel.getByTestId('embeddings-toggle-map').click();
  const canvas = panel.getByTestId('embedding-canvas');
  await expect(canvas).toBeVisible();
  await expect(canvas).toHaveAttribute('data-points', '8');
  await expect(panel.getByTestId('embedding-legend')).toContainText('mitotic figure (4)');
  await expect(panel.getByTestId('embedding-legend')).toContainText('non-mitotic figure (imposter) (4)');

  // Hovering a point names its slide and class.
  const box = (await canvas.boundingBox())!;
  const hit = await canvas.evaluate((element: HTMLCanvasElement) => {
    const context = element.getContext('2d')!;
    const { data } = context.getImageData(0, 0, element.width, element.height);
    for (let y = 0; y < element.height; y += 1) {
      for (let x = 0; x < element.width; x += 1) {
        const at = (y * element.width + x) * 4;
        if (data[at + 3]! > 200 && !(data[at] === data[at + 1] && data[at + 1] === data[at + 2])) return { x, y };
      }
    }
    return null;
  });
  expect(hit).not.toBeNull();
  await page.mouse.move(box.x + (hit!.x + 2) * (box.width / 560), box.y + (hit!.y + 2) * (box.height / 400));
  await expect(panel.getByTestId('embedding-tip')).toContainText('case-1.tif —');
  await screenshotFor(page, 'embeddings-en');

  // UMAP of the same cells (laid out on a worker thread), then back to PCA.
  await panel.getByTestId('embedding-projection').selectOption('umap');
  await expect(canvas).toHaveAttribute('data-projection', 'umap');
  await expect(canvas).toHaveAttribute('data-points', '8');
  await expect(panel).toContainText('UMAP of the cached embeddings');
  await expect(panel).toContainText('neighbourhoods are kept');
  await expect(panel.getByTestId('embedding-legend')).toContainText('mitotic figure (4)');
  await screenshotFor(page, 'embeddings-umap-en');
  await panel.getByTestId('embedding-projection').selectOption('pca');
  await expect(canvas).toHaveAttribute('data-projection', 'pca');

  // A click on the point opens its cell in the viewer, centred.
  await page.mouse.click(box.x + (hit!.x + 2) * (box.width / 560), box.y + (hit!.y + 2) * (box.height / 400));
  await expect(page.getByTestId('slide-viewer')).toBeVisible();
  await waitForViewerIdle(page);
  const centred = await page.evaluate(() => {
    const hook = (window as unknown as { __mitobenchViewer: { viewer: { viewport: { getCenter(current: boolean): { x: number; y: number }; viewportToImageCoordinates(point: { x: number; y: number }): { x: number; y: number } } } } }).__mitobenchViewer;
    const centre = hook.viewer.viewport.viewportToImageCoordinates(hook.viewer.viewport.getCenter(true));
    return { x: centre.x, y: centre.y };
  });
  const cells = labelsCsv.split('\n').slice(1, -1).map((line) => line.split(',').slice(0, 2).map(Number) as [number, number]);
  expect(cells.some(([x, y]) => Math.hypot(x - centred.x, y - centred.y) < 2)).toBe(true);

  await page.getByTestId('nav-settings').click();
  await page.getByTestId('language-select').selectOption('ja');
  await page.getByTestId('nav-models').click();
  await expect(panel.getByTestId('embeddings-cached')).toHaveText('ラベル付き細胞 8 個のうち 8 個を埋め込み済み');
  await panel.getByTestId('embeddings-toggle-map').click();
  await expect(panel.getByTestId('embedding-canvas')).toHaveAttribute('data-points', '8');
  await expect(panel).toContainText('キャッシュ済み埋め込みの PCA');
  await screenshotFor(page, 'embeddings-ja');
  await panel.getByTestId('embedding-projection').selectOption('umap');
  await expect(panel.getByTestId('embedding-canvas')).toHaveAttribute('data-projection', 'umap');
  await expect(panel).toContainText('キャッシュ済み埋め込みの UMAP');
  await screenshotFor(page, 'embeddings-umap-ja');
});
