import { normaliseInto } from '../../embeddings/patches';
import { applyAugmentation } from './augment';
import type { AugmentationParams, RgbImage } from './augment';

/**
 * The messages between the main thread and an augmentation worker (augmentWorker.ts). A task
 * carries its drawn parameters, never random state, so which worker runs it does not matter.
 */

export type Triple = readonly [number, number, number];

/** One patch: the source crop, the patch size and augmentation, and the model's normalisation. */
export interface AugmentTask {
  readonly source: RgbImage;
  readonly width: number;
  readonly height: number;
  readonly params: AugmentationParams;
  readonly mean: Triple;
  readonly std: Triple;
}

export interface AugmentRequest {
  readonly id: number;
  readonly task: AugmentTask;
}

export type AugmentResponse = { readonly id: number; readonly ok: true; readonly pixels: Float32Array } | { readonly id: number; readonly ok: false; readonly message: string };

export interface AugmentWorkerData {
  readonly kind: 'mitobench-augment-worker';
}

/** The augmented patch normalised as the model expects: one CHW float32 image, (value / 255 − mean) / std. */
export function augmentAndNormalise(task: AugmentTask): Float32Array {
  const patch = applyAugmentation(task.source, task.width, task.height, task.params);
  const pixels = new Float32Array(3 * task.width * task.height);
  normaliseInto(pixels, 0, patch.rgb, patch.width, patch.height, task.mean, task.std);
  return pixels;
}
