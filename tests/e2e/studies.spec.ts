import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { squareCentre, writeSyntheticPyramid } from '../fixtures/syntheticSlides';
import { addFolder, browseTo, copyTinyCheckpoint, createProject, expect, importAnnotationFile, registerCheckpoint, screenshotFor, test, waitForViewerIdle } from './browserMode';

const SLIDES = ['case-1.tif', 'case-2.tif', 'case-3.tif', 'case-4.tif', 'case-5.tif', 'case-6.tif'];

/**
 * Red squares are "mitotic figures", blue ones "imposters" (a task the tiny ViT's features
 * separate), 12 cells a slide; on every other slide one red square is labelled an imposter, so
 * some predictions are wrong.
 */
function labelsCsv(): { csv: string; cells: number } {
  const lines = ['x,y,label,slide,annotator'];
  SLIDES.forEach((slide, s) => {
    let flipped = s % 2 === 1;
    for (let column = 1; column < 7; column++) {
      for (let row = 1; row < 5; row++) {
        const colour = (column + 3 * row) % 4;
        if (colour !== 0 && colour !== 2) continue;
        let mitotic = colour === 0;
        if (mitotic && flipped) [mitotic, flipped] = [false, false];
        const { x, y } = squareCentre(column, row);
        lines.push(`${x},${y},${mitotic ? 'mitotic figure' : 'non-mitotic figure (imposter)'},${slide},Ana`);
      }
    }
  });
  return { csv: `${lines.join('\n')}\n`, cells: lines.length - 1 };
}

interface StoredMetric {
  runId: number | null;
  fraction: number;
  metric: string;
  value: number | null;
  sd: number | null;
  ciLower: number | null;
  ciUpper: number | null;
}

/** The report's over-seeds table: per fraction, per metric, the printed "mean ± SD" and "[lower, upper]". */
function reportMetrics(html: string): Map<number, Map<string, { value: string; ci: string }>> {
  const table = /<table data-table="metrics">([\s\S]*?)<\/table>/.exec(html)![1]!;
  const rows = new Map<number, Map<string, { value: string; ci: string }>>();
  for (const [, attributes, inner] of table.matchAll(/<tr([^>]*data-fraction[^>]*)>([\s\S]*?)<\/tr>/g)) {
    const fraction = Number(/data-fraction="([^"]+)"/.exec(attributes!)![1]);
    const cells = new Map<string, { value: string; ci: string }>();
    for (const [, metric, value, ci] of inner!.matchAll(/<td data-metric="([a-zA-Z0-9]+)"><span class="value">([^<]*)<\/span><br><span class="ci">([^<]*)<\/span><\/td>/g)) {
      cells.set(metric!, { value: value!, ci: ci! });
    }
    rows.set(fraction, cells);
  }
  return rows;
}

const fixed = (value: number | null) => (value === null ? '—' : value.toFixed(3));

test('designs and runs a data-scaling study in the UI, plots it, opens a prediction and exports a report with the same numbers', async ({ page, app }) => {
  test.setTimeout(240_000);
  const folder = path.join(app.scratch, 'scans');
  fs.mkdirSync(folder);
  for (const fileName of SLIDES) await writeSyntheticPyramid(folder, { width: 1024, height: 768, compression: 'lzw', mpp: 0.25, fileName });
  const labels = labelsCsv();
  const csvFile = path.join(app.scratch, 'labels.csv');
  fs.writeFileSync(csvFile, labels.csv);
  const checkpoint = copyTinyCheckpoint(app.scratch);
  const exports = path.join(app.scratch, 'exports');
  fs.mkdirSync(exports);

  await page.goto(app.url);
  await createProject(page, app.scratch, 'Studies');
  await addFolder(page, folder);
  await importAnnotationFile(page, csvFile, { cells: labels.cells, votes: labels.cells });

  await registerCheckpoint(page, checkpoint);

  // Before extraction the design says which embeddings are missing and where to get them.
  await page.getByTestId('nav-studies').click();
  await expect(page.getByTestId('study-designer')).toBeVisible();
  await expect(page.getByTestId('study-missing-embeddings')).toContainText(`${labels.cells} labelled cells have no embedding yet`);
  await page.getByTestId('study-go-models').click();
  const panel = page.getByTestId('model-embeddings');
  await panel.getByTestId('embeddings-all-slides').check();
  await panel.getByTestId('embeddings-extract').click();
  await expect(panel.getByTestId('embeddings-cached')).toHaveText(`${labels.cells} of ${labels.cells} labelled cells embedded`);

  // A small linear-probe scaling study: 2 fractions × 2 seeds.
  await page.getByTestId('nav-studies').click();
  const designer = page.getByTestId('study-designer');
  await expect(designer.getByTestId('study-model-embedded')).toHaveText(`${labels.cells} of ${labels.cells} labelled cells embedded`);
  await expect(page.getByTestId('study-missing-embeddings')).toHaveCount(0);
  await designer.getByTestId('study-name').fill('Scaling e2e');
  await expect(designer.getByTestId('study-kind-data-scaling')).toBeChecked();
  await expect(designer.getByTestId('study-method-linear-probe')).toBeChecked();
  await designer.getByTestId('study-fractions').fill('50, 100');
  await designer.getByTestId('study-seeds').fill('2');
  await designer.getByTestId('study-replicates').fill('200');
  // The paper's split is offered only with its warning in view; slide-level stays the choice.
  await designer.getByTestId('study-split-cell').check();
  await expect(designer.getByTestId('study-cell-split-warning')).toContainText('every number will be optimistic');
  await designer.getByTestId('study-split-slide').check();
  await expect(designer.getByTestId('study-cell-split-warning')).toHaveCount(0);
  await screenshotFor(page, 'studies-design-en');
  await designer.getByTestId('study-create-run').click();

  const results = page.getByTestId('study-results');
  await expect(results).toHaveAttribute('data-state', 'finished', { timeout: 120_000 });
  await expect(results.getByTestId('study-run-count')).toHaveText('4 of 4 runs');
  await expect(results.getByTestId('study-warnings')).toHaveCount(0);
  await expect(page.getByTestId('study-item')).toHaveCount(1);

  // The scaling curve: one point per fraction, with its CI band, on a log axis.
  const chart = results.getByTestId('study-summary-chart');
  await expect(chart.locator('svg g[aria-label="dot"] circle')).toHaveCount(2);
  await expect(chart.locator('svg g[aria-label="area"] path')).toHaveCount(1);
  const rows = results.getByTestId('study-metric-row');
  await expect(rows).toHaveCount(2);

  // A click on the 100 % point opens that group's runs: confusion matrix, ROC and the test cells.
  const points = chart.locator('svg g[aria-label="dot"] circle');
  const boxes = await Promise.all([0, 1].map(async (i) => (await points.nth(i).boundingBox())!));
  const rightmost = boxes[0]!.x > boxes[1]!.x ? 0 : 1;
  await points.nth(rightmost).click();
  const runView = page.getByTestId('study-run-view');
  await expect(runView).toContainText('100 %');
  await expect(runView.getByTestId('study-confusion').locator('svg')).toBeVisible();
  await expect(runView.getByTestId('study-roc').locator('svg')).toBeVisible();
  await expect(rows.and(page.locator('.selected'))).toHaveAttribute('data-fraction', '1');
  const predictions = runView.getByTestId('study-prediction');
  await expect(predictions.first()).toBeVisible();
  const testCells = await predictions.count();
  expect(testCells).toBeGreaterThan(0);
  await screenshotFor(page, 'studies-en');
  await runView.scrollIntoViewIfNeeded();
  await screenshotFor(page, 'studies-run-en');

  // The report, written beside CSV and JSON, prints the numbers shown and stored.
  await browseTo(page, '[data-testid=study-export]', exports);
  // One annotator: no agreement ceiling, and it says why. The clinical view of the chosen run: one test slide.
  await expect(page.getByTestId('study-agreement-unavailable')).toBeVisible();
  const clinical = page.getByTestId('study-clinical');
  await clinical.scrollIntoViewIfNeeded();
  await expect(clinical.getByTestId('study-clinical-slide')).toHaveCount(1);
  await screenshotFor(page, 'studies-clinical-en');

  await page.getByTestId('study-export-name').fill('scaling');
  await page.getByTestId('study-export-csv').click();
  await expect(page.getByTestId('study-export-file')).toHaveCount(2);
  await page.getByTestId('study-export-json').click();
  await expect(page.getByTestId('study-export-file')).toHaveCount(1);
  await page.getByTestId('study-export-report').click();
  await expect(page.getByTestId('study-export-file')).toHaveAttribute('data-path', path.join(exports, 'scaling.html'));
  expect(fs.readdirSync(exports).sort()).toEqual(['scaling.csv', 'scaling.html', 'scaling.json', 'scaling.predictions.csv']);
  const html = fs.readFileSync(path.join(exports, 'scaling.html'), 'utf8');
  expect(html).not.toMatch(/<script/i);
  // The charts on screen (scaling curve, confusion matrix, ROC, the clinical scatter) are in the report as SVG.
  expect(html.match(/<figure><svg/g)).toHaveLength(4);

  const reported = reportMetrics(html);
  expect([...reported.keys()].sort()).toEqual([0.5, 1]);
  for (const fraction of [0.5, 1]) {
    const row = results.locator(`[data-testid=study-metric-row][data-fraction="${fraction}"]`);
    expect(reported.get(fraction)!.size).toBe(8);
    for (const [metric, printed] of reported.get(fraction)!) {
      await expect(row.locator(`td[data-metric=${metric}] .value`)).toHaveText(printed.value);
      await expect(row.locator(`td[data-metric=${metric}] .ci`)).toHaveText(printed.ci);
    }
  }
  const stored = await page.evaluate(async () => {
    const response = await fetch('/api/studies.get', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ studyId: 1 }) });
    return ((await response.json()) as { result: { metrics: StoredMetric[]; record: { labelSnapshotHash: string } } }).result;
  });
  const overSeeds = stored.metrics.filter((m) => m.runId === null);
  expect(overSeeds).toHaveLength(2 * 8);
  for (const m of overSeeds) {
    const printed = reported.get(m.fraction)!.get(m.metric)!;
    expect(printed.value).toBe(m.sd === null ? fixed(m.value) : `${fixed(m.value)} ± ${fixed(m.sd)}`);
    expect(printed.ci).toBe(m.ciLower === null || m.ciUpper === null ? '—' : `[${fixed(m.ciLower)}, ${fixed(m.ciUpper)}]`);
  }
  expect(html).toContain(stored.record.labelSnapshotHash);

  // The file stands alone: opened from disk it shows its tables and charts.
  const reportPage = await page.context().newPage();
  await reportPage.goto(pathToFileURL(path.join(exports, 'scaling.html')).href);
  await expect(reportPage.locator('figure svg')).toHaveCount(4);
  await screenshotFor(reportPage, 'studies-report-en');
  await reportPage.close();

  // Print / PDF loads the same report into a frame of the page and opens the print dialog.
  await page.getByTestId('study-print').click();
  const frame = page.frameLocator('[data-testid=study-print-frame]');
  await expect(frame.locator('table[data-table="metrics"] tbody tr')).toHaveCount(2);

  // A click on a test cell opens it in the viewer.
  await predictions.first().click();
  await expect(page.getByTestId('slide-viewer')).toBeVisible();
  await waitForViewerIdle(page);

  await page.getByTestId('nav-settings').click();
  await page.getByTestId('language-select').selectOption('ja');
  await page.getByTestId('nav-studies').click();
  await expect(page.getByTestId('study-results')).toHaveAttribute('data-state', 'finished');
  await expect(page.getByTestId('study-state')).toHaveText('完了');
  await page.getByTestId('study-metric-row').last().click();
  await expect(page.getByTestId('study-run-view')).toContainText('混同行列');
  await screenshotFor(page, 'studies-ja');
  await page.getByTestId('study-run-view').scrollIntoViewIfNeeded();
  await screenshotFor(page, 'studies-run-ja');
});
