import fs from 'node:fs';
import path from 'node:path';
import { browseTo, createProject, expect, repositoryRoot, screenshotFor, test } from './browserMode';

/** A tiny timm ViT checkpoint (config.json + model.safetensors) from the golden test folders. */
const GOLDEN = path.join(repositoryRoot, 'tests', 'unit', 'models', 'architecture', 'golden', 'timm-gelu');

test('registers a checkpoint folder and times it on the CPU', async ({ page, app }) => {
  const checkpoint = path.join(app.scratch, 'tiny-vit');
  fs.mkdirSync(checkpoint);
  for (const file of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(GOLDEN, file), path.join(checkpoint, file));

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
