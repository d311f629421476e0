import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { writeSyntheticPyramid } from '../fixtures/syntheticSlides';
import { addFolder, createProject, expect, importAnnotationFile, screenshotFor, test, waitForViewerIdle } from './browserMode';

const MITOSIS = 'mitotic figure';
const IMPOSTER = 'non-mitotic figure (imposter)';

/**
 * Six cells on one slide, two annotators: A agreed mitosis, B disagreement, C agreed imposter,
 * D disagreement, E only Ana (mitosis), F only Ben (imposter). Each at a pattern square's centre.
 */
const cells: [string, number, number, [string, string][]][] = [
  ['A', 576, 448, [['Ana', MITOSIS], ['Ben', MITOSIS]]],
  ['B', 832, 448, [['Ana', MITOSIS], ['Ben', IMPOSTER]]],
  ['C', 1088, 448, [['Ana', IMPOSTER], ['Ben', IMPOSTER]]],
  ['D', 576, 704, [['Ana', MITOSIS], ['Ben', IMPOSTER]]],
  ['E', 832, 704, [['Ana', MITOSIS]]],
  ['F', 1088, 704, [['Ben', IMPOSTER]]],
];
const labelsCsv = [
  'x,y,label,slide,annotator',
  ...cells.flatMap(([, x, y, votes]) => votes.map(([annotator, label]) => `${x},${y},${label},case-1.tif,${annotator}`)),
  '',
].join('\n');

/** Every crop on the page has loaded as a real image of the crop size. */
async function expectCropsLoaded(page: Page, size: number): Promise<void> {
  await expect
    .poll(() =>
      page.evaluate(
        (wanted) => {
          const images = [...document.querySelectorAll<HTMLImageElement>('[data-testid=cell-tile] img')];
          return images.length > 0 && images.every((image) => image.complete && image.naturalWidth === wanted);
        },
        size,
      ),
    )
    .toBe(true);
}

test('review labels in the gallery by keyboard, see the change in the viewer and the log, walk the disagreements', async ({ page, app }) => {
  const folder = path.join(app.scratch, 'scans');
  fs.mkdirSync(folder);
  await writeSyntheticPyramid(folder, { width: 2400, height: 1800, fileName: 'case-1.tif' });
  const csvFile = path.join(app.scratch, 'labels.csv');
  fs.writeFileSync(csvFile, labelsCsv);

  await page.goto(app.url);
  await createProject(page, app.scratch, 'Review');
  await addFolder(page, folder);
  await importAnnotationFile(page, csvFile, { cells: 6, votes: 10 });

  // The gallery asks who is reviewing, then shows every cell, by slide then id.
  await page.getByTestId('nav-gallery').click();
  await page.getByTestId('review-annotator-name').fill('Ana');
  await page.getByTestId('review-annotator-use').click();
  // Nothing left to change once Ana reviews (her votes, not the importer's, follow).
  await expect(page.getByTestId('review-annotator-use')).toBeDisabled();
  const tiles = page.getByTestId('cell-tile');
  await expect(tiles).toHaveCount(6);
  await expect(page.getByTestId('page-range')).toHaveText('1–6 of 6');
  await expect(tiles.nth(0)).toHaveAttribute('data-status', 'agreed');
  await expect(tiles.nth(1)).toHaveAttribute('data-status', 'disagreement');
  await expect(page.getByTestId('disagreement-badge')).toHaveCount(2);
  await expectCropsLoaded(page, 128);
  await screenshotFor(page, 'gallery-en');

  // Filters: disagreements only; then Ben's imposter votes.
  await page.getByTestId('filter-disagreement').check();
  await expect(tiles).toHaveCount(2);
  await page.getByTestId('filter-disagreement').uncheck();
  await page.getByTestId('filter-class').selectOption({ label: IMPOSTER });
  await expect(tiles).toHaveCount(2); // consensus: C and F
  await page.getByTestId('filter-class-by').selectOption({ label: 'Ben’s vote' });
  await expect(tiles).toHaveCount(4); // B, C, D, F
  await page.getByTestId('filter-class').selectOption({ label: 'Any class' });
  await expect(tiles).toHaveCount(6);

  // Keyboard: key 2 votes "imposter" on the focused cell A and moves on to B.
  const first = tiles.nth(0);
  const annotationA = await first.getAttribute('data-annotation-id');
  await expect(first).toHaveAttribute('data-focused', 'true');
  await page.keyboard.press('2');
  await expect(tiles.nth(1)).toHaveAttribute('data-focused', 'true');
  await expect(first).toHaveAttribute('data-status', 'disagreement');
  await expect(page.getByTestId('disagreement-badge')).toHaveCount(3);
  await page.keyboard.press('ArrowRight');
  await expect(tiles.nth(2)).toHaveAttribute('data-focused', 'true');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await expect(first).toHaveAttribute('data-focused', 'true');

  // Enter opens the focused cell in the viewer, where the new disagreement shows.
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('slide-viewer')).toBeVisible();
  await waitForViewerIdle(page);
  await expect(page.getByTestId('disagreements-in-view')).not.toHaveText('0 disagreements');
  await expect(page.getByTestId('annotator-name')).toHaveValue('Ana');

  // The label log: Ana's relabel is the newest entry; imported votes are listed but not counted as labelling.
  await page.getByTestId('nav-label-log').click();
  const entries = page.getByTestId('log-entry');
  await expect(entries).toHaveCount(11);
  await expect(entries.nth(0)).toHaveAttribute('data-action', 'relabel');
  await expect(entries.nth(0)).toContainText('Ana');
  await expect(entries.nth(0)).toContainText(`${MITOSIS} → ${IMPOSTER}`);
  await expect(entries.nth(1)).toContainText('imported by Importer');
  await expect(page.getByTestId('log-hour-row')).toHaveCount(1);
  await expect(page.getByTestId('log-hour-row')).toContainText('Ana');
  await expect(page.getByTestId('log-pace-row')).toHaveCount(1);
  await page.getByTestId('log-annotator').selectOption({ label: 'Ben' });
  await expect(entries).toHaveCount(5);
  await page.getByTestId('log-annotator').selectOption({ label: 'Everyone' });
  await expect(entries).toHaveCount(11);
  await screenshotFor(page, 'label-log-en');

  // The disagreement review: A, B and D, each with both votes; key 1 settles A as mitosis.
  await page.getByTestId('nav-disagreements').click();
  const rows = page.getByTestId('disagreement-row');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toHaveAttribute('data-annotation-id', annotationA!);
  await expect(rows.nth(0).getByTestId('disagreement-vote')).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('Ben');
  await expectCropsLoaded(page, 192);
  await screenshotFor(page, 'disagreements-en');
  await page.keyboard.press('1');
  await expect(rows.nth(0).getByTestId('cell-tile')).toHaveAttribute('data-status', 'agreed');
  await expect(rows.nth(1).getByTestId('cell-tile')).toHaveAttribute('data-focused', 'true');
  // A click on "Open in viewer" shows that cell.
  await rows.nth(1).getByTestId('disagreement-open').click();
  await expect(page.getByTestId('slide-viewer')).toBeVisible();
  await waitForViewerIdle(page);

  // Blind mode: the gallery shows only Ana's own votes (and Ben's cell F as a candidate); the review refuses.
  await page.getByTestId('nav-gallery').click();
  await expect(tiles).toHaveCount(6);
  await page.getByTestId('review-blind').check();
  await expect(tiles.nth(0)).toHaveAttribute('data-status', 'blind');
  await expect(page.getByTestId('disagreement-badge')).toHaveCount(0);
  await expect(page.getByTestId('filter-disagreement')).toHaveCount(0);
  await page.getByTestId('nav-disagreements').click();
  await expect(page.getByTestId('disagreements-blind')).toBeVisible();
  await page.getByTestId('disagreements-unblind').click();
  await expect(rows).toHaveCount(2);

  // The same pages in Japanese.
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('language-select').selectOption('ja');
  await page.getByTestId('nav-gallery').click();
  await expect(page.getByTestId('page-range')).toHaveText('6 個中 1–6');
  await expectCropsLoaded(page, 128);
  await screenshotFor(page, 'gallery-ja');
  await page.getByTestId('nav-disagreements').click();
  await expect(rows).toHaveCount(2);
  await expectCropsLoaded(page, 192);
  await screenshotFor(page, 'disagreements-ja');
  await page.getByTestId('nav-label-log').click();
  await expect(entries.nth(0)).toContainText('ラベル変更');
  await screenshotFor(page, 'label-log-ja');
});
