import type { Database } from 'better-sqlite3';
import type { ModelInfo, Precision } from '../../contract/modelsSchemas';
import { UserFacingError } from '../../contract/errors';
import { OnnxModelFile } from '../models/checkpoints/OnnxModelFile';
import type { SessionWorker } from '../models/runtime/SessionWorker';
import { readModelPatch } from '../slides/cellCrop';
import type { SlideLibrary } from '../slides/SlideLibrary';
import { EmbeddingCache, labelledCells } from './EmbeddingCache';
import type { LabelledCell } from './EmbeddingCache';
import { modelKey, normaliseInto, patchParameters } from './patches';
import type { PatchParameters } from './patches';

export const DEFAULT_BATCH_SIZE = 16;

/** Runs the model on `count` NCHW images: count × dims values. */
export interface EmbeddingSession {
  embed(pixels: Float32Array, count: number): Promise<{ data: Float32Array; dims: number }>;
}

/** The ONNX file's static batch size (compiled models: 1, or the variant's), or null when its first input's batch dimension is free. */
export async function staticBatchSize(onnxPath: string): Promise<number | null> {
  const file = await OnnxModelFile.open(onnxPath);
  try {
    const first = file.inputs[0]?.shape?.[0];
    return typeof first === 'number' && first > 0 ? first : null;
  } finally {
    await file.close();
  }
}

/**
 * A model session in its worker thread. With a free batch dimension a batch is one run. With a
 * static batch size the images go in runs of exactly that many, all posted at once so the worker
 * runs them back to back; a short last run is padded with zeros and the padding's outputs dropped.
 */
export function workerEmbeddingSession(worker: SessionWorker, model: Pick<ModelInfo, 'config' | 'embeddingOutput'>, staticBatch: number | null): EmbeddingSession {
  const { inputName } = model.config;
  const output = model.embeddingOutput;
  const [, c, h, w] = model.config.inputShape as [number, number, number, number];
  const perImage = c * h * w;
  return {
    async embed(pixels, count) {
      if (staticBatch === null) {
        const result = (await worker.runFloat32({ [inputName]: { dims: [count, c, h, w], data: pixels } }, [output]))[output]!;
        return { data: result.data, dims: result.data.length / count };
      }
      const runs: Promise<Readonly<Record<string, { data: Float32Array }>>>[] = [];
      for (let first = 0; first < count; first += staticBatch) {
        const images = Math.min(staticBatch, count - first);
        const slice = pixels.subarray(first * perImage, (first + images) * perImage);
        const feed = images === staticBatch ? slice.slice() : new Float32Array(staticBatch * perImage);
        if (images < staticBatch) feed.set(slice);
        runs.push(worker.runFloat32({ [inputName]: { dims: [staticBatch, c, h, w], data: feed } }, [output]));
      }
      const results = await Promise.all(runs);
      const dims = results[0]![output]!.data.length / staticBatch;
      const data = new Float32Array(dims * count);
      results.forEach((result, run) => {
        const images = Math.min(staticBatch, count - run * staticBatch);
        data.set(result[output]!.data.subarray(0, images * dims), run * staticBatch * dims);
      });
      return { data, dims };
    },
  };
}

export interface ExtractOptions {
  readonly db: Database;
  readonly library: SlideLibrary;
  readonly model: Pick<ModelInfo, 'name' | 'config' | 'fileHash' | 'embeddingOutput'>;
  readonly session: EmbeddingSession;
  readonly slideIds: readonly number[];
  readonly batchSize?: number;
  /** What the session computes in; float16 embeddings are cached apart from float32 ones. */
  readonly precision?: Precision;
  readonly signal?: AbortSignal;
  readonly progress?: (done: number, total: number, message?: string) => void;
}

export interface ExtractResult {
  /** Labelled cells of the chosen slides. */
  readonly total: number;
  /** Already cached when the run began (skipped). */
  readonly skipped: number;
  /** Embedded by this run. */
  readonly embedded: number;
  readonly cancelled: boolean;
  readonly dims: number | null;
  /** Time in the model, time waiting for patches (decode + resize not hidden behind inference), and in all. */
  readonly inferenceMs: number;
  readonly waitMs: number;
  readonly wallMs: number;
}

/** Slides whose µm per pixel is unknown: patches cannot be cut at the model's scale. */
export function refuseSlidesWithoutMpp(library: SlideLibrary, slideIds: readonly number[]): void {
  const missing = slideIds.map((id) => library.get(id)).filter((slide) => !(slide.mppX && slide.mppX > 0));
  if (missing.length > 0) {
    const names = missing.map((slide) => `"${slide.name}"`).join(', ');
    throw new UserFacingError(
      'invalid-argument',
      `${names}: the slide file does not state its µm per pixel, so patches cannot be cut at the model's scale; no embeddings were extracted`,
      missing[0]!.path,
    );
  }
}

/** Where a patch is centred: a slide and a point in its level-0 pixels. */
export interface PatchCentre {
  readonly slideId: number;
  readonly x: number;
  readonly y: number;
}

/** The normalised NCHW input of a batch of patches, each cut at the model's µm per pixel around its centre. */
export async function preparePatches(library: SlideLibrary, cells: readonly PatchCentre[], params: PatchParameters): Promise<Float32Array> {
  const { width, height } = params;
  const pixels = new Float32Array(cells.length * 3 * width * height);
  await Promise.all(
    cells.map(async (cell, index) => {
      const slide = library.get(cell.slideId);
      const downsample = params.umPerPixel / slide.mppX!;
      const patch = await readModelPatch(library, cell.slideId, cell.x, cell.y, width, height, downsample, params.interpolation);
      normaliseInto(pixels, index, patch.rgb, width, height, params.mean, params.std);
    }),
  );
  return pixels;
}

/**
 * Embeds the labelled cells of `slideIds` that the cache lacks, in batches: while the model runs
 * on one batch (in its worker thread), the next batch's patches are read and resized (sharp's
 * own threads). Each batch is stored when it returns, so a cancelled run keeps what it finished
 * and the next run does only the rest.
 */
export async function extractEmbeddings(options: ExtractOptions): Promise<ExtractResult> {
  const { db, library, model, session, signal } = options;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const params = patchParameters(model);
  const key = modelKey(model, options.precision);
  refuseSlidesWithoutMpp(library, options.slideIds);
  const cache = new EmbeddingCache(db);
  const cells = labelledCells(db, options.slideIds);
  const cached = cache.cachedIds(key, params.key, cells);
  const todo = cells.filter((cell) => !cached.has(cell.annotationId));
  const batches: LabelledCell[][] = [];
  for (let i = 0; i < todo.length; i += batchSize) batches.push(todo.slice(i, i + batchSize));

  const started = performance.now();
  let inferenceMs = 0;
  let waitMs = 0;
  let embedded = 0;
  let dims: number | null = null;
  options.progress?.(cached.size, cells.length);
  const prepare = (index: number) => {
    const promise = preparePatches(library, batches[index]!, params);
    promise.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    return promise;
  };
  let next = batches.length > 0 ? prepare(0) : null;
  for (let index = 0; index < batches.length && !signal?.aborted; index++) {
    const waitStart = performance.now();
    const pixels = await next!;
    waitMs += performance.now() - waitStart;
    next = index + 1 < batches.length ? prepare(index + 1) : null;
    const batch = batches[index]!;
    const runStart = performance.now();
    const result = await session.embed(pixels, batch.length);
    inferenceMs += performance.now() - runStart;
    dims = result.dims;
    cache.putMany(
      key,
      params.key,
      batch.map((cell, i) => ({ cell, vector: result.data.slice(i * result.dims, (i + 1) * result.dims) })),
    );
    embedded += batch.length;
    options.progress?.(cached.size + embedded, cells.length);
  }
  if (next) await next.catch(() => undefined);
  return {
    total: cells.length,
    skipped: cached.size,
    embedded,
    cancelled: embedded < todo.length,
    dims,
    inferenceMs,
    waitMs,
    wallMs: performance.now() - started,
  };
}
