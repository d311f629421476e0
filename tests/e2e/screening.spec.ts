import type { Page } from '@playwright/test';
import { expect, labelNewSlide, screenshotFor, test, type ViewerHook, waitForViewerIdle } from './browserMode';

const MITOTIC_FIGURE = 1;
const IMPOSTER = 2;

/**
 * Cells on a 4000 × 3000 px slide at 0.25 µm/px. A 0.1 mm² area at 4:3 is 1460.6 × 1095.4 px:
 * - the hotspot holds five mitotic figures (2000,1500) … (3300,2300), with its corner at (2000, 1500);
 * - centred on the slide (2000, 1500) it holds two: (2000,1500) and (2600,2000);
 * the imposter is never counted, and the pair at the top left is too far from the rest.
 */
const cells = [
  { x: 600, y: 600, classId: MITOTIC_FIGURE },
  { x: 900, y: 800, classId: MITOTIC_FIGURE },
  { x: 2000, y: 1500, classId: MITOTIC_FIGURE },
  { x: 2600, y: 2000, classId: MITOTIC_FIGURE },
  { x: 2900, y: 2200, classId: MITOTIC_FIGURE },
  { x: 3100, y: 2500, classId: MITOTIC_FIGURE },
  { x: 3300, y: 2300, classId: MITOTIC_FIGURE },
  { x: 2800, y: 2100, classId: IMPOSTER },
];

/** Labels cells through the app's own API, as the labelling bar would, under the given name. */
async function labelCells(page: Page, annotator: string, slideId: number): Promise<void> {
  await page.evaluate(
    async ({ annotator, slideId, cells }) => {
      const call = async (name: string, input: unknown) => {
        const response = await fetch(`/api/${name}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(input) });
        const envelope = (await response.json()) as { ok: boolean; result: { id: number }; error?: { message: string } };
        if (!envelope.ok) throw new Error(envelope.error?.message);
        return envelope.result;
      };
      const me = await call('annotations.ensureAnnotator', { name: annotator, kind: 'person' });
      for (const cell of cells) {
        await call('annotations.create', { slideId, geometry: { shape: 'point', x: cell.x, y: cell.y }, actorId: me.id, classId: cell.classId });
      }
    },
    { annotator, slideId, cells },
  );
}

/** The level-0 point at the centre of the view (where the viewer is going). */
async function viewCentre(page: Page): Promise<{ x: number; y: number }> {
  return page.evaluate(() => {
    const hook = (window as unknown as { __mitobenchViewer: ViewerHook & { viewer: { viewport: { getCenter(current: boolean): unknown; viewportToImageCoordinates(point: unknown): { x: number; y: number } } } } }).__mitobenchViewer;
    const centre = hook.viewer.viewport.viewportToImageCoordinates(hook.viewer.viewport.getCenter(false));
    return { x: centre.x, y: centre.y };
  });
}

async function expectCentreNear(page: Page, x: number, y: number): Promise<void> {
  await expect.poll(async () => {
    const centre = await viewCentre(page);
    return Math.hypot(centre.x - x, centre.y - y);
  }).toBeLessThan(2);
}

test('screen a slide field by field, resume after a reload, and count mitotic figures with the hotspot', async ({ page, app }) => {
  await labelNewSlide(page, app, { project: 'Screening', annotator: 'Dr. Sato', slide: { width: 4000, height: 3000, mpp: 0.25, fileName: 'screening.tif' } });
  const slideId = Number(await page.getByTestId('slide-viewer').getAttribute('data-slide-id'));
  await labelCells(page, 'Dr. Sato', slideId);

  // 250 × 250 µm fields = 1000 × 1000 px: a 4 × 3 grid, walked left to right, then right to left.
  const panel = page.getByTestId('screening-panel');
  await panel.getByTestId('screening-field-kind').selectOption('micrometres');
  await panel.getByTestId('screening-width-um').fill('250');
  await panel.getByTestId('screening-height-um').fill('250');
  await panel.getByTestId('screening-start').click();
  const coverage = panel.getByTestId('screening-coverage');
  await expect(coverage).toHaveText('0 of 12 fields visited (0 %)');
  await expectCentreNear(page, 500, 500);

  for (const [presses, visited, x, y] of [
    [1, 1, 1500, 500],
    [2, 3, 3500, 500],
    [1, 4, 3500, 1500],
  ] as const) {
    for (let i = 0; i < presses; i++) await page.keyboard.press('Space');
    await expect(coverage).toHaveText(`${visited} of 12 fields visited (${Math.floor((100 * visited) / 12)} %)`);
    await expectCentreNear(page, x, y);
  }
  // Back one field (Shift+Space): the field left is counted as visited as well.
  await page.keyboard.press('Shift+Space');
  await expect(coverage).toHaveText('5 of 12 fields visited (41 %)');
  await expect(panel.getByTestId('screening-field')).toHaveAttribute('data-index', '3');
  await expectCentreNear(page, 3500, 500);
  await waitForViewerIdle(page);
  await screenshotFor(page, 'screening-en');

  // A reload (as after a restart) resumes at the same field with the same coverage.
  await page.reload();
  await page.getByTestId('nav-viewer').click();
  await page.getByTestId('viewer-slide-item').click();
  await waitForViewerIdle(page);
  await expect(coverage).toHaveText('5 of 12 fields visited (41 %)');
  await expect(panel.getByTestId('screening-field')).toHaveAttribute('data-index', '3');
  await expectCentreNear(page, 3500, 500);
  // Typing in a field does not step.
  await page.getByTestId('count-area-mm2').fill('0.1');
  await page.getByTestId('count-area-mm2').press('Space');
  await expect(coverage).toHaveText('5 of 12 fields visited (41 %)');

  // The count: the hotspot of a 0.1 mm² area holds five mitotic figures, the area at the slide's centre two.
  const count = page.getByTestId('count-panel');
  await count.getByTestId('count-hotspot').click();
  await expect(count.getByTestId('count-result')).toHaveText('5 × mitotic figure in 0.10 mm²');
  await expectCentreNear(page, 2000 + 1460.6 / 2, 1500 + 1095.4 / 2);
  await waitForViewerIdle(page);
  await screenshotFor(page, 'count-hotspot-en');
  await page.getByTestId('zoom-fit').click();
  await expectCentreNear(page, 2000, 1500);
  await waitForViewerIdle(page);
  await count.getByTestId('count-place').click();
  await expect(count.getByTestId('count-result')).toHaveText('2 × mitotic figure in 0.10 mm²');
  // Calling (2600, 2000) an imposter, as its only voter, drops the count to one.
  await page.evaluate(async (slideId) => {
    const call = async (name: string, input: unknown) =>
      ((await (await fetch(`/api/${name}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(input) })).json()) as { result: unknown }).result;
    const me = (await call('annotations.ensureAnnotator', { name: 'Dr. Sato', kind: 'person' })) as { id: number };
    const found = (await call('annotations.query', { slideId, rect: { x: 2590, y: 1990, width: 20, height: 20 }, viewerId: me.id })) as { id: number }[];
    await call('annotations.vote', { annotationId: found[0]!.id, actorId: me.id, classId: 2 });
  }, slideId);
  await expect(count.getByTestId('count-result')).toHaveText('1 × mitotic figure in 0.10 mm²');

  // The same screens in Japanese.
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('language-select').selectOption('ja');
  await page.getByTestId('nav-viewer').click();
  await waitForViewerIdle(page);
  await expect(coverage).toHaveText('12 視野中 5 視野を確認済み (41 %)');
  await count.getByTestId('count-hotspot').click();
  await expect(count.getByTestId('count-result')).toHaveText('0.10 mm² に mitotic figure 4 個');
  await waitForViewerIdle(page);
  await screenshotFor(page, 'screening-ja');
});
