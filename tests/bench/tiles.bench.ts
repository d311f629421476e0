/**
 * Viewer tile throughput: the built-in TIFF reader (stored JPEG passed through) against
 * OpenSlide (decode, then JPEG-encode) on the shared CMU-1 slides, in the same run.
 *
 *   npm run bench:tiles
 *
 * COLD: a freshly opened reader and an empty TileCache, every tile requested once, one at a
 * time, coarse levels first as a viewer does (per-tile latency; opening the slide is not
 * counted). Tiles far below the coarsest native level are built from finer tiles, which then
 * count as cache hits when their own turn comes. WARM: the same tiles again, now
 * answered by the TileCache. Backends alternate order every round so drift (CPU frequency,
 * page cache, GC) does not favour one of them; one untimed round warms up JIT and libraries.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openOpenSlide, openSlideLibraryStatus } from '../../src-main/services/slides/OpenSlideReader';
import type { SlideReader } from '../../src-main/services/slides/SlideReader';
import { TileCache } from '../../src-main/services/slides/TileCache';
import { TileGrid, type TileOrigin } from '../../src-main/services/slides/TileGrid';
import { openTiffSlide } from '../../src-main/services/slides/tiff/TiffSlideReader';

const ROUNDS = 5;
const CACHE_BYTES = 512 * 1024 * 1024;
const SLIDE_FILES = ['CMU-1-Small-Region.svs', 'CMU-1-Small-Region.pyramid.tif'];

const repoRoot = path.resolve(import.meta.dirname, '../..');
const slidesDir = path.resolve(repoRoot, '../shared/data/slides');

type Backend = 'built-in' | 'openslide';
type Scope = 'full-res level' | 'whole pyramid';
type TileAddress = [level: number, column: number, row: number];

const openers: Record<Backend, (file: string) => Promise<SlideReader>> = {
  'built-in': openTiffSlide,
  openslide: openOpenSlide,
};

interface Samples {
  coldMs: number[];
  warmMs: number[];
  coldTotalMs: number;
  warmTotalMs: number;
  origins: Map<TileOrigin, number>;
}

function tilesOf(grid: TileGrid, scope: Scope): TileAddress[] {
  const levels = scope === 'full-res level' ? [grid.maxLevel] : range(grid.minLevel, grid.maxLevel + 1);
  const tiles: TileAddress[] = [];
  for (const level of levels) {
    const { width, height } = grid.levelSize(level);
    for (let row = 0; row < Math.ceil(height / grid.tileSize); row++) {
      for (let column = 0; column < Math.ceil(width / grid.tileSize); column++) tiles.push([level, column, row]);
    }
  }
  return tiles;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Reads every tile once, one request at a time; returns per-tile latencies and the total. */
async function readAll(grid: TileGrid, tiles: TileAddress[], origins?: Map<TileOrigin, number>): Promise<{ ms: number[]; totalMs: number }> {
  const ms: number[] = [];
  const start = performance.now();
  for (const [level, column, row] of tiles) {
    const before = performance.now();
    const tile = await grid.readTile(level, column, row);
    ms.push(performance.now() - before);
    origins?.set(tile.source, (origins.get(tile.source) ?? 0) + 1);
  }
  return { ms, totalMs: performance.now() - start };
}

async function runOnce(backend: Backend, file: string, scope: Scope, into: Samples | null): Promise<void> {
  const reader = await openers[backend](file);
  try {
    const cache = new TileCache(CACHE_BYTES);
    const grid = new TileGrid(reader, cache, 'bench');
    const tiles = tilesOf(grid, scope);
    const cold = await readAll(grid, tiles, into?.origins);
    const hitsBeforeWarm = cache.stats().hits;
    const warm = await readAll(grid, tiles);
    if (cache.stats().hits - hitsBeforeWarm !== tiles.length) {
      throw new Error(`warm pass missed the cache (${JSON.stringify(cache.stats())})`);
    }
    if (into) {
      into.coldMs.push(...cold.ms);
      into.warmMs.push(...warm.ms);
      into.coldTotalMs += cold.totalMs;
      into.warmTotalMs += warm.totalMs;
    }
  } finally {
    await reader.close();
  }
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

function tilesPerSecond(count: number, totalMs: number): number {
  return count / (totalMs / 1000);
}

function pad(text: string | number, width: number): string {
  return String(text).padStart(width);
}

async function main(): Promise<void> {
  const missing = SLIDE_FILES.filter((name) => !fs.existsSync(path.join(slidesDir, name)));
  if (missing.length > 0) {
    console.error(`bench:tiles needs the shared test slides in ${slidesDir} (missing: ${missing.join(', ')}).`);
    console.error('They are not part of the repository; see ../shared/data/README.md.');
    process.exit(2);
  }
  const library = openSlideLibraryStatus();
  if (!library.available) {
    console.error(`bench:tiles compares against OpenSlide, which cannot be loaded: ${library.reason}`);
    process.exit(2);
  }

  console.log(`Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), OpenSlide ${library.version}`);
  console.log(`${ROUNDS} rounds after one warm-up round; tiles requested one at a time.\n`);

  const backends: Backend[] = ['built-in', 'openslide'];
  const scopes: Scope[] = ['full-res level', 'whole pyramid'];
  const results = new Map<string, Samples>();
  const key = (file: string, scope: Scope, backend: Backend) => `${file}|${scope}|${backend}`;

  for (const name of SLIDE_FILES) {
    const file = path.join(slidesDir, name);
    for (const scope of scopes) {
      for (const backend of backends) {
        results.set(key(name, scope, backend), { coldMs: [], warmMs: [], coldTotalMs: 0, warmTotalMs: 0, origins: new Map() });
        await runOnce(backend, file, scope, null);
      }
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? backends : [...backends].reverse();
        for (const backend of order) await runOnce(backend, file, scope, results.get(key(name, scope, backend))!);
      }
    }
  }

  const header = [
    'slide'.padEnd(32),
    'tiles'.padEnd(15),
    'backend'.padEnd(10),
    pad('n', 4),
    pad('cold t/s', 9),
    pad('p50 ms', 7),
    pad('p95 ms', 7),
    pad('warm t/s', 9),
    pad('p50 ms', 7),
    pad('p95 ms', 7),
    '  served as',
  ].join(' ');
  console.log(header);
  console.log('-'.repeat(header.length));
  const summary: string[] = [];
  for (const name of SLIDE_FILES) {
    for (const scope of scopes) {
      const coldRates: Partial<Record<Backend, number>> = {};
      for (const backend of backends) {
        const samples = results.get(key(name, scope, backend))!;
        const perRound = samples.coldMs.length / ROUNDS;
        coldRates[backend] = tilesPerSecond(samples.coldMs.length, samples.coldTotalMs);
        const origins = [...samples.origins].map(([origin, count]) => `${origin} ${Math.round((100 * count) / samples.coldMs.length)}%`);
        console.log(
          [
            name.padEnd(32),
            scope.padEnd(15),
            backend.padEnd(10),
            pad(perRound, 4),
            pad(coldRates[backend].toFixed(0), 9),
            pad(percentile(samples.coldMs, 0.5).toFixed(2), 7),
            pad(percentile(samples.coldMs, 0.95).toFixed(2), 7),
            pad(tilesPerSecond(samples.warmMs.length, samples.warmTotalMs).toFixed(0), 9),
            pad(percentile(samples.warmMs, 0.5).toFixed(3), 7),
            pad(percentile(samples.warmMs, 0.95).toFixed(3), 7),
            '  ' + origins.join(', '),
          ].join(' '),
        );
      }
      const builtIn = results.get(key(name, scope, 'built-in'))!;
      summary.push(
        `${name}, ${scope}: built-in vs OpenSlide cold: ${(coldRates['built-in']! / coldRates.openslide!).toFixed(1)}× faster; ` +
          `warm p95 ${percentile(builtIn.warmMs, 0.95).toFixed(3)} ms (built-in), ` +
          `${percentile(results.get(key(name, scope, 'openslide'))!.warmMs, 0.95).toFixed(3)} ms (OpenSlide)`,
      );
    }
  }
  console.log(`\n${summary.join('\n')}`);
  console.log('\nTargets: cold passthrough ≥ 3× faster than OpenSlide decode-and-encode; warm p95 < 1 ms.');
}

await main();
