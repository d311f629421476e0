import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnnotationStore } from '../../../src-main/services/annotations/AnnotationStore';
import { EmbeddingCache, labelledCells } from '../../../src-main/services/embeddings/EmbeddingCache';
import { extractEmbeddings, staticBatchSize, workerEmbeddingSession } from '../../../src-main/services/embeddings/EmbeddingExtractor';
import type { EmbeddingSession } from '../../../src-main/services/embeddings/EmbeddingExtractor';
import { embeddingMap } from '../../../src-main/services/embeddings/embeddingMap';
import { modelKey, normaliseInto, patchParameters } from '../../../src-main/services/embeddings/patches';
import { ModelRegistry } from '../../../src-main/services/models/ModelRegistry';
import { ModelRuntime } from '../../../src-main/services/models/runtime/ModelRuntime';
import type { OpenSession } from '../../../src-main/services/models/runtime/ModelRuntime';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { readModelPatch } from '../../../src-main/services/slides/cellCrop';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { SlideLibrary } from '../../../src-main/services/slides/SlideLibrary';
import { TileCache } from '../../../src-main/services/slides/TileCache';
import type { ModelInfo } from '../../../src-main/contract/modelsSchemas';
import { squareCentre, writeSyntheticPyramid } from '../../fixtures/syntheticSlides';

const GOLDEN = path.join(import.meta.dirname, '..', 'models', 'architecture', 'golden', 'timm-gelu');
const WORKER_ENTRY = { file: path.join(import.meta.dirname, '..', 'models', 'runtimeWorkerEntry.mjs') };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-embeddings-'));

let project: ProjectDatabase;
let library: SlideLibrary;
let store: AnnotationStore;
let model: ModelInfo;
let opened: OpenSession;
let slideId: number;
let noMppSlideId: number;
const cellIds: number[] = [];

beforeAll(async () => {
  project = ProjectDatabase.create(path.join(dir, 'project'), 'Embeddings');
  store = new AnnotationStore(project.db);
  library = new SlideLibrary(new SlideCatalog(project.db), path.join(project.cacheFolder, 'thumbnails'), new TileCache(8 << 20), project.projectKey);
  const slide = await writeSyntheticPyramid(dir, { width: 2048, height: 1536, compression: 'lzw', mpp: 0.25 });
  const flat = await writeSyntheticPyramid(dir, { width: 512, height: 512, compression: 'lzw', mpp: null, fileName: 'no-mpp.tif' });
  const added = await library.add([slide.path, flat.path]);
  slideId = added.added.find((s) => s.path === slide.path)!.id;
  noMppSlideId = added.added.find((s) => s.path === flat.path)!.id;
  library.setTags(slideId, [{ key: 'scanner', value: 'A' }]);
  const person = store.ensureAnnotator('Ada').id;
  for (let i = 0; i < 5; i++) {
    const { x, y } = squareCentre(2 + i, 1 + (i % 3));
    cellIds.push(store.createAnnotation(slideId, { shape: 'point', x, y }, person, i % 2 === 0 ? 1 : 2).id);
  }
  store.createAnnotation(slideId, { shape: 'point', x: 100, y: 100 }, person); // unlabelled: not embedded
  store.createAnnotation(slideId, { shape: 'rectangle', x: 0, y: 0, width: 50, height: 50 }, person, 1); // a region, not a cell
  store.createAnnotation(noMppSlideId, { shape: 'point', x: 64, y: 64 }, person, 1);
  const folder = path.join(dir, 'timm-gelu');
  fs.mkdirSync(folder);
  for (const file of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(GOLDEN, file), path.join(folder, file));
  model = await new ModelRegistry(project.db, project.cacheFolder).register(folder);
  opened = await new ModelRuntime({ entry: WORKER_ENTRY, candidates: ['cpu'] }).createSession(model.onnxPath, 'cpu');
}, 60_000);

afterAll(async () => {
  await opened?.worker.close();
  await library?.close();
  project?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Counts images and runs through the real worker session; aborts after `abortAfter` batches. */
function countingSession(inner: EmbeddingSession, abortAfter?: { controller: AbortController; batches: number }) {
  const calls: number[] = [];
  const session: EmbeddingSession = {
    async embed(pixels, count) {
      const result = await inner.embed(pixels, count);
      calls.push(count);
      if (abortAfter && calls.length === abortAfter.batches) abortAfter.controller.abort();
      return result;
    },
  };
  return { session, calls };
}

describe('patches at the model’s µm per pixel', () => {
  it('cuts a wide patch (192 × 48 model pixels) centred on the cell', async () => {
    const { x, y } = squareCentre(5, 3);
    const patch = await readModelPatch(library, slideId, x, y, 96, 24, 2, 'bilinear');
    expect([patch.width, patch.height, patch.rgb.length]).toEqual([96, 24, 96 * 24 * 3]);
    expect(patch.source.width / patch.source.height).toBeCloseTo(4, 5);
    // The square's colour at the centre pixel, as for square patches.
    const centre = [...patch.rgb.subarray((12 * 96 + 48) * 3, (12 * 96 + 48) * 3 + 3)];
    expect(centre.every((v, c) => Math.abs(v - [40, 60, 220][c]!) <= 12)).toBe(true);
  });

  it('centres the patch on the cell, at the requested scale, from the best pyramid level', async () => {
    const levels = library.get(slideId).levels;
    const { x, y } = squareCentre(5, 3); // a flat 64-px square (level-0) around this point
    for (const [downsample, size] of [
      [4, 32],
      [2, 64],
      [1.5, 64],
    ] as const) {
      const patch = await readModelPatch(library, slideId, x, y, size, size, downsample, 'bicubic');
      expect(levels[patch.source.level]!.downsample).toBe(Math.max(...levels.map((l) => l.downsample).filter((d) => d <= downsample)));
      expect(patch.rgb.length).toBe(size * size * 3);
      const pixel = (px: number, py: number) => [...patch.rgb.subarray((py * size + px) * 3, (py * size + px) * 3 + 3)];
      // Square colour 5 + 3·3 = 14 → colour 14 % 4 = 2: blue.
      const blue = [40, 60, 220];
      const isBlue = (p: number[]) => p.every((v, c) => Math.abs(v - blue[c]!) <= 12);
      expect(isBlue(pixel(size / 2, size / 2))).toBe(true);
      const row = Array.from({ length: size }, (_, px) => isBlue(pixel(px, size / 2)));
      const first = row.indexOf(true);
      const last = row.lastIndexOf(true);
      const expectedWidth = 64 / downsample;
      expect(Math.abs(last - first + 1 - expectedWidth)).toBeLessThanOrEqual(2);
      expect(Math.abs((first + last + 1) / 2 - size / 2)).toBeLessThanOrEqual(1);
    }
  });
});

describe('extraction', () => {
  it('refuses a slide without µm per pixel, naming it, and stores nothing', async () => {
    const { session } = countingSession(workerEmbeddingSession(opened.worker, model, 1));
    await expect(extractEmbeddings({ db: project.db, library, model, session, slideIds: [slideId, noMppSlideId] })).rejects.toThrow(/"no-mpp\.tif": the slide file does not state its µm per pixel/);
    expect((project.db.prepare('SELECT count(*) AS n FROM embeddings').get() as { n: number }).n).toBe(0);
  });

  it('cancels mid-way keeping finished batches; a rerun does only the rest; a third run skips all', async () => {
    expect(await staticBatchSize(model.onnxPath)).toBe(1);
    const inner = workerEmbeddingSession(opened.worker, model, 1);
    const controller = new AbortController();
    const first = countingSession(inner, { controller, batches: 1 });
    const progress: number[] = [];
    const cancelled = await extractEmbeddings({ db: project.db, library, model, session: first.session, slideIds: [slideId], batchSize: 2, signal: controller.signal, progress: (done) => progress.push(done) });
    expect(cancelled).toMatchObject({ total: 5, skipped: 0, embedded: 2, cancelled: true, dims: 32 });
    expect(first.calls).toEqual([2]);
    expect(progress).toEqual([0, 2]);

    const second = countingSession(inner);
    const resumed = await extractEmbeddings({ db: project.db, library, model, session: second.session, slideIds: [slideId], batchSize: 2 });
    expect(resumed).toMatchObject({ total: 5, skipped: 2, embedded: 3, cancelled: false });
    expect(second.calls).toEqual([2, 1]);

    const third = countingSession(inner);
    expect(await extractEmbeddings({ db: project.db, library, model, session: third.session, slideIds: [slideId] })).toMatchObject({ skipped: 5, embedded: 0 });
    expect(third.calls).toEqual([]);
  });

  it('stores exactly what a direct ONNX Runtime run gives on the same normalised patch', async () => {
    const params = patchParameters(model);
    expect(params).toMatchObject({ width: 32, height: 32, umPerPixel: 0.5, interpolation: 'bicubic', mean: [0.5, 0.5, 0.5] });
    const cells = labelledCells(project.db, [slideId]);
    expect(cells.map((cell) => cell.annotationId)).toEqual(cellIds);
    const cached = new EmbeddingCache(project.db).vectors(modelKey(model), params.key, cells);
    expect(cached).toHaveLength(5);
    const session = await ort.InferenceSession.create(model.onnxPath, { executionProviders: ['cpu'] });
    try {
      for (const [index, cell] of cells.entries()) {
        const patch = await readModelPatch(library, slideId, cell.x, cell.y, 32, 32, 0.5 / 0.25, 'bicubic');
        const input = new Float32Array(3 * 32 * 32);
        normaliseInto(input, 0, patch.rgb, 32, 32, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
        const expected = (await session.run({ [model.config.inputName]: new ort.Tensor('float32', input, [1, 3, 32, 32]) })).embedding!.data as Float32Array;
        const stored = cached[index]!.vector;
        expect(stored.length).toBe(32);
        for (let j = 0; j < 32; j++) expect(Math.abs(stored[j]! - expected[j]!)).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await session.release();
    }
  });

  it('a batch-4 variant (5 cells: one full run, one padded) and a float16 build store what batch 1 stored, float16 under its own key', async () => {
    const params = patchParameters(model);
    const cells = labelledCells(project.db, [slideId]);
    const cache = new EmbeddingCache(project.db);
    const single = cache.vectors(modelKey(model), params.key, cells).map((entry) => entry.vector);
    const registry = new ModelRegistry(project.db, project.cacheFolder);
    const runtime = new ModelRuntime({ entry: WORKER_ENTRY, candidates: ['cpu'] });
    for (const precision of ['float32', 'float16'] as const) {
      const variant = await registry.variant(model, 4, precision);
      expect(await staticBatchSize(variant)).toBe(4);
      const lease = await runtime.acquire(variant, 'cpu');
      try {
        const run = countingSession(workerEmbeddingSession(lease.session.worker, model, 4));
        const key = modelKey(model, precision);
        // float32: clear the batch-1 results first, so this run embeds every cell again.
        if (precision === 'float32') project.db.prepare('DELETE FROM embeddings WHERE model_key = ?').run(key);
        const result = await extractEmbeddings({ db: project.db, library, model, session: run.session, slideIds: [slideId], batchSize: 5, precision });
        expect(result).toMatchObject({ total: 5, skipped: 0, embedded: 5 });
        expect(run.calls).toEqual([5]);
        const stored = cache.vectors(key, params.key, cells).map((entry) => entry.vector);
        const tolerance = precision === 'float32' ? 1e-5 : 3e-2;
        stored.forEach((vector, i) => vector.forEach((value, j) => expect(Math.abs(value - single[i]![j]!)).toBeLessThanOrEqual(tolerance * (1 + Math.abs(single[i]![j]!)))));
      } finally {
        lease.release();
      }
    }
    expect(cache.cachedIds(modelKey(model, 'float16'), params.key, cells).size).toBe(5);
    await runtime.closeSessions();
  });

  it('embeds a moved cell again (its centre is part of the key), and maps the cells by class and by tag', async () => {
    const person = store.ensureAnnotator('Ada').id;
    const { x, y } = squareCentre(9, 2);
    store.move(cellIds[0]!, person, { shape: 'point', x, y });
    const run = countingSession(workerEmbeddingSession(opened.worker, model, 1));
    expect(await extractEmbeddings({ db: project.db, library, model, session: run.session, slideIds: [slideId] })).toMatchObject({ skipped: 4, embedded: 1 });

    const params = patchParameters(model);
    const slideOf = (id: number) => ({ name: library.get(id).name, tags: library.get(id).tags });
    const byClass = await embeddingMap(project.db, modelKey(model), params.key, slideOf, { colourBy: 'class', projection: 'pca' });
    expect(byClass.points).toHaveLength(5);
    expect(byClass.groups).toEqual([
      { name: 'mitotic figure', colour: '#e6194b', count: 3 },
      { name: 'non-mitotic figure (imposter)', colour: '#3cb4e6', count: 2 },
    ]);
    expect(byClass.tagKeys).toEqual(['scanner']);
    const [first, second] = byClass.explained!;
    expect(first).toBeGreaterThan(second);
    expect(first + second).toBeLessThanOrEqual(1 + 1e-9);
    const byScanner = await embeddingMap(project.db, modelKey(model), params.key, slideOf, { colourBy: 'scanner', projection: 'pca' });
    expect(byScanner.groups).toEqual([{ name: 'A', colour: null, count: 5 }]);
    expect(byScanner.points[0]).toMatchObject({ slideId, tags: { scanner: 'A' }, group: 'A' });
    // UMAP of the same five cells: the same points and groups on other axes, which explain nothing.
    const umap = await embeddingMap(project.db, modelKey(model), params.key, slideOf, { colourBy: 'class', projection: 'umap' });
    expect(umap).toMatchObject({ projection: 'umap', explained: null, groups: byClass.groups });
    expect(umap.points.map((point) => point.annotationId)).toEqual(byClass.points.map((point) => point.annotationId));
    expect(umap.points.every((point) => Number.isFinite(point.x) && Number.isFinite(point.y))).toBe(true);
  });
});
