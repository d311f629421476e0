import fs from 'node:fs';
import path from 'node:path';
import { writeSyntheticPyramid } from '../fixtures/syntheticSlides';
import { addFolder, browseTo, copyTinyCheckpoint, createProject, expect, importAnnotationFile, repositoryRoot, screenshotFor, test } from './browserMode';


test('registers a checkpoint folder and times it on the CPU', async ({ page, app }) => {
  const checkpoint = copyTinyCheckpoint(app.scratch);

  await page.goto(app.url);
  await createProject(page, app.scratch, 'Models');
  await page.getByTestId('nav-models').click();
  await expect(page.getByTestId('provider-cpu')).toContainText('available');
  await expect(page.getByTestId('models-list')).toContainText('No models registered yet.');

  await browseTo(page, '[data-testid=models-register]', checkpoint);
  await expect(page.locator('[data-testid=browser-entry][data-name="config.json"]')).toBeVisible();
  await page.getByTestId('model-register-folder').click();
  const row = page.getByTestId('model-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('tiny-vit');
  await expect(row).toContainText('timm vit_tiny_patch16_224');
  await expect(row).toContainText('32');

  await page.getByTestId('test-provider').selectOption('cpu');
  await page.getByTestId('model-test-run').click();
  await expect(page.getByTestId('model-test-result')).toContainText(/\d ms\/image/);
  await expect(page.getByTestId('model-test-result')).toContainText('on cpu');
  await screenshotFor(page, 'models-en');

  await page.getByTestId('nav-settings').click();
  await page.getByTestId('language-select').selectOption('ja');
  await page.getByTestId('nav-models').click();
  await expect(page.getByTestId('provider-cpu')).toContainText('利用可能');
  await page.getByTestId('model-test-run').click();
  await expect(page.getByTestId('model-test-result')).toContainText('1 枚あたり');
  await screenshotFor(page, 'models-ja');

  // Registering the same folder again is refused, naming it; nothing is added.
  await browseTo(page, '[data-testid=models-register]', checkpoint);
  await page.getByTestId('model-register-folder').click();
  await expect(page.getByTestId('errors')).toContainText(checkpoint);
  await expect(row).toHaveCount(1);
});

/** PaddleOCR's MobileNetV3 text-direction classifier: a real third-party ONNX file (opset 9, weights in Constant nodes). */
const OCR_MODEL = path.join(repositoryRoot, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

test('registers a third-party ONNX file on an intermediate tensor and extracts 200-d embeddings with it', async ({ page, app }) => {
  const folder = path.join(app.scratch, 'scans');
  fs.mkdirSync(folder);
  await writeSyntheticPyramid(folder, { width: 1024, height: 768, fileName: 'case-1.tif' });
  const csvFile = path.join(app.scratch, 'labels.csv');
  fs.writeFileSync(csvFile, ['x,y,label,slide,annotator', '200,200,mitotic figure,case-1.tif,Ana', '330,190,mitotic figure,case-1.tif,Ana', '460,320,non-mitotic figure (imposter),case-1.tif,Ana', ''].join('\n'));

  await page.goto(app.url);
  await createProject(page, app.scratch, 'OCR');
  await addFolder(page, folder);
  await importAnnotationFile(page, csvFile, { cells: 3, votes: 3 });
  await page.getByTestId('nav-models').click();
  await browseTo(page, '[data-testid=models-register]', path.dirname(OCR_MODEL));
  await page.locator(`[data-testid=browser-entry][data-name="${path.basename(OCR_MODEL)}"]`).getByTestId('browser-tick').check();
  // The file's outputs and pooled intermediates are offered; the global average pool is the embedding.
  await expect(page.getByTestId('embedding-candidates')).toBeVisible();
  await page.getByTestId('model-embedding-output').fill('p2o.GlobalAveragePool.19');
  await page.getByTestId('model-register-file').click();
  const row = page.getByTestId('model-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('ch_ppocr_mobile_v2.0_cls_infer');
  await expect(row).toContainText('200');

  const panel = page.getByTestId('model-embeddings');
  await expect(panel).toContainText('patches 192 × 48 px');
  // An ONNX file runs as exported: half precision is not offered.
  await expect(panel.getByTestId('embeddings-precision')).toBeDisabled();
  await panel.getByTestId('embeddings-all-slides').check();
  await panel.getByTestId('embeddings-extract').click();
  await expect(panel.getByTestId('embeddings-result')).toContainText('3 embedded, 0 already cached');
  await panel.getByTestId('embeddings-toggle-map').click();
  await expect(panel.getByTestId('embedding-canvas')).toHaveAttribute('data-points', '3');
  await screenshotFor(page, 'models-onnx-en');
});

