import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import { repositoryRoot, startServer } from '../fixtures/browserServer';
import { writeSyntheticPyramid, type SyntheticPyramidOptions } from '../fixtures/syntheticSlides';

export { repositoryRoot };

export interface BrowserModeApp {
  /** The address printed by `npm run serve`, token included. */
  url: string;
  /** A scratch folder for projects and slide copies, removed afterwards. */
  scratch: string;
  /** Everything the server printed. */
  output: () => string;
  /**
   * Stops the server with a signal (SIGKILL: as a crash or a power cut would) and starts a new one
   * on the same settings and scratch folder; returns the new address (`url` follows it).
   */
  restart: (signal: NodeJS.Signals) => Promise<string>;
}

/** A fresh `npm run serve` per test, with its own settings and scratch folder. */
export const test = base.extend<{ app: BrowserModeApp }>({
  app: async ({}, use) => {
    const scratch = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-e2e-')));
    let server = await startServer(scratch);
    const app: BrowserModeApp = {
      url: server.url,
      scratch,
      output: () => server.output(),
      restart: async (signal) => {
        const exited = new Promise((resolve) => server.child.once('exit', resolve));
        server.child.kill(signal);
        await exited;
        server = await startServer(scratch);
        app.url = server.url;
        return server.url;
      },
    };
    await use(app);
    server.child.kill('SIGTERM');
    fs.rmSync(scratch, { recursive: true, force: true });
  },
});

export { expect };

/** What the viewer exposes to tests (see SlideViewer.svelte): OpenSeadragon and an idle check. */
export interface ViewerHook {
  OpenSeadragon: { Point: new (x: number, y: number) => ScreenPoint };
  viewer: {
    element: HTMLElement;
    drawer: { canvas: HTMLCanvasElement };
    viewport: {
      zoomTo(zoom: number, point: null, immediately: boolean): void;
      panTo(point: unknown, immediately: boolean): void;
      imageToViewportZoom(zoom: number): number;
      imageToViewportCoordinates(x: number, y: number): unknown;
      imageToViewerElementCoordinates(point: ScreenPoint): ScreenPoint;
    };
  };
  isIdle(): boolean;
}

export interface ScreenPoint {
  x: number;
  y: number;
}

/** Types a path into a folder browser and goes there. */
export async function browseTo(page: Page, container: string, folder: string): Promise<void> {
  const browser = page.locator(container).getByTestId('folder-browser');
  // Wait for the first listing, which would otherwise overwrite what we type.
  await expect(browser.getByTestId('browser-path')).not.toHaveValue('');
  await browser.getByTestId('browser-path').fill(folder);
  await browser.getByTestId('browser-go').click();
  await expect(browser.getByTestId('browser-path')).toHaveValue(folder);
}

export async function createProject(page: Page, parentFolder: string, name: string): Promise<void> {
  await page.getByTestId('project-name-input').fill(name);
  await browseTo(page, '[data-testid=create-project]', parentFolder);
  await page.getByTestId('create-project-button').click();
  await expect(page.getByTestId('project-name')).toHaveText(name);
}

export async function addFolder(page: Page, folder: string): Promise<void> {
  await page.getByTestId('add-slides').click();
  await browseTo(page, '[data-testid=add-slides-panel]', folder);
  await page.getByTestId('add-folder').click();
  await expect(page.getByTestId('add-summary')).toBeVisible();
}

/**
 * Imports an annotation file through the slide list's import panel, as "Importer", checking the
 * preview and the report count `cells` cells and `votes` votes; closes the panel.
 */
export async function importAnnotationFile(page: Page, file: string, expected: { cells: number; votes: number }): Promise<void> {
  await page.getByTestId('import-annotations').click();
  await browseTo(page, '[data-testid=import-panel]', path.dirname(file));
  await page.locator(`[data-testid=browser-entry][data-name="${path.basename(file)}"]`).getByTestId('browser-tick').check();
  await page.getByTestId('import-preview').click();
  await expect(page.getByTestId('import-preview-summary')).toContainText(`${expected.cells} cells, ${expected.votes} votes`);
  await page.getByTestId('import-annotator').fill('Importer');
  await page.getByTestId('import-run').click();
  await expect(page.getByTestId('import-report')).toContainText(`Imported ${expected.cells} cells and ${expected.votes} votes`);
  await page.getByTestId('import-panel').getByRole('button', { name: 'Close' }).click();
}

/** Waits until OpenSeadragon has drawn every tile the current view needs. */
export async function waitForViewerIdle(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const hook = (window as unknown as { __mitobenchViewer?: ViewerHook }).__mitobenchViewer;
    return hook?.isIdle() === true;
  }, undefined, { timeout: 60_000, polling: 100 });
  // Two frames so the last tiles drawn are on screen before a screenshot.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

export async function screenshotFor(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(repositoryRoot, 'test-results', 'screens', `${name}.png`) });
}

/**
 * The start of every labelling test: a synthetic slide in a new project, opened in the viewer,
 * labelled under `annotator`.
 */
export async function labelNewSlide(
  page: Page,
  app: BrowserModeApp,
  { project, annotator, slide }: { project: string; annotator: string; slide: SyntheticPyramidOptions },
): Promise<void> {
  const folder = path.join(app.scratch, 'scans');
  fs.mkdirSync(folder);
  await writeSyntheticPyramid(folder, slide);
  await page.goto(app.url);
  await createProject(page, app.scratch, project);
  await addFolder(page, folder);
  await page.getByTestId('view-slide').click();
  await waitForViewerIdle(page);
  await page.getByTestId('annotator-name').fill(annotator);
  await page.getByTestId('annotator-use').click();
}

/** The tiny timm ViT checkpoint (config.json + model.safetensors) of the golden test folders, copied into `scratch`/tiny-vit. */
export function copyTinyCheckpoint(scratch: string): string {
  const golden = path.join(repositoryRoot, 'tests', 'unit', 'models', 'architecture', 'golden', 'timm-gelu');
  const checkpoint = path.join(scratch, 'tiny-vit');
  fs.mkdirSync(checkpoint);
  for (const file of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(golden, file), path.join(checkpoint, file));
  return checkpoint;
}

/** Registers a checkpoint folder on the Models page of a project with no model yet. */
export async function registerCheckpoint(page: Page, checkpoint: string): Promise<void> {
  await page.getByTestId('nav-models').click();
  await browseTo(page, '[data-testid=models-register]', checkpoint);
  await page.getByTestId('model-register-folder').click();
  await expect(page.getByTestId('model-row')).toHaveCount(1);
}
