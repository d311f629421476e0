import type { Database } from 'better-sqlite3';
import { UserFacingError } from '../contract/errors';
import { trainingSpecSchema } from '../contract/trainingSchemas';
import augmentWorkerPath from '../services/training/data/augmentWorker?modulePath';
import probeWorkerPath from '../services/training/probeWorker?modulePath';
import { WorkerProbeFitter } from '../services/training/ProbeFitter';
import { TrainingService } from '../services/training/TrainingService';
import { registryOf, runtimeOf } from './modelsCalls';
import type { HandlerTable } from './handlerTable';
import type { Workspace } from './Workspace';

type TrainingCalls = Pick<
  HandlerTable,
  'training.start' | 'training.resume' | 'training.list' | 'training.get' | 'training.remove' | 'training.predict' | 'training.predictions'
>;

let probeFitter: WorkerProbeFitter | null = null;

/** The app's one linear-probe worker thread (training and studies), started on the first fit. */
export function probeFitterOf(): WorkerProbeFitter {
  probeFitter ??= new WorkerProbeFitter({ file: probeWorkerPath });
  return probeFitter;
}

/** One training service per open project database; adapters left training by a stopped app are marked resumable. */
const services = new WeakMap<Database, TrainingService>();

export function trainingServiceOf(workspace: Workspace): TrainingService {
  const project = workspace.database();
  let service = services.get(project.db);
  if (!service) {
    service = new TrainingService({
      db: project.db,
      library: workspace.slides(),
      registry: registryOf(workspace),
      runtime: runtimeOf(),
      jobs: workspace.jobs(),
      appVersion: workspace.version,
      augmentEntry: { file: augmentWorkerPath },
      probeFitter: probeFitterOf(),
    });
    service.store.markInterrupted();
    services.set(project.db, service);
  }
  return service;
}

export function trainingHandlers(workspace: Workspace): TrainingCalls {
  const service = () => trainingServiceOf(workspace);
  return {
    // The input is checked against the schema already; parsing again fills in the defaults.
    'training.start': (spec) => ({ adapterId: service().start(trainingSpecSchema.parse(spec)).adapterId }),
    'training.resume': ({ adapterId }) => ({ adapterId: service().resume(adapterId).adapterId }),
    'training.list': () => service().store.list(),
    'training.get': ({ adapterId }) => service().store.get(adapterId),
    'training.remove': ({ adapterId }) => {
      const adapter = service().store.get(adapterId);
      if (adapter.status === 'training') throw new UserFacingError('invalid-argument', `"${adapter.name}" is still training: cancel its job first.`);
      service().store.remove(adapterId);
      return {};
    },
    'training.predict': ({ adapterId, slideIds, points }) => service().predict(adapterId, { slideIds, points }),
    'training.predictions': ({ adapterId, slideId, limit }) => service().predictions(adapterId, slideId, limit ?? 1000),
  };
}
