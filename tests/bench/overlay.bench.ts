/**
 * Cell overlay: frame times while panning the real app in headless Chromium, with 100,000 cells
 * on one slide, against a baseline of the same pans on the same slide without cells.
 *
 *   npm run bench:overlay        # builds, then: tsx tests/bench/overlay.bench.ts [--cells 100000] [--seconds 4] [--rounds 2]
 *
 * SET-UP (not timed): a 40,000 × 30,000 px synthetic JPEG pyramid (0.25 µm/px, i.e. 40×), and two
 * projects holding it, made as the app makes them (ProjectDatabase, SlideLibrary.add): "cells"
 * with `--cells` point cells (uniform over the slide, one or two people's votes, as
 * AnnotationStore.importAnnotations writes an import) and "empty" with none. Browser mode is
 * started (`node out/main/serve.js --port 0`, built first), Debian's Chromium is launched with
 * playwright.config.ts's arguments and 1400 × 900 viewport, and each project is opened through
 * the project screen's "open folder", its slide through the viewer's slide list, as a person who
 * has voted on the cells (so every cell is shown with its class).
 *
 * MEASURED, per project, at two views: "whole slide" (home view: every cell in view) and "40×"
 * (1 screen pixel per level-0 pixel, centred). The page pans every animation frame for `--seconds`
 * seconds along a circle (whole slide: radius 4% of the slide width, so every cell stays in view;
 * 40×: radius 600 screen pixels, so new tiles and cells come into view), as a drag does (panBy,
 * immediately), then lets go with one animated step, as the end of a drag does. From
 * requestAnimationFrame timestamps: frame intervals (p50, p95, max).
 * Timed inside the page around OpenSeadragon's own work (hooks installed for the benchmark only):
 * `world.draw` (tiles) and the viewer's `update-viewport` handlers (the cell overlay's draw).
 * Ratios: cells / empty, for the same view. AFTER THE PAN: the viewer asks for the cells in the new
 * view when the animation ends; the time until no request or response body has been in flight for
 * 500 ms (fetch and Response.json are counted by a script added to the page) and the longest frame
 * interval meanwhile (how long the page stopped responding), measured from the pan's last frame
 * until the view is idle and no request has been in flight for 500 ms.
 *
 * Frame intervals in headless Chromium are paced at ~16.7 ms (60 Hz) when the frame's work fits;
 * a frame whose work does not fit is skipped, so intervals come in multiples of it.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { AnnotationStore, type ImportedAnnotation } from '../../src-main/services/annotations/AnnotationStore';
import { ProjectDatabase } from '../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../src-main/services/slides/SlideCatalog';
import { SlideLibrary } from '../../src-main/services/slides/SlideLibrary';
import { TileCache } from '../../src-main/services/slides/TileCache';
import { chromiumLaunchArgs, startServer, systemChromium } from '../fixtures/browserServer';
import { writeLargeSyntheticPyramid } from '../fixtures/syntheticSlides';
import { seededRandom } from '../../src-main/services/random/seededRandom';

const SLIDE = { width: 40_000, height: 30_000 };
const VIEWPORT = { width: 1400, height: 900 };
const PERSON = 'Bench Person';
const IMPORT_CHUNK = 50_000;

const args = process.argv.slice(2);
function option(name: string, fallback: number): number {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] !== undefined ? Number(args[at + 1]) : fallback;
}
const CELLS = option('--cells', 100_000);
const SECONDS = option('--seconds', 4);
const ROUNDS = option('--rounds', 2);

const random = seededRandom(4242);

async function makeProject(folder: string, name: string, slideFile: string, cells: number): Promise<void> {
  const project = ProjectDatabase.create(folder, name);
  try {
    const catalog = new SlideCatalog(project.db);
    const library = new SlideLibrary(catalog, path.join(project.cacheFolder, 'thumbnails'), new TileCache(16 * 1024 * 1024), project.projectKey);
    const added = await library.add([slideFile]);
    const slideId = added.added[0]?.id;
    if (slideId === undefined) throw new Error(`the synthetic slide was not added: ${JSON.stringify(added.failed)}`);
    const store = new AnnotationStore(project.db);
    const person = store.ensureAnnotator(PERSON).id;
    const colleague = store.ensureAnnotator('Colleague').id;
    project.db.pragma('cache_size = -262144');
    for (let start = 0; start < cells; start += IMPORT_CHUNK) {
      const chunk: ImportedAnnotation[] = [];
      for (let index = start; index < Math.min(cells, start + IMPORT_CHUNK); index++) {
        const classId = random() < 0.4 ? 1 : 2;
        const votes = [{ annotatorId: person, classId }];
        if (index % 3 === 0) votes.push({ annotatorId: colleague, classId: random() < 0.9 ? classId : 3 - classId });
        chunk.push({ slideId, geometry: { shape: 'point', x: random() * SLIDE.width, y: random() * SLIDE.height }, votes });
      }
      store.importAnnotations(person, chunk);
    }
  } finally {
    project.close();
  }
}

/** The page's side: what SlideViewer.svelte exposes as window.__mitobenchViewer. */
interface Hook {
  viewer: {
    isOpen(): boolean;
    addHandler(event: string, handler: () => void, userData: null, priority: number): void;
    world: { draw(): void };
    viewport: {
      goHome(immediately: boolean): void;
      zoomTo(zoom: number, point: unknown, immediately: boolean): void;
      panTo(point: unknown, immediately: boolean): void;
      panBy(delta: unknown, immediately: boolean): void;
      imageToViewportZoom(zoom: number): number;
      imageToViewportCoordinates(x: number, y: number): unknown;
      deltaPointsFromPixels(pixels: unknown, current: boolean): unknown;
    };
  };
  OpenSeadragon: { Point: new (x: number, y: number) => unknown };
  isIdle(): boolean;
  lastOverlayFrame(): { levelOfDetail: string; cellsDrawn: number; regionsDrawn: number; paintCalls: number } | null;
}

async function waitForIdle(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { __mitobenchViewer?: Hook }).__mitobenchViewer?.isIdle() === true, undefined, {
    timeout: 120_000,
    polling: 100,
  });
}

async function openProject(page: Page, url: string, folder: string, expectedCells: number): Promise<void> {
  await page.goto(url);
  await page.getByTestId('app').waitFor();
  // The server keeps the last project open across page loads: close it to open another.
  if (await page.getByTestId('close-project').isVisible()) await page.getByTestId('close-project').click();
  const browser = page.locator('[data-testid=open-project]').getByTestId('folder-browser');
  await browser.getByTestId('browser-path').waitFor();
  await page.waitForFunction(() => (document.querySelector('[data-testid=open-project] [data-testid=browser-path]') as HTMLInputElement | null)?.value !== '');
  await browser.getByTestId('browser-path').fill(folder);
  await browser.getByTestId('browser-go').click();
  await page.getByTestId('open-project-button').click();
  await page.getByTestId('project-name').waitFor();
  await page.getByTestId('nav-viewer').click();
  await page.getByTestId('viewer-slide-item').first().click();
  await waitForIdle(page);
  await page.getByTestId('annotator-name').fill(PERSON);
  await page.getByTestId('annotator-use').click();
  await page.waitForFunction((count) => document.querySelector('[data-testid=cell-layer]')?.getAttribute('data-cells') === String(count), expectedCells, {
    timeout: 120_000,
  });
}

interface PanResult {
  /** Requests the page started while panning (the cells are asked for when a pan stops). */
  requests: number;
  intervals: number[];
  tilesMs: number[];
  overlayMs: number[];
  frame: ReturnType<Hook['lastOverlayFrame']>;
}

/**
 * Runs in the page before the app: tsx compiles this file keeping function names through a
 * helper, __name, that the page lacks; and fetch is counted, so the benchmark can wait until
 * the cells asked for after a view change have arrived and been laid out.
 */
const PAGE_SET_UP = `
  window.__name = (target) => target;
  (() => {
    const original = window.fetch.bind(window);
    const counts = { pending: 0, started: 0, lastActivity: performance.now() };
    window.__benchFetch = counts;
    const counted = async (work) => {
      counts.pending += 1;
      counts.lastActivity = performance.now();
      try {
        return await work();
      } finally {
        counts.pending -= 1;
        counts.lastActivity = performance.now();
      }
    };
    window.fetch = (...args) => {
      counts.started += 1;
      return counted(() => original(...args));
    };
    // A response's body arrives after fetch resolves: reading it counts as in flight too.
    const json = Response.prototype.json;
    Response.prototype.json = function () {
      return counted(() => json.call(this));
    };
  })();
`;

interface FetchCounts {
  pending: number;
  started: number;
  lastActivity: number;
}

/**
 * Waits until the view is idle and no request has been in flight for 500 ms (timers cannot fire
 * while the main thread is busy with a response, so this also waits for the work a response
 * causes); returns how long that took and the longest frame interval meanwhile.
 */
async function settle(page: Page): Promise<{ ms: number; longestFrameMs: number; requests: number }> {
  return page.evaluate(
    () =>
      new Promise<{ ms: number; longestFrameMs: number; requests: number }>((resolve) => {
        const counts = (window as unknown as { __benchFetch: FetchCounts }).__benchFetch;
        const started = performance.now();
        const startedRequests = counts.started;
        let longest = 0;
        let last = started;
        let done = false;
        const frame = (now: number) => {
          longest = Math.max(longest, now - last);
          last = now;
          if (!done) requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
        const hook = (window as unknown as { __mitobenchViewer: Hook }).__mitobenchViewer;
        let idleSince: number | null = null;
        const poll = () => {
          const now = performance.now();
          // The view stops animating first (its end asks for the cells), then the cells arrive.
          if (!hook.isIdle()) idleSince = null;
          else idleSince ??= now;
          const quietSince = idleSince === null ? now : Math.max(idleSince, counts.lastActivity);
          if (idleSince !== null && counts.pending === 0 && now - quietSince >= 500) {
            done = true;
            resolve({ ms: quietSince - started, longestFrameMs: Math.max(longest, now - last), requests: counts.started - startedRequests });
          } else setTimeout(poll, 50);
        };
        setTimeout(poll, 50);
      }),
  );
}

interface Samples {
  tiles: number[];
  overlay: number[];
}

/**
 * Times OpenSeadragon's tile drawing (world.draw) and the viewer's update-viewport handlers,
 * where the cell overlay draws, into window.__benchSamples while it is set. Once per viewer.
 */
async function installTimers(page: Page): Promise<void> {
  await page.evaluate(() => {
    const { viewer } = (window as unknown as { __mitobenchViewer: Hook }).__mitobenchViewer;
    const hooked = viewer as unknown as { __benchTimed?: boolean };
    if (hooked.__benchTimed) return;
    hooked.__benchTimed = true;
    const samples = () => (window as unknown as { __benchSamples?: Samples | null }).__benchSamples;
    const draw = viewer.world.draw.bind(viewer.world);
    viewer.world.draw = () => {
      const started = performance.now();
      draw();
      samples()?.tiles.push(performance.now() - started);
    };
    let overlayStarted = 0;
    // Highest priority runs first, lowest last: together they enclose every other handler.
    viewer.addHandler('update-viewport', () => (overlayStarted = performance.now()), null, 1e9);
    viewer.addHandler('update-viewport', () => samples()?.overlay.push(performance.now() - overlayStarted), null, -1e9);
  });
}

/** Pans along a circle every animation frame for `seconds`; returns what the page measured. */
async function pan(page: Page, seconds: number, radiusPx: number): Promise<PanResult> {
  await installTimers(page);
  return page.evaluate(
    ({ seconds, radiusPx }) =>
      new Promise<PanResult>((resolve) => {
        const hook = (window as unknown as { __mitobenchViewer: Hook }).__mitobenchViewer;
        const { viewer, OpenSeadragon } = hook;
        const samples: Samples = { tiles: [], overlay: [] };
        const counts = (window as unknown as { __benchFetch: FetchCounts }).__benchFetch;
        const requestsBefore = counts.started;
        (window as unknown as { __benchSamples?: Samples | null }).__benchSamples = samples;
        const stamps: number[] = [];
        let angle = 0;
        const step = (2 * Math.PI) / 120; // one turn every 2 s at 60 frames per second
        const frame = (now: number) => {
          stamps.push(now);
          if (now - stamps[0]! >= seconds * 1000) {
            (window as unknown as { __benchSamples?: Samples | null }).__benchSamples = null;
            // Let go as a drag ends: one animated step, whose end asks for the cells in view.
            viewer.viewport.panBy(viewer.viewport.deltaPointsFromPixels(new OpenSeadragon.Point(1, 1), true), false);
            const intervals = stamps.slice(1).map((stamp, index) => stamp - stamps[index]!);
            resolve({ requests: counts.started - requestsBefore, intervals, tilesMs: samples.tiles, overlayMs: samples.overlay, frame: hook.lastOverlayFrame() });
            return;
          }
          const dx = radiusPx * (Math.cos(angle + step) - Math.cos(angle));
          const dy = radiusPx * (Math.sin(angle + step) - Math.sin(angle));
          angle += step;
          viewer.viewport.panBy(viewer.viewport.deltaPointsFromPixels(new OpenSeadragon.Point(dx, dy), true), true);
          requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      }),
    { seconds, radiusPx },
  );
}

async function wholeSlide(page: Page): Promise<void> {
  await page.evaluate(() => (window as unknown as { __mitobenchViewer: Hook }).__mitobenchViewer.viewer.viewport.goHome(true));
  await waitForIdle(page);
  await settle(page);
}

async function fortyX(page: Page): Promise<void> {
  await page.evaluate(({ width, height }) => {
    const { viewer, OpenSeadragon } = (window as unknown as { __mitobenchViewer: Hook }).__mitobenchViewer;
    viewer.viewport.panTo(viewer.viewport.imageToViewportCoordinates(width / 2, height / 2), true);
    viewer.viewport.zoomTo(viewer.viewport.imageToViewportZoom(1), undefined, true);
    void OpenSeadragon;
  }, SLIDE);
  await waitForIdle(page);
  await settle(page);
}

function percentiles(samples: number[]): { p50: number; p95: number; max: number; mean: number } {
  if (samples.length === 0) return { p50: NaN, p95: NaN, max: NaN, mean: NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p95: at(0.95), max: sorted.at(-1)!, mean: samples.reduce((sum, value) => sum + value, 0) / samples.length };
}

const f = (value: number) => value.toFixed(1);

interface Summary {
  frames: ReturnType<typeof percentiles>;
  tiles: ReturnType<typeof percentiles>;
  overlay: ReturnType<typeof percentiles>;
  count: number;
  refresh: { ms: number; longestFrameMs: number; requests: number };
}

function summarise(label: string, result: PanResult, refresh: Summary['refresh']): Summary {
  const frames = percentiles(result.intervals);
  const tiles = percentiles(result.tilesMs);
  const overlay = percentiles(result.overlayMs);
  const drawn = result.frame ? `, overlay drew ${result.frame.cellsDrawn} cells as ${result.frame.levelOfDetail} (${result.frame.paintCalls} paint calls)` : '';
  console.log(
    `    ${label.padEnd(6)} frames ${String(result.intervals.length).padStart(4)}: interval p50 ${f(frames.p50)}  p95 ${f(frames.p95)}  max ${f(frames.max)} ms` +
      ` | tiles draw p50 ${f(tiles.p50)} p95 ${f(tiles.p95)} ms | overlay draw p50 ${f(overlay.p50)} p95 ${f(overlay.p95)} ms${drawn}` +
      ` | requests while panning ${result.requests}` +
      `\n           after the pan: ${refresh.requests} request(s), cells settled in ${f(refresh.ms)} ms, longest frame meanwhile ${f(refresh.longestFrameMs)} ms`,
  );
  return { frames, tiles, overlay, count: result.intervals.length, refresh };
}

async function main(): Promise<void> {
  const scratch = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-overlay-bench-')));
  let server: ChildProcess | undefined;
  const browser = await chromium.launch({ executablePath: systemChromium(), args: [...chromiumLaunchArgs] });
  try {
    console.log(`load average at start: ${os.loadavg().map((value) => value.toFixed(2)).join(', ')} on ${os.cpus().length} cores`);
    const slidesFolder = path.join(scratch, 'slides');
    fs.mkdirSync(slidesFolder);
    let started = performance.now();
    const slide = await writeLargeSyntheticPyramid(slidesFolder, SLIDE.width, SLIDE.height, { fileName: 'overlay-bench.tif' });
    console.log(`slide ${SLIDE.width} × ${SLIDE.height} written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    started = performance.now();
    const projects = { cells: path.join(scratch, 'cells'), empty: path.join(scratch, 'empty') };
    await makeProject(projects.cells, 'overlay bench, cells', slide.path, CELLS);
    await makeProject(projects.empty, 'overlay bench, empty', slide.path, 0);
    console.log(`projects made in ${((performance.now() - started) / 1000).toFixed(1)} s (${CELLS.toLocaleString('en')} cells)`);

    const running = await startServer(scratch, { startTimeoutMs: 30_000, buildHint: '(npm run bench:overlay does)' });
    server = running.child;
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    await context.addInitScript(PAGE_SET_UP);
    const page = await context.newPage();
    console.log(`Chromium ${browser.version()}, viewport ${VIEWPORT.width} × ${VIEWPORT.height}; panning ${SECONDS} s per view, ${ROUNDS} round(s)`);

    const results: Record<string, Summary[]> = {};
    const keep = (key: string, summary: Summary) => (results[key] ??= []).push(summary);
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`round ${round}`);
      for (const [name, folder] of Object.entries(projects)) {
        const expected = name === 'cells' ? CELLS : 0;
        const opened = performance.now();
        await openProject(page, running.url, folder, expected);
        console.log(`  ${name}: opened with ${expected.toLocaleString('en')} cells in view in ${((performance.now() - opened) / 1000).toFixed(1)} s`);
        await wholeSlide(page);
        const whole = await pan(page, SECONDS, (SLIDE.width * 0.04) / (SLIDE.width / VIEWPORT.width));
        keep(`${name} whole`, summarise('whole', whole, await settle(page)));
        await fortyX(page);
        const field = await pan(page, SECONDS, 600);
        keep(`${name} 40x`, summarise('40×', field, await settle(page)));
      }
    }

    console.log('summary (median over rounds of each round\'s figure)');
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    for (const view of ['whole', '40x']) {
      const cells = results[`cells ${view}`]!;
      const empty = results[`empty ${view}`]!;
      const p50 = median(cells.map((s) => s.frames.p50));
      const p95 = median(cells.map((s) => s.frames.p95));
      const base50 = median(empty.map((s) => s.frames.p50));
      const base95 = median(empty.map((s) => s.frames.p95));
      const overlay95 = median(cells.map((s) => s.overlay.p95));
      const settled = median(cells.map((s) => s.refresh.ms));
      const stalled = median(cells.map((s) => s.refresh.longestFrameMs));
      console.log(
        `  ${view === 'whole' ? 'whole slide' : '40× field  '}: cells p50 ${f(p50)} p95 ${f(p95)} ms | no cells p50 ${f(base50)} p95 ${f(base95)} ms` +
          ` | ratio p50 ${(p50 / base50).toFixed(2)}× p95 ${(p95 / base95).toFixed(2)}× | overlay draw p95 ${f(overlay95)} ms` +
          ` | p95 within one 60 Hz frame (≤ 16.7 ms): ${p95 <= 16.9 ? 'yes' : 'no'}` +
          ` | after a pan: cells settle in ${f(settled)} ms, longest frame ${f(stalled)} ms`,
      );
    }
    console.log(`load average at end: ${os.loadavg().map((value) => value.toFixed(2)).join(', ')}`);
    await context.close();
  } finally {
    await browser.close();
    server?.kill('SIGTERM');
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
