import { UserFacingError } from '../contract/errors';
import { EmbeddingCache, labelledCells } from '../services/embeddings/EmbeddingCache';
import { extractEmbeddings, hasDynamicBatch, refuseSlidesWithoutMpp, workerEmbeddingSession } from '../services/embeddings/EmbeddingExtractor';
import { embeddingMap } from '../services/embeddings/embeddingMap';
import { modelKey, patchParameters } from '../services/embeddings/patches';
import { registryOf, runtimeOf } from './modelsCalls';
import type { HandlerTable } from './handlerTable';
import type { Workspace } from './Workspace';

type EmbeddingsCalls = Pick<HandlerTable, 'embeddings.extract' | 'embeddings.status' | 'embeddings.map'>;

export function embeddingsHandlers(workspace: Workspace): EmbeddingsCalls {
  const modelOf = (modelId: number) => registryOf(workspace).get(modelId);
  return {
    'embeddings.extract': async ({ modelId, slideIds, batchSize }) => {
      const model = modelOf(modelId);
      const library = workspace.slides();
      const db = workspace.database().db;
      patchParameters(model);
      refuseSlidesWithoutMpp(library, slideIds);
      const title = `Embeddings: ${model.name}, ${slideIds.length} slide(s)`;
      const { result } = await workspace.jobs().run('embeddings.extract', title, { modelId, slideIds }, async (job) => {
        const dynamicBatch = await hasDynamicBatch(model.onnxPath);
        const opened = await runtimeOf().createSession(model.onnxPath);
        try {
          return await extractEmbeddings({
            db,
            library,
            model,
            session: workerEmbeddingSession(opened.worker, model, dynamicBatch),
            slideIds,
            batchSize,
            signal: job.signal,
            progress: (done, total, message) => job.progress(done, total, message),
          });
        } finally {
          await opened.worker.close();
        }
      });
      if (!result) throw new UserFacingError('internal', `${title}: the job ended without a result`);
      return result;
    },
    'embeddings.status': ({ modelId }) => {
      const model = modelOf(modelId);
      const params = patchParameters(model);
      const db = workspace.database().db;
      const cells = labelledCells(db);
      const cached = new EmbeddingCache(db).cachedIds(modelKey(model), params.key, cells).size;
      return { cached, total: cells.length, width: params.width, height: params.height, umPerPixel: params.umPerPixel, interpolation: params.interpolation };
    },
    'embeddings.map': ({ modelId, colourBy }) => {
      const model = modelOf(modelId);
      const params = patchParameters(model);
      const library = workspace.slides();
      return embeddingMap(workspace.database().db, modelKey(model), params.key, colourBy, (slideId) => {
        const slide = library.get(slideId);
        return { name: slide.name, tags: slide.tags };
      });
    },
  };
}
