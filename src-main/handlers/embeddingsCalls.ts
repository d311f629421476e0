import { UserFacingError } from '../contract/errors';
import { EmbeddingCache, labelledCells } from '../services/embeddings/EmbeddingCache';
import { DEFAULT_BATCH_SIZE, extractEmbeddings, refuseSlidesWithoutMpp, staticBatchSize, workerEmbeddingSession } from '../services/embeddings/EmbeddingExtractor';
import { embeddingMap, UMAP_SEED } from '../services/embeddings/embeddingMap';
import { UmapWorker } from '../services/embeddings/umap';
import umapWorkerPath from '../services/embeddings/umapWorker?modulePath';
import { modelKey, patchParameters } from '../services/embeddings/patches';
import { registryOf, runtimeOf } from './modelsCalls';
import type { HandlerTable } from './handlerTable';
import type { Workspace } from './Workspace';

type EmbeddingsCalls = Pick<HandlerTable, 'embeddings.extract' | 'embeddings.status' | 'embeddings.map'>;

let umapWorker: UmapWorker | null = null;

/** The app's one UMAP worker thread, started on the first UMAP map. */
function umapWorkerOf(): UmapWorker {
  umapWorker ??= new UmapWorker({ file: umapWorkerPath });
  return umapWorker;
}

export function embeddingsHandlers(workspace: Workspace): EmbeddingsCalls {
  const modelOf = (modelId: number) => registryOf(workspace).get(modelId);
  return {
    'embeddings.extract': async ({ modelId, slideIds, batchSize = DEFAULT_BATCH_SIZE, precision = 'float32', provider }) => {
      const model = modelOf(modelId);
      const library = workspace.slides();
      const db = workspace.database().db;
      patchParameters(model);
      refuseSlidesWithoutMpp(library, slideIds);
      const title = `Embeddings: ${model.name}, ${slideIds.length} slide(s)`;
      const { result } = await workspace.jobs().run('embeddings.extract', title, { modelId, slideIds, batchSize, precision }, async (job) => {
        // A compiled checkpoint runs as one static-batch graph per batch size (built once, sharing the weights file).
        const onnxPath = await registryOf(workspace).variant(model, batchSize, precision);
        const lease = await runtimeOf().acquire(onnxPath, provider);
        try {
          return await extractEmbeddings({
            db,
            library,
            model,
            session: workerEmbeddingSession(lease.session.worker, model, await staticBatchSize(onnxPath)),
            slideIds,
            batchSize,
            precision,
            signal: job.signal,
            progress: (done, total, message) => job.progress(done, total, message),
          });
        } finally {
          lease.release();
        }
      });
      if (!result) throw new UserFacingError('internal', `${title}: the job ended without a result`);
      return result;
    },
    'embeddings.status': ({ modelId, precision }) => {
      const model = modelOf(modelId);
      const params = patchParameters(model);
      const db = workspace.database().db;
      const cells = labelledCells(db);
      const cached = new EmbeddingCache(db).cachedIds(modelKey(model, precision), params.key, cells).size;
      return { cached, total: cells.length, width: params.width, height: params.height, umPerPixel: params.umPerPixel, interpolation: params.interpolation };
    },
    'embeddings.map': async ({ modelId, colourBy, precision, projection = 'pca' }) => {
      const model = modelOf(modelId);
      const params = patchParameters(model);
      const library = workspace.slides();
      const slideOf = (slideId: number) => {
        const slide = library.get(slideId);
        return { name: slide.name, tags: slide.tags };
      };
      return embeddingMap(workspace.database().db, modelKey(model, precision), params.key, slideOf, {
        colourBy,
        projection,
        umap: (vectors) => umapWorkerOf().project(vectors, UMAP_SEED),
      });
    },
  };
}
