/// <reference types="electron-vite/node" />
import type { Database } from 'better-sqlite3';
import workerMainPath from '../services/models/runtime/workerMain?modulePath';
import { ModelRegistry } from '../services/models/ModelRegistry';
import { ModelRuntime } from '../services/models/runtime/ModelRuntime';
import type { HandlerTable } from './handlerTable';
import type { Workspace } from './Workspace';

type ModelsCalls = Pick<HandlerTable, 'models.list' | 'models.register' | 'models.embeddingCandidates' | 'models.remove' | 'models.providers' | 'models.testRun'>;

/** One registry per open project database. */
const registries = new WeakMap<Database, ModelRegistry>();

export function registryOf(workspace: Workspace): ModelRegistry {
  const project = workspace.database();
  let registry = registries.get(project.db);
  if (!registry) {
    registry = new ModelRegistry(project.db, project.cacheFolder);
    registries.set(project.db, registry);
  }
  return registry;
}

/** One runtime per process, shared by model and embedding calls: providers are probed once, on first use. */
let runtime: ModelRuntime | null = null;
export function runtimeOf(): ModelRuntime {
  runtime ??= new ModelRuntime({ entry: { file: workerMainPath } });
  return runtime;
}

export function modelsHandlers(workspace: Workspace): ModelsCalls {
  // Cached sessions hold the project's model files open: close them with the project.
  workspace.onEvent((name, payload) => {
    if (name === 'project.changed' && payload === null && runtime) void runtime.closeSessions();
  });
  return {
    'models.list': () => registryOf(workspace).list(),
    'models.register': async ({ path, embeddingOutput, inputShape, mean, std }) => {
      const registry = registryOf(workspace);
      const { result } = await workspace.jobs().run('models.register', `Register model ${path}`, { path }, (job) =>
        registry.register(path, { embeddingOutput, inputShape, mean, std, signal: job.signal, progress: (done, total, message) => job.progress(done, total, message) }),
      );
      return result;
    },
    'models.embeddingCandidates': ({ path }) => registryOf(workspace).embeddingCandidates(path),
    'models.remove': async ({ modelId }) => {
      // Idle sessions may hold the files about to be deleted (Windows refuses to delete open files).
      await runtime?.closeSessions();
      await registryOf(workspace).remove(modelId);
      return {};
    },
    'models.providers': () => runtimeOf().providers(),
    'models.testRun': async ({ modelId, provider }) => {
      const model = registryOf(workspace).get(modelId);
      return runtimeOf().testRun(model.onnxPath, { name: model.config.inputName, dims: model.config.inputShape }, provider);
    },
  };
}
