import { createHash } from 'node:crypto';
import { UMAP } from 'umap-js';
import { seededRandom } from '../random/seededRandom';
import type { WorkerEntry } from '../models/runtime/SessionWorker';
import { TaskWorker } from '../workers/TaskWorker';

/** UMAP's neighbourhood (umap-learn's default n_neighbors). */
const NEIGHBOURS = 15;
/** How tightly points may pack on the map (umap-learn's default min_dist). */
const MIN_DIST = 0.1;
/** Fewer cells than this give no neighbourhood graph worth drawing. */
export const UMAP_MIN_CELLS = 4;

/**
 * The 2-D UMAP (McInnes et al., through umap-js) of the vectors, Euclidean, up to 15 neighbours,
 * min_dist 0.1, seeded so the same cells give the same map. Far more work than PCA (a
 * nearest-neighbour graph, then hundreds of layout epochs): the app runs it on a worker thread
 * (UmapWorker).
 */
export function umap2(vectors: readonly Float32Array[], seed: number): [number, number][] {
  if (vectors.length < UMAP_MIN_CELLS) throw new Error(`UMAP needs at least ${UMAP_MIN_CELLS} embedded cells, not ${vectors.length}`);
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(NEIGHBOURS, vectors.length - 1), minDist: MIN_DIST, random: seededRandom(seed) });
  return umap.fit(vectors.map((vector) => Array.from(vector))).map(([x, y]) => [x!, y!]);
}

export interface UmapRequest {
  readonly vectors: readonly Float32Array[];
  readonly seed: number;
}

export const UMAP_WORKER_KIND = 'mitobench-umap-worker';

/** Layouts kept, by their input: recolouring a map (by class, by a tag) does not lay it out again. */
const KEPT_LAYOUTS = 4;

/**
 * umap2 on a worker thread (umapWorker.ts), so the main process keeps answering the window; the
 * last few layouts are kept by a hash of their vectors and seed.
 */
export class UmapWorker {
  private readonly worker: TaskWorker<UmapRequest, [number, number][]>;
  private readonly layouts = new Map<string, Promise<[number, number][]>>();

  constructor(entry: WorkerEntry) {
    this.worker = new TaskWorker(entry, UMAP_WORKER_KIND);
  }

  project(vectors: readonly Float32Array[], seed: number): Promise<[number, number][]> {
    const hash = createHash('sha256').update(`${seed}:${vectors.length}:`);
    for (const vector of vectors) hash.update(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength));
    const key = hash.digest('hex');
    let layout = this.layouts.get(key);
    if (!layout) {
      layout = this.worker.run({ vectors, seed });
      // A failed layout is not kept.
      layout.catch(() => this.layouts.delete(key));
    }
    this.layouts.delete(key);
    this.layouts.set(key, layout);
    while (this.layouts.size > KEPT_LAYOUTS) this.layouts.delete(this.layouts.keys().next().value!);
    return layout;
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
