import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WorkerEntry } from '../../models/runtime/SessionWorker';
import type { AugmentRequest, AugmentResponse, AugmentTask, AugmentWorkerData } from './augmentProtocol';

/** Most augmentation workers: beyond four, reading patches, not augmenting them, limits a batch. */
const MAX_WORKERS = 4;

/** Workers for this machine: one core left for the main thread and the training session, at most four, at least one. */
export function defaultPoolSize(cores = os.availableParallelism()): number {
  return Math.max(1, Math.min(MAX_WORKERS, cores - 1));
}

interface Pending {
  readonly id: number;
  readonly task: AugmentTask;
  readonly resolve: (pixels: Float32Array) => void;
  readonly reject: (error: Error) => void;
}

interface PoolWorker {
  readonly thread: Worker;
  busy: Pending | null;
}

/**
 * Augmentation and normalisation off the main thread, on a few worker threads. Each worker runs
 * one task at a time; tasks wait in order for the next free worker. A worker that crashes fails
 * its task and the pool (every later task), as a broken data pipeline should stop training.
 */
export class AugmentPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private failure: Error | null = null;

  constructor(entry: WorkerEntry, size = defaultPoolSize()) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`an augmentation pool needs at least 1 worker (got ${size})`);
    const data: AugmentWorkerData = { kind: 'mitobench-augment-worker' };
    for (let i = 0; i < size; i++) {
      const thread = new Worker(entry.file, { workerData: data, execArgv: entry.execArgv ? [...entry.execArgv] : undefined });
      const worker: PoolWorker = { thread, busy: null };
      thread.on('message', (response: AugmentResponse) => this.finish(worker, response));
      thread.on('error', (error) => this.fail(error));
      thread.on('exit', (code) => this.fail(new Error(`an augmentation worker stopped (exit code ${code})`)));
      this.workers.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** The task's patch, augmented and normalised: 3 × height × width floats (CHW). */
  augment(task: AugmentTask): Promise<Float32Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, resolve, reject });
      this.dispatch();
    });
  }

  /** Ends the threads; waiting tasks fail. */
  async close(): Promise<void> {
    this.fail(new Error('the augmentation pool was closed'));
    await Promise.all(this.workers.map((worker) => worker.thread.terminate()));
  }

  private dispatch(): void {
    for (const worker of this.workers) {
      if (worker.busy) continue;
      const next = this.queue.shift();
      if (!next) return;
      worker.busy = next;
      const request: AugmentRequest = { id: next.id, task: next.task };
      worker.thread.postMessage(request);
    }
  }

  private finish(worker: PoolWorker, response: AugmentResponse): void {
    const pending = worker.busy;
    if (!pending || pending.id !== response.id) return;
    worker.busy = null;
    if (response.ok) pending.resolve(response.pixels);
    else pending.reject(new Error(response.message));
    this.dispatch();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const worker of this.workers) {
      worker.busy?.reject(error);
      worker.busy = null;
    }
    for (const pending of this.queue.splice(0)) pending.reject(error);
  }
}
