import fs from 'node:fs';
import path from 'node:path';
import { hasSharedAnnotations, midogPlusPlusJsonPath } from '../fixtures/sharedAnnotations';
import { browseTo, createProject, expect, labelNewSlide, screenshotFor, test, waitForViewerIdle } from './browserMode';

test('label cells by click and keys, undo and redo, and find them again after a reload', async ({ page, app }) => {
  await labelNewSlide(page, app, { project: 'Labelling', annotator: 'Dr. Sato', slide: { width: 4000, height: 3000, fileName: 'mitoses.tif' } });
  const inView = page.getByTestId('cells-in-view');
  await expect(inView).toHaveText('0 cells in view');

  const canvas = page.locator('[data-testid=slide-viewer] .canvas');
  const box = (await canvas.boundingBox())!;
  const at = (dx: number, dy: number) => ({ x: box.width / 2 + dx, y: box.height / 2 + dy });
  await canvas.click({ position: at(0, 0) });
  await expect(inView).toHaveText('1 cell in view');
  await canvas.click({ position: at(80, 40) });
  await expect(inView).toHaveText('2 cells in view');

  // Key 2 picks the imposter class; the next click uses it.
  await page.getByTestId('slide-viewer').focus();
  await page.keyboard.press('2');
  await expect(page.locator('[data-testid=class-button].active')).toContainText('imposter');
  await canvas.click({ position: at(-90, 60) });
  await expect(inView).toHaveText('3 cells in view');
  await expect(page.getByTestId('cell-layer')).toHaveAttribute('data-cells', '3');
  await screenshotFor(page, 'labelling-en');

  await page.getByTestId('slide-viewer').focus();
  await page.keyboard.press('Control+KeyZ');
  await expect(inView).toHaveText('2 cells in view');
  await page.keyboard.press('Control+Shift+KeyZ');
  await expect(inView).toHaveText('3 cells in view');

  // Everything is in the project: a reload (or a restart) finds the same cells under the same name.
  await page.reload();
  await page.getByTestId('nav-viewer').click();
  await page.getByTestId('viewer-slide-item').click();
  await waitForViewerIdle(page);
  await expect(page.getByTestId('annotator-name')).toHaveValue('Dr. Sato');
  await expect(inView).toHaveText('3 cells in view');
  // Undo still works after the reload: the history is in the project, not in the page.
  await page.getByTestId('slide-viewer').focus();
  await page.keyboard.press('Control+KeyZ');
  await expect(inView).toHaveText('2 cells in view');

  // A second person, blind: Dr. Sato's cells appear as candidates without their class.
  await page.getByTestId('annotator-name').fill('Dr. Ito');
  await page.getByTestId('annotator-use').click();
  await page.getByTestId('blind-mode').check();
  await expect(inView).toHaveText('2 cells in view');
  await expect(page.getByTestId('disagreements-in-view')).toHaveCount(0);
  // Dr. Ito calls the first cell an imposter: a vote on that cell, not a new cell.
  await page.getByTestId('slide-viewer').focus();
  await page.keyboard.press('2');
  await canvas.click({ position: at(1, 1) });
  await expect(inView).toHaveText('2 cells in view');
  await screenshotFor(page, 'labelling-blind-en');
  // Out of blind mode the two votes disagree.
  await page.getByTestId('blind-mode').uncheck();
  await expect(page.getByTestId('disagreements-in-view')).toHaveText('1 disagreement');

  // The same screens in Japanese.
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('language-select').selectOption('ja');
  await page.getByTestId('nav-viewer').click();
  await waitForViewerIdle(page);
  await expect(page.getByTestId('disagreements-in-view')).toHaveText('不一致 1 件');
  await screenshotFor(page, 'labelling-ja');
  await page.getByTestId('nav-slides').click();
  await page.getByTestId('import-annotations').click();
  await expect(page.getByTestId('import-panel')).toContainText('アノテーションの読み込み');
  await screenshotFor(page, 'import-ja');
});

test('a broken annotation file is refused by name and changes nothing', async ({ page, app }) => {
  const broken = path.join(app.scratch, 'cut-short.json');
  fs.writeFileSync(broken, '{"images": [{"id": 1, "file_name": "a.tiff", "width": 100, "height"');
  await page.goto(app.url);
  await createProject(page, app.scratch, 'Broken import');
  await page.getByTestId('import-annotations').click();
  await browseTo(page, '[data-testid=import-panel]', app.scratch);
  await page.locator('[data-testid=browser-entry][data-name="cut-short.json"]').getByTestId('browser-tick').check();
  await page.getByTestId('import-preview').click();
  await expect(page.getByTestId('error-message')).toContainText(broken);
  await expect(page.getByTestId('import-preview-summary')).toHaveCount(0);
  await expect(page.getByTestId('slide-card')).toHaveCount(0);
});

test.describe('with the shared MIDOG++ labels', () => {
  test.skip(!hasSharedAnnotations, `needs the shared label files, absent here: ${midogPlusPlusJsonPath}`);

  test('import MIDOG++.json: preview, import, and see its tumour types as slide tags', async ({ page, app }) => {
    await page.goto(app.url);
    await createProject(page, app.scratch, 'MIDOG++');
    await page.getByTestId('import-annotations').click();
    await browseTo(page, '[data-testid=import-panel]', path.dirname(midogPlusPlusJsonPath));
    await page.locator('[data-testid=browser-entry][data-name="MIDOG++.json"]').getByTestId('browser-tick').check();
    await page.getByTestId('import-preview').click();
    const summary = page.getByTestId('import-preview-summary');
    await expect(summary).toContainText('26286 cells');
    await expect(page.getByTestId('import-slides')).toContainText('553 will be added as missing slides');
    await page.getByTestId('import-annotator').fill('Importer');
    await page.getByTestId('import-run').click();
    await expect(page.getByTestId('import-report')).toContainText('Imported 26286 cells', { timeout: 60_000 });
    await screenshotFor(page, 'import-midog-en');
    await expect(page.getByTestId('slide-card')).toHaveCount(553, { timeout: 60_000 });
    const first = page.getByTestId('slide-card').first();
    await expect(first).toHaveAttribute('data-status', 'missing');
    await expect(first.getByTestId('tag-key')).toHaveValue('tumour');
  });
});
