import { derivedSeed, seededRandom } from '../../random/seededRandom';
import { readModelPatch } from '../../slides/cellCrop';
import type { PatchInterpolation } from '../../slides/cellCrop';
import type { SlideLibrary } from '../../slides/SlideLibrary';
import { TrainingError } from '../TrainingError';
import { augmentationSourceSize, drawAugmentation, NO_AUGMENTATION } from './augment';
import type { AugmentationOptions, AugmentationParams } from './augment';
import type { AugmentPool } from './AugmentPool';
import type { Triple } from './augmentProtocol';
import { planPatches, PositiveCells, relabel } from './sampling';
import type { PatchSizePx, PlannedPatch, TrainingCell } from './sampling';

/**
 * The source crop around a level-0 point, as interleaved RGB of the fixed source size the
 * batches were configured with (larger than the model's patch, so rotation has tissue to turn in).
 */
export type PatchReader = (slideId: number, centreX: number, centreY: number) => Promise<Uint8Array>;

/** A reader of `sourceSize`-pixel square crops at the model's µm per pixel, each slide at its own scale. */
export function slidePatchReader(library: SlideLibrary, sourceSize: number, umPerPixel: number, interpolation: PatchInterpolation): PatchReader {
  return async (slideId, centreX, centreY) => {
    const downsample = umPerPixel / library.get(slideId).mppX!;
    return (await readModelPatch(library, slideId, centreX, centreY, sourceSize, sourceSize, downsample, interpolation)).rgb;
  };
}

export interface TrainingBatchOptions {
  /** Training-split cells to sample around. */
  readonly cells: readonly TrainingCell[];
  readonly batchSize: number;
  readonly seed: number;
  /** The model's square input side, in model pixels. */
  readonly patchSize: number;
  /** The same patch's side in level-0 pixels (patchSize × level-0 pixels per model pixel), or that per slide: for the shift and the label rule. */
  readonly patchSizePx: PatchSizePx;
  /** The reader's crop side in model pixels; by default just enough for any rotation (`augmentationSourceSize`). */
  readonly sourceSize?: number;
  readonly mean: Triple;
  readonly std: Triple;
  /** The positive class of a binary task, for the reference's label rule (see `relabel`); null for none. */
  readonly positiveLabel?: number | null;
  readonly maxShiftFraction?: number;
  /** What augmentation draws from; null trains on unaugmented patches. */
  readonly augmentation?: AugmentationOptions | null;
  readonly reader: PatchReader;
  readonly pool: AugmentPool;
}

/** One training batch: N × 3 × size × size floats, one int64 label per patch, and where each patch came from. */
export interface TrainingBatch {
  readonly index: number;
  readonly pixels: Float32Array;
  readonly labels: BigInt64Array;
  readonly cells: readonly PlannedPatch[];
}

/** A validation batch: centred patches of `cells`, padded to the batch size; only the first `realCount` are real. */
export interface ValidationBatch {
  readonly pixels: Float32Array;
  readonly labels: BigInt64Array;
  readonly cells: readonly TrainingCell[];
  readonly realCount: number;
}

const METHOD = 'training batches';

/**
 * Training batches sampled and augmented as in the reference (see sampling.ts, augment.ts).
 * Batch k depends only on (seed, k, cells): patches from the seed derived for "batch k",
 * augmentation from the one for "augmentation k", so resuming at batch k continues the same
 * sequence. `next()` starts reading the following batch before it returns, so patch reading and
 * augmentation overlap the caller's training step.
 */
export class TrainingBatches {
  private readonly sourceSize: number;
  private readonly positives: PositiveCells | null;
  private prefetched: { index: number; batch: Promise<TrainingBatch> } | null = null;
  private nextIndex: number;

  constructor(
    private readonly options: TrainingBatchOptions,
    firstBatch = 0,
  ) {
    const { batchSize, patchSize, patchSizePx } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrainingError(METHOD, `batch size must be a whole number ≥ 1 (got ${batchSize})`);
    if (!Number.isInteger(patchSize) || patchSize < 1) throw new TrainingError(METHOD, `patch size must be a whole number of model pixels ≥ 1 (got ${patchSize})`);
    if (typeof patchSizePx === 'number' && !(patchSizePx > 0)) throw new TrainingError(METHOD, `patchSizePx must be > 0 level-0 pixels (got ${patchSizePx})`);
    if (!Number.isInteger(firstBatch) || firstBatch < 0) throw new TrainingError(METHOD, `the first batch must be a whole number ≥ 0 (got ${firstBatch})`);
    if (options.cells.length === 0) throw new TrainingError(METHOD, 'there are no training cells');
    this.sourceSize = options.sourceSize ?? augmentationSourceSize(patchSize, patchSize).width;
    const positiveLabel = options.positiveLabel ?? null;
    this.positives = positiveLabel === null ? null : new PositiveCells(options.cells, positiveLabel);
    this.nextIndex = firstBatch;
  }

  /** Batch `index`, always the same for the same seed and cells. */
  async batch(index: number): Promise<TrainingBatch> {
    const { cells, batchSize, seed, patchSizePx, maxShiftFraction } = this.options;
    let planned = planPatches(cells, { count: batchSize, seed: derivedSeed(seed, `batch ${index}`), maxShiftFraction, patchSizePx });
    if (this.positives) planned = relabel(planned, this.positives, patchSizePx);
    const random = seededRandom(derivedSeed(seed, `augmentation ${index}`));
    const augmentation = this.options.augmentation;
    const params = planned.map(() => (augmentation ? drawAugmentation(random, augmentation) : NO_AUGMENTATION));
    const pixels = await this.composePixels(
      planned.map((patch) => ({ slideId: patch.cell.slideId, centreX: patch.centreX, centreY: patch.centreY })),
      params,
      batchSize,
    );
    return { index, pixels, labels: BigInt64Array.from(planned, (patch) => BigInt(patch.label)), cells: planned };
  }

  /** The next batch in sequence; the one after it starts loading before this returns. */
  async next(): Promise<TrainingBatch> {
    const index = this.nextIndex++;
    const current = this.prefetched?.index === index ? this.prefetched.batch : this.batch(index);
    const following = this.batch(index + 1);
    // Nobody may await a prefetch (training stops); its failure must not surface as unhandled.
    following.catch(() => undefined);
    this.prefetched = { index: index + 1, batch: following };
    return current;
  }

  /**
   * `cells` in their order as batches of `batchSize` centred, unaugmented patches with their own
   * labels (no shift, no relabelling). The last batch is padded with zeros (label 0) to the full
   * size, since train graphs have a static batch size; `realCount` says how many are real.
   */
  async *validationBatches(cells: readonly TrainingCell[], batchSize = this.options.batchSize): AsyncGenerator<ValidationBatch> {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrainingError(METHOD, `validation batch size must be a whole number ≥ 1 (got ${batchSize})`);
    const load = (start: number) => this.validationBatch(cells.slice(start, start + batchSize), batchSize);
    let pending = cells.length > 0 ? load(0) : null;
    for (let start = 0; pending; start += batchSize) {
      const current = pending;
      pending = start + batchSize < cells.length ? load(start + batchSize) : null;
      pending?.catch(() => undefined);
      yield await current;
    }
  }

  private async validationBatch(cells: readonly TrainingCell[], batchSize: number): Promise<ValidationBatch> {
    const pixels = await this.composePixels(
      cells.map((cell) => ({ slideId: cell.slideId, centreX: cell.x, centreY: cell.y })),
      cells.map(() => NO_AUGMENTATION),
      batchSize,
    );
    const labels = new BigInt64Array(batchSize);
    cells.forEach((cell, i) => (labels[i] = BigInt(cell.label)));
    return { pixels, labels, cells, realCount: cells.length };
  }

  /** Reads each patch's source crop, augments and normalises it in the pool, and places it in its NCHW slot. */
  private async composePixels(
    centres: readonly { slideId: number; centreX: number; centreY: number }[],
    params: readonly AugmentationParams[],
    batchSize: number,
  ): Promise<Float32Array> {
    const { patchSize, mean, std, reader, pool } = this.options;
    const imageLength = 3 * patchSize * patchSize;
    const pixels = new Float32Array(batchSize * imageLength);
    const expectedBytes = this.sourceSize * this.sourceSize * 3;
    await Promise.all(
      centres.map(async ({ slideId, centreX, centreY }, i) => {
        const rgb = await reader(slideId, centreX, centreY);
        if (rgb.length !== expectedBytes) {
          throw new TrainingError(METHOD, `the patch reader gave ${rgb.length} bytes for slide ${slideId} at (${centreX}, ${centreY}); a ${this.sourceSize}-pixel RGB crop has ${expectedBytes}`);
        }
        const source = { rgb, width: this.sourceSize, height: this.sourceSize };
        const image = await pool.augment({ source, width: patchSize, height: patchSize, params: params[i]!, mean, std });
        pixels.set(image, i * imageLength);
      }),
    );
    return pixels;
  }
}
