import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AugmentPool } from '../../../../src-main/services/training/data/AugmentPool';
import { REFERENCE_AUGMENTATION } from '../../../../src-main/services/training/data/augment';
import type { TrainingCell } from '../../../../src-main/services/training/data/sampling';
import { slidePatchReader, TrainingBatches } from '../../../../src-main/services/training/data/TrainingBatches';
import type { TrainingBatchOptions, ValidationBatch } from '../../../../src-main/services/training/data/TrainingBatches';
import { ProjectDatabase } from '../../../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../../../src-main/services/slides/SlideCatalog';
import { SlideLibrary } from '../../../../src-main/services/slides/SlideLibrary';
import { TileCache } from '../../../../src-main/services/slides/TileCache';
import { squareCentre, syntheticPixel, writeSyntheticPyramid } from '../../../fixtures/syntheticSlides';

const ENTRY = { file: path.join(import.meta.dirname, 'augmentWorkerEntry.mjs') };
const SLIDE_SIZE = 1024;
const PATCH = 32;
const SOURCE = 46; // augmentationSourceSize(32, 32)
const MEAN = [0.5, 0.4, 0.3] as const;
const STD = [0.2, 0.25, 0.3] as const;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-training-batches-'));

let project: ProjectDatabase;
let library: SlideLibrary;
let pool: AugmentPool;
let slideId: number;
let cells: TrainingCell[];

beforeAll(async () => {
  project = ProjectDatabase.create(path.join(dir, 'project'), 'Training batches');
  library = new SlideLibrary(new SlideCatalog(project.db), path.join(project.cacheFolder, 'thumbnails'), new TileCache(8 << 20), project.projectKey);
  const slide = await writeSyntheticPyramid(dir, { width: SLIDE_SIZE, height: SLIDE_SIZE, compression: 'lzw', mpp: 0.25 });
  slideId = (await library.add([slide.path])).added[0]!.id;
  // Cells at the centres of the flat coloured squares of the synthetic pattern; class 1 = mitotic figure.
  cells = [
    [1, 1, 1],
    [2, 1, 0],
    [3, 2, 0],
    [4, 4, 1],
    [5, 3, 0],
  ].map(([column, row, label], i) => ({ annotationId: i + 1, slideId, ...squareCentre(column!, row!), label: label! }));
  // An imposter beside the first mitotic figure: every patch around it also shows the figure.
  const figure = cells[0]!;
  cells.push({ annotationId: 6, slideId, x: figure.x + 10, y: figure.y, label: 0 });
  pool = new AugmentPool(ENTRY, 2);
}, 60_000);

afterAll(async () => {
  await pool?.close();
  await library?.close();
  project?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function options(change: Partial<TrainingBatchOptions> = {}): TrainingBatchOptions {
  return {
    cells,
    batchSize: 8,
    seed: 5,
    patchSize: PATCH,
    patchSizePx: PATCH,
    mean: MEAN,
    std: STD,
    positiveLabel: 1,
    augmentation: REFERENCE_AUGMENTATION,
    // The slide's own 0.25 µm/px: downsample 1.
    reader: slidePatchReader(library, SOURCE, 0.25, 'bilinear'),
    pool,
    ...change,
  };
}

/** Every pixel of image `index` is the normalised colour of the flat square around (x, y). */
function expectSquareColour(pixels: Float32Array, index: number, x: number, y: number): void {
  const colour = syntheticPixel(x, y, SLIDE_SIZE, SLIDE_SIZE);
  const plane = PATCH * PATCH;
  for (let c = 0; c < 3; c++) {
    const expected = Math.fround((colour[c]! / 255 - MEAN[c]!) / STD[c]!);
    const channel = pixels.subarray((index * 3 + c) * plane, (index * 3 + c + 1) * plane);
    expect(channel.every((value) => value === expected)).toBe(true);
  }
}

describe('TrainingBatches', () => {
  it('returns NCHW float32 patches, int64 labels and where each came from', async () => {
    const batch = await new TrainingBatches(options()).batch(0);
    expect(batch.pixels.length).toBe(8 * 3 * PATCH * PATCH);
    expect(batch.labels).toBeInstanceOf(BigInt64Array);
    expect(batch.labels.length).toBe(8);
    expect(batch.cells).toHaveLength(8);
    batch.cells.forEach((patch, i) => expect(batch.labels[i]).toBe(BigInt(patch.label)));
  });

  it('labels a patch positive when a mitotic figure lies inside it, else with its sampled class', async () => {
    const batches = new TrainingBatches(options({ batchSize: 16 }));
    const seen = await Promise.all([0, 1, 2, 3].map((index) => batches.batch(index)));
    const patches = seen.flatMap((batch) => batch.cells);
    for (const patch of patches) {
      const figureInside = cells.some((cell) => cell.label === 1 && Math.abs(cell.x - patch.centreX) < PATCH / 2 && Math.abs(cell.y - patch.centreY) < PATCH / 2);
      expect(patch.label).toBe(figureInside ? 1 : patch.cell.label);
    }
    const besideFigure = patches.filter((patch) => patch.cell.annotationId === 6);
    expect(besideFigure.length).toBeGreaterThan(0);
    for (const patch of besideFigure) expect(patch.label).toBe(1);
  });

  it('reads the patch around each sampled centre (unaugmented, unshifted: the flat square of its cell)', async () => {
    const batch = await new TrainingBatches(options({ augmentation: null, maxShiftFraction: 0 })).batch(0);
    batch.cells.forEach((patch, i) => expectSquareColour(batch.pixels, i, patch.cell.x, patch.cell.y));
  });

  it('is deterministic by seed: next() gives batch 0, 1, … with prefetch, and resumes at any batch', async () => {
    const first = new TrainingBatches(options());
    const [zero, one] = [await first.next(), await first.next()];
    const again = new TrainingBatches(options());
    expect(await again.batch(0)).toEqual(zero);
    expect(await new TrainingBatches(options(), 1).next()).toEqual(one);
    const otherSeed = await new TrainingBatches(options({ seed: 6 })).batch(0);
    expect(otherSeed.pixels).not.toEqual(zero.pixels);
    expect(one.pixels).not.toEqual(zero.pixels);
  });

  it('gives centred, unaugmented validation batches, the last padded and saying how many are real', async () => {
    const batches = new TrainingBatches(options());
    const validation: TrainingCell[] = cells.slice(0, 5);
    const seen: ValidationBatch[] = [];
    for await (const batch of batches.validationBatches(validation, 4)) seen.push(batch);
    expect(seen.map((batch) => batch.realCount)).toEqual([4, 1]);
    expect(seen.map((batch) => [...batch.labels])).toEqual([[1n, 0n, 0n, 1n], [0n, 0n, 0n, 0n]]);
    validation.forEach((cell, i) => expectSquareColour(seen[Math.floor(i / 4)]!.pixels, i % 4, cell.x, cell.y));
    expect(seen[1]!.pixels.subarray(3 * PATCH * PATCH).every((value) => value === 0)).toBe(true);
  });

  it('names a reader that gives crops of the wrong size', async () => {
    const wrong = new TrainingBatches(options({ reader: slidePatchReader(library, 40, 0.25, 'bilinear') }));
    await expect(wrong.batch(0)).rejects.toThrow(/patch reader gave 4800 bytes .* a 46-pixel RGB crop has 6348/);
  });
});
