import fs from 'node:fs';
import path from 'node:path';
import { writeSyntheticPyramid } from '../fixtures/syntheticSlides';
import { addFolder, createProject, expect, screenshotFor, test, waitForViewerIdle } from './browserMode';

test('label cells by click and keys, undo and redo, and find them again after a reload', async ({ page, app }) => {
  const folder = path.join(app.scratch, 'scans');
  fs.mkdirSync(folder);
  await writeSyntheticPyramid(folder, { width: 4000, height: 3000, fileName: 'mitoses.tif' });
  await page.goto(app.url);
  await createProject(page, app.scratch, 'Labelling');
  await addFolder(page, folder);
  await page.getByTestId('view-slide').click();
  await waitForViewerIdle(page);

  await page.getByTestId('annotator-name').fill('Dr. Sato');
  await page.getByTestId('annotator-use').click();
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
});
