import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { browseTo, createProject, expect, importAnnotationFile, screenshotFor, test } from './browserMode';

/** Two slides, three annotators: one agreed cell, one 2:1 disagreement, one cell on the second slide. */
const labelsCsv = [
  'x,y,label,slide,annotator',
  '100,200,mitotic figure,case-1.tiff,Ana',
  '100,200,mitotic figure,case-1.tiff,Ben',
  '300,400,non-mitotic figure (imposter),case-1.tiff,Ana',
  '300,400,mitotic figure,case-1.tiff,Ben',
  '300,400,non-mitotic figure (imposter),case-1.tiff,Chiara',
  '50.5,60.5,mitotic figure,case-2.tiff,Ana',
  '',
].join('\n');

async function exportAs(page: Page, formatId: string, folder: string, fileName: string): Promise<void> {
  const panel = page.getByTestId('export-panel');
  await panel.getByTestId('export-format').selectOption(formatId);
  await browseTo(page, '[data-testid=export-panel]', folder);
  await panel.getByTestId('export-file-name').fill(fileName);
  await panel.getByTestId('export-run').click();
}

test('import a CSV, export it as MIDOG JSON and as CSV, in English and Japanese', async ({ page, app }) => {
  const csvFile = path.join(app.scratch, 'labels.csv');
  fs.writeFileSync(csvFile, labelsCsv);
  const out = path.join(app.scratch, 'exports');
  fs.mkdirSync(out);

  await page.goto(app.url);
  await createProject(page, app.scratch, 'Export');
  await importAnnotationFile(page, csvFile, { cells: 3, votes: 6 });
  await expect(page.getByTestId('slide-card')).toHaveCount(2);

  await page.getByTestId('export-annotations').click();
  const panel = page.getByTestId('export-panel');
  await expect(panel.getByTestId('export-format')).toHaveValue('midog-json');
  // The file name follows the format.
  await expect(panel.getByTestId('export-file-name')).toHaveValue('Export-annotations.json');
  await panel.getByTestId('export-format').selectOption('csv');
  await expect(panel.getByTestId('export-file-name')).toHaveValue('Export-annotations.csv');

  // MIDOG JSON: a 50 px box per cell, the (majority) class as category, every vote by position.
  await exportAs(page, 'midog-json', out, 'labels.json');
  const midogFile = path.join(out, 'labels.json');
  await expect(page.getByTestId('export-report')).toContainText(`Wrote 3 cells and 6 votes of 2 slides to ${midogFile}`);
  const midog = JSON.parse(fs.readFileSync(midogFile, 'utf8')) as {
    images: Array<{ id: number; file_name: string }>;
    categories: Array<{ id: number; name: string }>;
    annotations: Array<{ bbox: number[]; category_id: number; image_id: number; labels: Array<number | null> }>;
    mitobench_annotators: Array<{ name: string; kind: string }>;
  };
  expect(midog.images.map((image) => image.file_name)).toEqual(['case-1.tiff', 'case-2.tiff']);
  const categoryName = (id: number) => midog.categories.find((category) => category.id === id)?.name;
  const byBox = new Map(midog.annotations.map((annotation) => [annotation.bbox.join(','), annotation]));
  expect(categoryName(byBox.get('75,175,125,225')!.category_id)).toBe('mitotic figure');
  const disputed = byBox.get('275,375,325,425')!;
  expect(categoryName(disputed.category_id)).toBe('non-mitotic figure (imposter)');
  expect(disputed.labels.filter((label) => label !== null)).toHaveLength(3);
  expect(byBox.get('25.5,35.5,75.5,85.5')!.image_id).toBe(midog.images[1]!.id);
  expect(midog.mitobench_annotators.map((annotator) => annotator.name)).toEqual(['Ana', 'Ben', 'Chiara']);
  await screenshotFor(page, 'export-en');

  // CSV: per cell its agreed class (no annotator), then one row per vote.
  await exportAs(page, 'csv', out, 'labels.csv');
  const csvOut = path.join(out, 'labels.csv');
  await expect(page.getByTestId('export-report')).toContainText(`to ${csvOut}`);
  const rows = fs.readFileSync(csvOut, 'utf8').trimEnd().split('\r\n');
  expect(rows[0]).toBe('x,y,label,slide,annotator');
  expect(rows).toEqual(
    expect.arrayContaining([
      '100,200,mitotic figure,case-1.tiff,Ana',
      '100,200,mitotic figure,case-1.tiff,Ben',
      '300,400,non-mitotic figure (imposter),case-1.tiff,Chiara',
      '300,400,mitotic figure,case-1.tiff,Ben',
      '50.5,60.5,mitotic figure,case-2.tiff,Ana',
    ]),
  );
  expect(rows).toHaveLength(1 + 3 + 6);

  // The same name again: refused by name, the file left as it was; allowed once "replace" is ticked.
  const before = fs.readFileSync(csvOut);
  await panel.getByTestId('export-only-slides').check();
  await panel.locator('[data-testid=export-slide][data-name="case-2.tiff"]').check();
  await panel.getByTestId('export-run').click();
  await expect(page.getByTestId('error-message')).toContainText(`${csvOut}: already exists`);
  expect(fs.readFileSync(csvOut).equals(before)).toBe(true);
  await page.getByTestId('error-message').getByRole('button').click();
  await panel.getByTestId('export-overwrite').check();
  await panel.getByTestId('export-run').click();
  await expect(page.getByTestId('export-report')).toContainText('Wrote 1 cell and 1 vote of 1 slide');
  expect(fs.readFileSync(csvOut, 'utf8')).toBe('x,y,label,slide,annotator\r\n50.5,60.5,mitotic figure,case-2.tiff,\r\n50.5,60.5,mitotic figure,case-2.tiff,Ana\r\n');

  // Japanese.
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('language-select').selectOption('ja');
  await page.getByTestId('nav-slides').click();
  await page.getByTestId('export-annotations').click();
  await expect(panel).toContainText('アノテーションの書き出し');
  await exportAs(page, 'midog-json', out, 'ja.json');
  await expect(page.getByTestId('export-report')).toContainText('スライド 2 枚の細胞 3 個と票 6 件');
  expect(JSON.parse(fs.readFileSync(path.join(out, 'ja.json'), 'utf8')).annotations).toHaveLength(3);
  await screenshotFor(page, 'export-ja');
});
