import { Worker } from 'node:worker_threads';
import type { WorkerEntry } from '../models/runtime/SessionWorker';
import { fitLinearProbe } from './linearProbe';
import type { FeatureMatrix, LinearProbe, LinearProbeOptions } from './linearProbe';
import type { ProbeRequest, ProbeResponse, ProbeWorkerData } from './probeWorkerProtocol';
import { TrainingError } from './TrainingError';

/** Fits linear probes (linearProbe.ts). The matrix's values may be moved away (unusable afterwards), not copied. */
export interface ProbeFitter {
  fit(matrix: FeatureMatrix, labels: readonly number[], options: LinearProbeOptions): Promise<LinearProbe>;
}

/** Fits on the calling thread: for the command line and tests, where nothing else waits on it. */
export const inThreadProbeFitter: ProbeFitter = {
  fit: async (matrix, labels, options) => fitLinearProbe(matrix, labels, options),
};

interface Waiting {
  readonly resolve: (probe: LinearProbe) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Fits on a worker thread, one request after another, so the app's main process keeps answering
 * the window while L-BFGS runs (seconds for 50,000 × 1,536 embeddings, and a study fits hundreds
 * of probes). The thread starts on the first fit, does not keep the process alive, and is started
 * again after a crash (which fails the fits it had).
 */
export class WorkerProbeFitter implements ProbeFitter {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;

  constructor(private readonly entry: WorkerEntry) {}

  fit(matrix: FeatureMatrix, labels: readonly number[], options: LinearProbeOptions): Promise<LinearProbe> {
    const worker = this.thread();
    const id = this.nextId++;
    const request: ProbeRequest = { id, matrix, labels: [...labels], options };
    const values = matrix.values;
    const movable = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength && values.buffer instanceof ArrayBuffer;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage(request, movable ? [values.buffer as ArrayBuffer] : []);
    });
  }

  /** Stops the thread; fits still waiting fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const data: ProbeWorkerData = { kind: 'mitobench-probe-worker' };
    const worker = new Worker(this.entry.file, { workerData: data, execArgv: this.entry.execArgv ? [...this.entry.execArgv] : undefined });
    worker.unref();
    worker.on('message', (response: ProbeResponse) => {
      const waiting = this.waiting.get(response.id);
      if (!waiting) return;
      this.waiting.delete(response.id);
      if (response.ok) waiting.resolve(response.probe);
      else waiting.reject(response.trainingError ? new TrainingError(response.trainingError.method, response.trainingError.reason) : new Error(response.message));
    });
    const failAll = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const waiting of this.waiting.values()) waiting.reject(error);
      this.waiting.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`the linear-probe worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
