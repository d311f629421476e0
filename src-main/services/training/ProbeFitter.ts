import type { WorkerEntry } from '../models/runtime/SessionWorker';
import { ownsBuffer, TaskWorker } from '../workers/TaskWorker';
import { fitLinearProbe } from './linearProbe';
import type { FeatureMatrix, LinearProbe, LinearProbeOptions } from './linearProbe';
import { TrainingError } from './TrainingError';

/** Fits linear probes (linearProbe.ts). The matrix's values may be moved away (unusable afterwards), not copied. */
export interface ProbeFitter {
  fit(matrix: FeatureMatrix, labels: readonly number[], options: LinearProbeOptions): Promise<LinearProbe>;
}

/** Fits on the calling thread: for the command line and tests, where nothing else waits on it. */
export const inThreadProbeFitter: ProbeFitter = {
  fit: async (matrix, labels, options) => fitLinearProbe(matrix, labels, options),
};

export const PROBE_WORKER_KIND = 'mitobench-probe-worker';

export interface ProbeRequest {
  readonly matrix: FeatureMatrix;
  readonly labels: readonly number[];
  readonly options: LinearProbeOptions;
}

/**
 * Fits on a worker thread (probeWorker.ts), so the app's main process keeps answering the window
 * while L-BFGS runs (seconds for 50,000 × 1,536 embeddings; a study fits hundreds of probes). A
 * fit that cannot work fails with the same TrainingError as in-thread.
 */
export class WorkerProbeFitter implements ProbeFitter {
  private readonly worker: TaskWorker<ProbeRequest, LinearProbe>;

  constructor(entry: WorkerEntry) {
    this.worker = new TaskWorker(entry, PROBE_WORKER_KIND, (failure) =>
      failure.name === 'TrainingError' && failure.fields.method !== undefined && failure.fields.reason !== undefined
        ? new TrainingError(failure.fields.method, failure.fields.reason)
        : new Error(failure.message),
    );
  }

  fit(matrix: FeatureMatrix, labels: readonly number[], options: LinearProbeOptions): Promise<LinearProbe> {
    return this.worker.run({ matrix, labels, options }, ownsBuffer(matrix.values) ? [matrix.values.buffer] : []);
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
