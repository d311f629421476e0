import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { loraSettingsSchema } from '../../src-main/contract/trainingSchemas';
import { squareCentre, writeSyntheticPyramid } from '../fixtures/syntheticSlides';
import { addFolder, copyTinyCheckpoint, createProject, expect, importAnnotationFile, registerCheckpoint, screenshotFor, test, waitForViewerIdle } from './browserMode';

const SLIDES = ['a.tif', 'b.tif', 'c.tif'];

/**
 * Red squares are "mitotic figures", blue ones "imposters" (the pattern's colour index (column + 3 row) mod 4
 * is 0 or 2): a task the tiny ViT's features separate, as in tests/unit/training/trainingService.test.ts.
 */
function labelledSquares(): { x: number; y: number; label: string }[] {
  const cells: { x: number; y: number; label: string }[] = [];
  for (let column = 1; column < 7; column++) {
    for (let row = 1; row < 5; row++) {
      const colour = (column + 3 * row) % 4;
      if (colour === 0 || colour === 2) cells.push({ ...squareCentre(column, row), label: colour === 0 ? 'mitotic figure' : 'non-mitotic figure (imposter)' });
    }
  }
  return cells;
}

const CELLS_PER_SLIDE = labelledSquares().length;
const labelsCsv = ['x,y,label,slide,annotator', ...SLIDES.flatMap((slide) => labelledSquares().map((cell) => `${cell.x},${cell.y},${cell.label},${slide},Ana`)), ''].join('\n');

/** Ticks every slide and both classes, with one slide of three held out for validation. */
async function chooseTask(page: Page, seed: number): Promise<void> {
  const form = page.getByTestId('train-form');
  await form.getByTestId('train-all-slides').check();
  await form.locator('[data-testid=train-class][data-name="mitotic figure"]').check();
  await form.locator('[data-testid=train-class][data-name="non-mitotic figure (imposter)"]').check();
  await form.getByTestId('train-validation').fill('0.34');
  await form.getByTestId('train-seed').fill(String(seed));
}

test('trains a linear probe and a LoRA adapter from the Train page, watches the curves and predicts', async ({ page, app }) => {
  test.setTimeout(300_000);
  const folder = path.join(app.scratch, 'scans');
  fs.mkdirSync(folder);
  for (const fileName of SLIDES) await writeSyntheticPyramid(folder, { width: 1024, height: 768, compression: 'lzw', mpp: 0.25, fileName });
  const csvFile = path.join(app.scratch, 'labels.csv');
  fs.writeFileSync(csvFile, labelsCsv);
  const checkpoint = copyTinyCheckpoint(app.scratch);

  await page.goto(app.url);
  await createProject(page, app.scratch, 'Training');
  await addFolder(page, folder);
  await importAnnotationFile(page, csvFile, { cells: 3 * CELLS_PER_SLIDE, votes: 3 * CELLS_PER_SLIDE });
  await registerCheckpoint(page, checkpoint);

  await page.getByTestId('nav-training').click();
  const form = page.getByTestId('train-form');
  await expect(page.getByTestId('adapters')).toContainText('No adapters yet.');
  await expect(form.getByTestId('train-start')).toBeDisabled();
  await expect(form.getByTestId('train-missing')).toContainText('Tick at least one slide.');

  // The form shows the schema's LoRA defaults.
  await form.getByTestId('train-method-lora').check();
  const defaults = loraSettingsSchema.parse({});
  for (const [testId, value] of [
    ['lora-rank', defaults.rank],
    ['lora-alpha', defaults.alpha],
    ['lora-dropout', defaults.dropout],
    ['lora-learning-rate', defaults.learningRate],
    ['lora-weight-decay', defaults.weightDecay],
    ['lora-batch', defaults.batchSize],
    ['lora-patches', defaults.patchesPerEpoch],
    ['lora-max-epochs', defaults.maxEpochs],
    ['lora-patience', defaults.patience],
  ] as const) {
    expect(Number(await form.getByTestId(testId).inputValue()), testId).toBe(value);
  }
  await expect(form.getByTestId('lora-schedule')).toHaveValue(defaults.schedule);
  await expect(form.getByTestId('lora-augment')).toBeChecked({ checked: defaults.augment });
  const targets = await form.locator('[data-testid=lora-target]:checked').evaluateAll((boxes) => boxes.map((box) => box.getAttribute('data-name')));
  expect(targets).toEqual(defaults.targets);

  // A linear probe: red against blue is learnt exactly on the held-out slide.
  await form.getByTestId('train-method-probe').check();
  await expect(form.getByTestId('train-c')).toHaveAttribute('placeholder', '0.64'); // dim 32 × 2 classes / 100
  await chooseTask(page, 3);
  await form.getByTestId('train-start').click();
  const probe = page.getByTestId('adapter').first();
  await expect(probe).toHaveAttribute('data-method', 'linear-probe');
  await expect(probe).toHaveAttribute('data-status', 'ready', { timeout: 60_000 });
  await expect(probe.getByTestId('adapter-accuracy')).toHaveText('validation balanced accuracy: 1');
  await probe.getByTestId('adapter-record').locator('summary').click();
  await expect(probe.getByTestId('record-cells')).toHaveText(`${2 * CELLS_PER_SLIDE} for training, ${CELLS_PER_SLIDE} for validation`);
  await expect(probe.getByTestId('record-seed')).toContainText('3');

  // A tiny LoRA run: three pseudo-epochs of eight patches, watched live.
  await form.getByTestId('train-method-lora').check();
  await form.getByTestId('lora-batch').fill('4');
  await form.getByTestId('lora-patches').fill('8');
  await form.getByTestId('lora-max-epochs').fill('3');
  await form.getByTestId('lora-learning-rate').fill('0.001');
  await form.getByTestId('train-seed').fill('5');
  await form.getByTestId('train-start').click();
  await expect(page.getByTestId('adapter')).toHaveCount(2);
  const lora = page.getByTestId('adapter').first();
  await expect(lora).toHaveAttribute('data-method', 'lora');
  await expect(lora).toHaveAttribute('data-status', 'training');
  await expect(lora.getByTestId('adapter-progress')).toBeVisible();
  await expect(lora).toHaveAttribute('data-status', 'ready', { timeout: 180_000 });
  const chart = lora.getByTestId('loss-chart');
  await expect(chart).toHaveAttribute('data-epochs', '3');
  // Plot draws one dot per pseudo-epoch and series: training and validation loss, then balanced accuracy.
  await expect(chart.getByTestId('loss-plot').locator('g[aria-label="dot"] circle')).toHaveCount(6);
  await expect(chart.getByTestId('accuracy-plot').locator('g[aria-label="dot"] circle')).toHaveCount(3);
  await expect(chart.getByTestId('loss-plot')).toContainText('validation');
  await expect(lora.getByTestId('adapter-metrics')).toContainText('pseudo-epoch 3 of at most 3');
  await expect(lora.getByTestId('adapter-provider')).toHaveText('on cpu');
  await expect(lora.getByTestId('adapter-speed')).toContainText('samples/s');
  await expect(lora.getByTestId('adapter-best')).toContainText('Kept: pseudo-epoch');
  await lora.getByTestId('adapter-record').locator('summary').click();
  await expect(lora.getByTestId('record-settings')).toContainText('r 16 · α 16 · dropout 0.1 · qkv/proj/fc1/fc2 · lr 0.001 · wd 0 · batch 4 · 8 patches/epoch');

  // Predict the held-out slide's labelled cells (the default choice).
  const predict = lora.getByTestId('train-predict');
  await expect(predict.locator('[data-testid=predict-slide]:checked')).toHaveCount(1);
  await predict.getByTestId('predict-run').click();
  await expect(predict.getByTestId('predict-result')).toHaveText(`${CELLS_PER_SLIDE} cells predicted`, { timeout: 60_000 });
  await expect(predict.getByTestId('predictions-count')).toHaveText(`${CELLS_PER_SLIDE} predictions stored`);
  await expect(predict.getByTestId('prediction-row')).toHaveCount(10);
  await screenshotFor(page, 'training-en');

  // A row opens its cell in the viewer, centred.
  const [x, y] = (await predict.getByTestId('prediction-row').first().locator('td').nth(1).innerText()).split(',').map((part) => Number(part.trim()));
  await predict.getByTestId('prediction-row').first().click();
  await expect(page.getByTestId('slide-viewer')).toBeVisible();
  await waitForViewerIdle(page);
  const centre = await page.evaluate(() => {
    const hook = (window as unknown as { __mitobenchViewer: { viewer: { viewport: { getCenter(current: boolean): { x: number; y: number }; viewportToImageCoordinates(point: { x: number; y: number }): { x: number; y: number } } } } }).__mitobenchViewer;
    return hook.viewer.viewport.viewportToImageCoordinates(hook.viewer.viewport.getCenter(true));
  });
  expect(Math.hypot(centre.x - x!, centre.y - y!)).toBeLessThan(2);

  // A run that would not stop by itself: cancelled through its job, resumed, cancelled again further on.
  await page.getByTestId('nav-training').click();
  await chooseTask(page, 7);
  await form.getByTestId('train-method-lora').check();
  await form.getByTestId('lora-batch').fill('4');
  await form.getByTestId('lora-patches').fill('8');
  await form.getByTestId('lora-max-epochs').fill('10000');
  await form.getByTestId('lora-patience').fill('1000');
  await form.getByTestId('train-start').click();
  await expect(page.getByTestId('adapter')).toHaveCount(3);
  const long = page.getByTestId('adapter').first();
  const epochsShown = async () => Number((await long.getByTestId('loss-chart').getAttribute('data-epochs')) ?? 0);
  await expect(long.getByTestId('loss-chart')).toBeVisible({ timeout: 60_000 });
  await long.getByTestId('adapter-cancel').click();
  await expect(long).toHaveAttribute('data-status', 'cancelled', { timeout: 60_000 });
  const cancelledAt = await epochsShown();
  expect(cancelledAt).toBeGreaterThanOrEqual(1);
  await long.getByTestId('adapter-resume').click();
  await expect(long).toHaveAttribute('data-status', 'training');
  await expect.poll(epochsShown, { timeout: 60_000 }).toBeGreaterThan(cancelledAt);
  await long.getByTestId('adapter-cancel').click();
  await expect(long).toHaveAttribute('data-status', 'cancelled', { timeout: 60_000 });
  await expect(long.getByTestId('adapter-resume')).toBeVisible();
  page.once('dialog', (dialog) => void dialog.accept());
  await long.getByTestId('adapter-remove').click();
  await expect(page.getByTestId('adapter')).toHaveCount(2);

  await page.getByTestId('nav-settings').click();
  await page.getByTestId('language-select').selectOption('ja');
  await page.getByTestId('nav-training').click();
  const loraJa = page.getByTestId('adapter').first();
  await expect(loraJa.getByTestId('adapter-status')).toHaveText('完了');
  await expect(loraJa.getByTestId('loss-chart').getByTestId('loss-plot')).toContainText('検証');
  await expect(loraJa.getByTestId('predictions-count')).toHaveText(`保存済みの予測 ${CELLS_PER_SLIDE} 件`);
  await page.getByTestId('train-method-lora').check();
  await expect(page.getByTestId('train-lora-settings')).toContainText('疑似エポックあたりのパッチ数');
  await screenshotFor(page, 'training-ja');
});
