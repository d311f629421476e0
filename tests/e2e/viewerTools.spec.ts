import type { Page } from '@playwright/test';
import { expect, labelNewSlide, screenshotFor, test, waitForViewerIdle } from './browserMode';

interface SeenAnnotation {
  id: number;
  geometry: { shape: string; x?: number; y?: number };
  centre: { x: number; y: number };
  votes: { annotatorId: number; classId: number }[];
}

/** A call to the running server, as the page makes it (the page carries the access cookie). */
async function call<T>(page: Page, name: string, input: unknown): Promise<T> {
  return page.evaluate(
    async ([callName, callInput]) => {
      const response = await fetch(`/api/${callName}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(callInput),
      });
      const envelope = (await response.json()) as { ok: boolean; result?: unknown; error?: unknown };
      if (!envelope.ok) throw new Error(JSON.stringify(envelope.error));
      return envelope.result;
    },
    [name, input] as const,
  ) as Promise<T>;
}

/** Screen pixels per level-0 pixel in the viewer now. */
async function imageZoom(page: Page): Promise<number> {
  return page.evaluate(() => {
    const hook = (window as unknown as { __mitobenchViewer: { viewer: { viewport: { getZoom(current: boolean): number; viewportToImageZoom(zoom: number): number } } } })
      .__mitobenchViewer;
    return hook.viewer.viewport.viewportToImageZoom(hook.viewer.viewport.getZoom(true));
  });
}

test('draw regions, select, move, relabel and delete a cell, undo, and edit the classes', async ({ page, app }) => {
  await labelNewSlide(page, app, { project: 'Tools', annotator: 'Dr. Sato', slide: { width: 4000, height: 3000, fileName: 'regions.tif' } });
  const inView = page.getByTestId('cells-in-view');
  await expect(inView).toHaveText('0 cells in view');
  await expect(page.getByTestId('viewer-keys')).toContainText('R rectangle');

  const slideId = Number(await page.getByTestId('slide-viewer').getAttribute('data-slide-id'));
  const sato = await call<{ id: number }>(page, 'annotations.ensureAnnotator', { name: 'Dr. Sato', kind: 'person' });
  const everything = () =>
    call<SeenAnnotation[]>(page, 'annotations.query', { slideId, rect: { x: 0, y: 0, width: 4000, height: 3000 }, viewerId: sato.id });

  const canvas = page.locator('[data-testid=slide-viewer] .canvas');
  const box = (await canvas.boundingBox())!;
  const at = (dx: number, dy: number) => ({ x: box.width / 2 + dx, y: box.height / 2 + dy });
  const onPage = (dx: number, dy: number) => ({ x: box.x + box.width / 2 + dx, y: box.y + box.height / 2 + dy });
  const drag = async (from: [number, number], to: [number, number]) => {
    await page.mouse.move(onPage(...from).x, onPage(...from).y);
    await page.mouse.down();
    await page.mouse.move(onPage(...to).x, onPage(...to).y, { steps: 8 });
    await page.mouse.up();
  };

  // Point (the default tool): a cell.
  await expect(page.getByTestId('tool-point')).toHaveClass(/active/);
  await canvas.click({ position: at(0, 0) });
  await expect(inView).toHaveText('1 cell in view');

  // Rectangle by drag (R): the view must not pan while drawing.
  const viewBefore = await page.evaluate(() => (window as unknown as { __mitobenchViewer: { viewer: { viewport: { getCenter(): { x: number; y: number } } } } }).__mitobenchViewer.viewer.viewport.getCenter());
  await page.getByTestId('slide-viewer').focus();
  await page.keyboard.press('r');
  await expect(page.getByTestId('tool-rectangle')).toHaveClass(/active/);
  await drag([-320, -220], [-160, -90]);
  await expect(inView).toHaveText('2 cells in view');
  const viewAfter = await page.evaluate(() => (window as unknown as { __mitobenchViewer: { viewer: { viewport: { getCenter(): { x: number; y: number } } } } }).__mitobenchViewer.viewer.viewport.getCenter());
  expect(viewAfter).toEqual(viewBefore);
  await expect(page.getByTestId('selection')).toHaveAttribute('data-shape', 'rectangle');
  const rectangle = (await everything()).find((annotation) => annotation.geometry.shape === 'rectangle');
  expect(rectangle?.votes).toEqual([]);

  // Polygon (G): click the vertices, double-click closes.
  await page.getByTestId('slide-viewer').focus();
  await page.keyboard.press('g');
  await canvas.click({ position: at(150, -200) });
  await canvas.click({ position: at(300, -180) });
  await expect(page.getByTestId('polygon-draft')).toContainText('2 vertices');
  await canvas.dblclick({ position: at(260, -60) });
  await expect(inView).toHaveText('3 cells in view');
  await expect(page.getByTestId('selection')).toHaveAttribute('data-shape', 'polygon');
  const polygon = (await everything()).find((annotation) => annotation.geometry.shape === 'polygon') as unknown as { geometry: { points: number[][] } };
  expect(polygon.geometry.points).toHaveLength(3);
  await screenshotFor(page, 'viewer-tools-en');

  // A circle, then Escape cancels a polygon half-drawn.
  await page.getByTestId('tool-circle').click();
  await drag([-300, 150], [-240, 150]);
  await expect(inView).toHaveText('4 cells in view');
  await page.getByTestId('tool-polygon').click();
  await canvas.click({ position: at(100, 200) });
  await expect(page.getByTestId('polygon-draft')).toBeVisible();
  await page.getByTestId('slide-viewer').focus();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('polygon-draft')).toHaveCount(0);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('selection')).toHaveCount(0);

  // Select (V) the cell and drag it: one move.
  await page.keyboard.press('v');
  await canvas.click({ position: at(0, 0) });
  const selection = page.getByTestId('selection');
  await expect(selection).toHaveAttribute('data-shape', 'point');
  const cellId = Number(await selection.getAttribute('data-annotation-id'));
  const before = (await everything()).find((annotation) => annotation.id === cellId)!;
  await expect(page.getByTestId('history-entry')).toHaveCount(1);
  await expect(page.getByTestId('history-what').first()).toContainText('created the cell');
  const zoom = await imageZoom(page);
  await drag([0, 0], [80, 60]);
  await expect(page.getByTestId('history-entry')).toHaveCount(2);
  await expect(page.getByTestId('history-what').first()).toHaveText('moved it');
  const moved = (await everything()).find((annotation) => annotation.id === cellId)!;
  expect(moved.centre.x - before.centre.x).toBeCloseTo(80 / zoom, -0.5);
  expect(moved.centre.y - before.centre.y).toBeCloseTo(60 / zoom, -0.5);
  await expect(selection).toHaveAttribute('data-x', String(moved.centre.x));

  // A class key with a selection votes it (and makes the class active).
  await page.getByTestId('slide-viewer').focus();
  await page.keyboard.press('2');
  await expect(page.getByTestId('history-what').first()).toContainText('Dr. Sato: non-mitotic figure (imposter)');
  expect((await everything()).find((annotation) => annotation.id === cellId)!.votes).toMatchObject([{ annotatorId: sato.id, classId: 2 }]);
  await screenshotFor(page, 'viewer-selection-history-en');

  // Delete removes it; undo brings it back where it was moved to, with its vote.
  await page.keyboard.press('Delete');
  await expect(inView).toHaveText('3 cells in view');
  await expect(page.getByTestId('history-panel')).toHaveCount(0);
  await page.keyboard.press('Control+KeyZ');
  await expect(inView).toHaveText('4 cells in view');
  const restored = (await everything()).find((annotation) => annotation.id === cellId)!;
  expect(restored.centre).toEqual(moved.centre);
  expect(restored.votes).toMatchObject([{ annotatorId: sato.id, classId: 2 }]);

  // Classes: add one with hotkey 3; a taken hotkey is refused, saying why.
  await page.getByTestId('edit-classes').click();
  const editor = page.getByTestId('class-editor');
  await expect(editor.getByTestId('class-row')).toHaveCount(2);
  await editor.getByTestId('new-class-name').fill('atypical mitosis');
  await editor.getByTestId('new-class-hotkey').fill('1');
  await editor.getByTestId('new-class-add').click();
  await expect(editor.getByTestId('class-error')).toHaveText('Key "1" already picks the class "mitotic figure".');
  await editor.getByTestId('new-class-hotkey').fill('3');
  await editor.getByTestId('new-class-colour').fill('#2f9e44');
  await editor.getByTestId('new-class-add').click();
  await expect(editor.getByTestId('class-row')).toHaveCount(3);
  await expect(editor.getByTestId('class-error')).toHaveCount(0);
  // Rename the imposter class.
  const imposterRow = editor.locator('[data-testid=class-row][data-class-id="2"]');
  await imposterRow.getByTestId('class-name').fill('imposter');
  await imposterRow.getByTestId('class-save').click();
  await expect(imposterRow).toHaveAttribute('data-name', 'imposter');
  await screenshotFor(page, 'classes-editor-en');

  // Label with the new class by its key.
  await page.getByTestId('nav-viewer').click();
  await waitForViewerIdle(page);
  await page.getByTestId('slide-viewer').focus();
  await page.keyboard.press('Escape');
  await page.keyboard.press('p');
  await page.keyboard.press('3');
  await expect(page.locator('[data-testid=class-button].active')).toContainText('atypical mitosis');
  await canvas.click({ position: at(-60, 120) });
  await expect(inView).toHaveText('5 cells in view');
  const classes = await call<{ id: number; name: string }[]>(page, 'annotations.classes', {});
  const atypical = classes.find((item) => item.name === 'atypical mitosis')!;
  expect((await everything()).filter((annotation) => annotation.votes.some((vote) => vote.classId === atypical.id))).toHaveLength(1);

  // The same screens in Japanese.
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('language-select').selectOption('ja');
  await expect(page.getByTestId('class-editor')).toContainText('クラスを追加');
  await screenshotFor(page, 'classes-editor-ja');
  await page.getByTestId('nav-viewer').click();
  await waitForViewerIdle(page);
  await page.getByTestId('slide-viewer').focus();
  await page.keyboard.press('v');
  await canvas.click({ position: at(80, 60) });
  await expect(page.getByTestId('history-panel')).toContainText('履歴');
  // Newest first: the undo that restored it, the vote (under the class's new name), the move, the creation.
  await expect(page.getByTestId('history-what')).toHaveText(['元に戻す: 復元', '削除', 'Dr. Sato: imposter', '移動', '細胞を作成（票 1 件）']);
  await expect(page.getByTestId('tool-select')).toContainText('選択');
  await screenshotFor(page, 'viewer-selection-history-ja');
});

test('blind mode can hide the others’ unlabelled candidates', async ({ page, app }) => {
  await labelNewSlide(page, app, { project: 'Blind', annotator: 'Dr. Sato', slide: { width: 3000, height: 2000, fileName: 'blind.tif' } });
  const canvas = page.locator('[data-testid=slide-viewer] .canvas');
  await canvas.click({ position: { x: 400, y: 300 } });
  const inView = page.getByTestId('cells-in-view');
  await expect(inView).toHaveText('1 cell in view');

  await page.getByTestId('annotator-name').fill('Dr. Ito');
  await page.getByTestId('annotator-use').click();
  await page.getByTestId('blind-mode').check();
  await expect(page.getByTestId('show-candidates')).toBeChecked();
  await expect(inView).toHaveText('1 cell in view');
  await page.getByTestId('show-candidates').uncheck();
  await expect(inView).toHaveText('0 cells in view');
  await screenshotFor(page, 'viewer-blind-candidates-en');
});
