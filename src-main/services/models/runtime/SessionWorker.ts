import { Worker } from 'node:worker_threads';
import { ownsBuffer } from '../../workers/TaskWorker';
import type { ExecutionProvider, WorkerTensor, WorkerTensorData, OpenedSession, SessionWorkerData, WorkerRequest, WorkerResponse, WorkerResult } from './protocol';

/** Where the worker's code is: the built `workerMain` file, plus Node options (tests load the TypeScript through tsx). */
export interface WorkerEntry {
  readonly file: string;
  readonly execArgv?: readonly string[];
}

type Pending = { resolve: (result: WorkerResult) => void; reject: (error: Error) => void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** One ONNX Runtime session in its own worker thread, so a run never blocks the main thread. */
export class SessionWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;

  constructor(entry: WorkerEntry) {
    const data: SessionWorkerData = { kind: 'mitobench-session-worker' };
    this.worker = new Worker(entry.file, { workerData: data, execArgv: entry.execArgv ? [...entry.execArgv] : undefined });
    this.worker.on('message', (response: WorkerResponse) => {
      const waiting = this.pending.get(response.id);
      if (!waiting) return;
      this.pending.delete(response.id);
      if (response.ok) waiting.resolve(response.result);
      else waiting.reject(new Error(response.message));
    });
    const failAll = (error: Error) => {
      this.failure = error;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', failAll);
    this.worker.on('exit', (code) => failAll(new Error(`the model worker stopped (exit code ${code})`)));
  }

  private request<T extends WorkerResult['type']>(
    message: DistributiveOmit<WorkerRequest, 'id'> & { type: T },
    transfer: readonly ArrayBuffer[] = [],
  ): Promise<Extract<WorkerResult, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: WorkerResult) => void, reject });
      this.worker.postMessage({ ...message, id } as WorkerRequest, [...transfer]);
    });
  }

  /** Whether the thread has stopped (crashed, or closed): every request would fail. */
  get stopped(): boolean {
    return this.failure !== null;
  }

  async open(modelPath: string, provider: ExecutionProvider): Promise<OpenedSession> {
    return (await this.request({ type: 'open', modelPath, provider })).session;
  }

  /**
   * Runs the session. Feeds named in `transfer` are moved to the worker rather than copied (their
   * arrays are unusable here afterwards): for large one-use inputs such as a step's pixels.
   */
  async run(feeds: Readonly<Record<string, WorkerTensor>>, outputs: readonly string[], transfer: readonly string[] = []): Promise<Readonly<Record<string, WorkerTensor>>> {
    return (await this.request({ type: 'run', feeds, outputs, lent: [] }, movableBuffers(feeds, transfer))).outputs;
  }

  /**
   * `run`, moving the feeds named in `lent` to the worker and back with the outputs, for the
   * caller to refill: a LoRA step's dropout masks are ~10⁸ bytes, and allocating fresh ones each
   * step (zeroing and faulting in new pages) cost as much as drawing them.
   */
  async runLending(
    feeds: Readonly<Record<string, WorkerTensor>>,
    outputs: readonly string[],
    lent: readonly string[],
    transfer: readonly string[] = [],
  ): Promise<{ outputs: Readonly<Record<string, WorkerTensor>>; returned: Readonly<Record<string, WorkerTensorData>> }> {
    const { outputs: results, returned } = await this.request({ type: 'run', feeds, outputs, lent }, movableBuffers(feeds, [...lent, ...transfer]));
    return { outputs: results, returned };
  }

  /** `run` for outputs that must be float32 (embeddings, probabilities): a clear error otherwise. */
  async runFloat32(feeds: Readonly<Record<string, WorkerTensor>>, outputs: readonly string[]): Promise<Readonly<Record<string, WorkerTensor<Float32Array>>>> {
    const results = await this.run(feeds, outputs);
    for (const [name, tensor] of Object.entries(results)) {
      if (!(tensor.data instanceof Float32Array)) throw new Error(`output "${name}" is ${tensor.data.constructor.name}, not float32`);
    }
    return results as Readonly<Record<string, WorkerTensor<Float32Array>>>;
  }

  /** Milliseconds per forward pass on random input of `dims`, after `warmup` untimed passes. */
  async time(inputName: string, dims: readonly number[], runs: number, warmup = 2): Promise<number> {
    return (await this.request({ type: 'time', inputName, dims, runs, warmup })).msPerRun;
  }

  /** Releases the session and ends the thread. */
  async close(): Promise<void> {
    if (!this.failure) await this.request({ type: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }
}

/** The ArrayBuffers of the named feeds, each of which must own its whole buffer to be moved. */
function movableBuffers(feeds: Readonly<Record<string, WorkerTensor>>, names: readonly string[]): ArrayBuffer[] {
  return names.map((name) => {
    const data = feeds[name]?.data;
    if (!data || !ownsBuffer(data)) {
      throw new Error(`feed "${name}" cannot be moved to the worker: it must own a whole ArrayBuffer`);
    }
    return data.buffer;
  });
}
