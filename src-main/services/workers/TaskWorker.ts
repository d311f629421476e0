import { Worker } from 'node:worker_threads';
import type { WorkerEntry } from '../models/runtime/SessionWorker';
import type { TaskFailure, TaskRequest, TaskResponse, TaskWorkerData } from './taskProtocol';

interface Waiting<Result> {
  readonly resolve: (result: Result) => void;
  readonly reject: (error: Error) => void;
}

/**
 * CPU-heavy work of the main process (fitting linear probes, UMAP) on one worker thread, so the
 * process keeps answering the window meanwhile. Requests are answered in order. The thread starts
 * on the first request, does not keep the process alive, and is started again after a crash
 * (which fails the requests it had).
 */
export class TaskWorker<Request, Result> {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting<Result>>();
  private nextId = 1;

  /** `errorOf` turns a task's failure back into the error it was (default: an Error with its message). */
  constructor(
    private readonly entry: WorkerEntry,
    private readonly kind: string,
    private readonly errorOf: (failure: TaskFailure) => Error = (failure) => new Error(failure.message),
  ) {}

  run(request: Request, transfer: readonly ArrayBuffer[] = []): Promise<Result> {
    const worker = this.thread();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, request } satisfies TaskRequest<Request>, [...transfer]);
    });
  }

  /** Stops the thread; requests still waiting fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const data: TaskWorkerData = { kind: this.kind };
    const worker = new Worker(this.entry.file, { workerData: data, execArgv: this.entry.execArgv ? [...this.entry.execArgv] : undefined });
    worker.unref();
    worker.on('message', (response: TaskResponse<Result>) => {
      const waiting = this.waiting.get(response.id);
      if (!waiting) return;
      this.waiting.delete(response.id);
      if (response.ok) waiting.resolve(response.result);
      else waiting.reject(this.errorOf(response.failure));
    });
    const failAll = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const waiting of this.waiting.values()) waiting.reject(error);
      this.waiting.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`the ${this.kind} worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }
}

/** Whether a typed array owns its whole buffer, so the buffer can be moved to a worker. */
export function ownsBuffer<T extends ArrayBufferView>(values: T): values is T & { readonly buffer: ArrayBuffer } {
  return values.byteOffset === 0 && values.byteLength === values.buffer.byteLength && values.buffer instanceof ArrayBuffer;
}
