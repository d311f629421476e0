import fs from 'node:fs';
import path from 'node:path';
import { qupathExportText, writeCorruptPng, writeCropsFolder } from '../fixtures/qupathAsapSamples';
import { browseTo, createProject, expect, screenshotFor, test } from './browserMode';

test('import a folder of labelled crops: preview per class, import as slides, a corrupt crop blocks the import', async ({ page, app }) => {
  const crops = path.join(app.scratch, 'patches');
  await writeCropsFolder(
    crops,
    [
      { relativePath: 'mitotic figure/m1.png', label: 'mitotic figure' },
      { relativePath: 'mitotic figure/m2.jpg', label: 'mitotic figure' },
      { relativePath: 'eosinophil/e1.png', label: 'eosinophil' },
    ],
    'class-folders',
  );
  await page.goto(app.url);
  await createProject(page, app.scratch, 'Crops');
  await page.getByTestId('import-annotations').click();
  await page.getByTestId('import-mode-crops').click();
  await browseTo(page, '[data-testid=import-panel]', crops);
  await page.getByTestId('crops-preview').click();
  const summary = page.getByTestId('crops-preview-summary');
  await expect(page.getByTestId('crops-images')).toHaveText('3 images');
  await expect(page.getByTestId('crops-classes')).toContainText('eosinophil: 1 crop (new class)');
  await expect(page.getByTestId('crops-classes')).toContainText('mitotic figure: 2 crops');
  await page.getByTestId('crops-annotator').fill('Dr. Sato');
  await screenshotFor(page, 'crops-preview-en');
  await page.getByTestId('crops-run').click();
  await expect(page.getByTestId('crops-report')).toHaveText('Imported 3 cells on 3 new slides.');
  await expect(summary).toHaveCount(0);
  await expect(page.getByTestId('slide-card')).toHaveCount(3);
  await screenshotFor(page, 'crops-report-en');

  // A corrupt crop is named; the import button stays off, and nothing is added.
  writeCorruptPng(path.join(crops, 'eosinophil', 'broken.png'));
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('language-select').selectOption('ja');
  await page.getByTestId('nav-slides').click();
  await page.getByTestId('import-annotations').click();
  await page.getByTestId('import-mode-crops').click();
  await browseTo(page, '[data-testid=import-panel]', crops);
  await page.getByTestId('crops-preview').click();
  await expect(page.getByTestId('crops-unreadable')).toContainText('broken.png');
  await expect(page.getByTestId('crops-unreadable')).toContainText('読み込めない画像が 1 枚あります');
  await expect(page.getByTestId('crops-images')).toHaveText('画像 4 枚');
  await page.getByTestId('crops-annotator').fill('Dr. Sato');
  await expect(page.getByTestId('crops-run')).toBeDisabled();
  await expect(page.getByTestId('slide-card')).toHaveCount(3);
  await screenshotFor(page, 'crops-preview-ja');
});

test('preview a QuPath GeoJSON file: the slide it goes to is named, in English and Japanese', async ({ page, app }) => {
  fs.writeFileSync(path.join(app.scratch, 'CMU-1.svs.geojson'), qupathExportText());
  await page.goto(app.url);
  await createProject(page, app.scratch, 'QuPath');
  for (const language of ['en', 'ja'] as const) {
    if (language === 'ja') {
      await page.getByTestId('nav-settings').click();
      await page.getByTestId('language-select').selectOption('ja');
      await page.getByTestId('nav-slides').click();
    }
    await page.getByTestId('import-annotations').click();
    await browseTo(page, '[data-testid=import-panel]', app.scratch);
    await page.locator('[data-testid=browser-entry][data-name="CMU-1.svs.geojson"]').getByTestId('browser-tick').check();
    await page.getByTestId('import-preview').click();
    await expect(page.getByTestId('import-preview-summary')).toContainText('qupath-geojson');
    await expect(page.getByTestId('import-slide-choice')).toContainText('CMU-1.svs');
    if (language === 'en') await expect(page.getByTestId('import-slide-choice')).toContainText('named like the file');
    else await expect(page.getByTestId('import-slide-choice')).toContainText('ファイル名から');
    await screenshotFor(page, `import-qupath-${language}`);
  }
});
