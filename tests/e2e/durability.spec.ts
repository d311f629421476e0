import { expect, labelNewSlide, screenshotFor, test, waitForViewerIdle } from './browserMode';

test('fifty labels by mouse and keys survive a killed server', async ({ page, app }) => {
  await labelNewSlide(page, app, { project: 'Fifty', annotator: 'Dr. Mori', slide: { width: 4000, height: 3000, fileName: 'fifty.tif' } });

  const inView = page.getByTestId('cells-in-view');
  const canvas = page.locator('[data-testid=slide-viewer] .canvas');
  const box = (await canvas.boundingBox())!;
  // Ten columns by five rows, 40 screen pixels apart: far enough that no click lands on a marker.
  for (let index = 0; index < 50; index++) {
    if (index % 5 === 0) {
      // Every fifth cell switches class by keyboard: 1 mitotic figure, 2 imposter.
      await page.getByTestId('slide-viewer').focus();
      await page.keyboard.press(index % 10 === 0 ? '1' : '2');
    }
    const column = index % 10;
    const row = Math.floor(index / 10);
    await canvas.click({ position: { x: box.width / 2 + (column - 4.5) * 40, y: box.height / 2 + (row - 2) * 40 } });
    await expect(inView).toHaveText(index === 0 ? '1 cell in view' : `${index + 1} cells in view`);
  }

  // No clean shutdown: the server is killed as a crash would kill it.
  await app.restart('SIGKILL');
  await page.goto(app.url);
  await page.getByTestId('recent-project').getByRole('button', { name: /Fifty/ }).click();
  await expect(page.getByTestId('project-name')).toHaveText('Fifty');
  await page.getByTestId('nav-viewer').click();
  await page.getByTestId('viewer-slide-item').click();
  await waitForViewerIdle(page);
  await expect(page.getByTestId('annotator-name')).toHaveValue('Dr. Mori');
  await expect(inView).toHaveText('50 cells in view');
  await expect(page.getByTestId('cell-layer')).toHaveAttribute('data-cells', '50');
  await screenshotFor(page, 'fifty-after-kill-en');
});
