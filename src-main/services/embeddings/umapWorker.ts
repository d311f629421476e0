import { serveTasks } from '../workers/serveTasks';
import { UMAP_WORKER_KIND, umap2 } from './umap';
import type { UmapRequest } from './umap';

/** The UMAP worker thread: one projection per request. */
serveTasks<UmapRequest, [number, number][]>(UMAP_WORKER_KIND, ({ vectors, seed }) => ({ result: umap2(vectors, seed) }));
