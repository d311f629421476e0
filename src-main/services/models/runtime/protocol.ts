/**
 * The messages between the main thread and a session worker (workerMain.ts). ONNX Runtime's
 * `InferenceSession.create` and `session.run` block the thread that calls them (ONNX-TRAINING.md
 * pitfall 10), so every session lives in a worker_thread and is reached through these messages.
 */

/** Execution providers as onnxruntime-node names them. */
export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml';

/** A tensor crossing the thread boundary: float32 pixels and embeddings; float64, int64 (labels) and bool (dropout masks, as bytes) for training. */
export interface WorkerTensor<Data extends WorkerTensorData = WorkerTensorData> {
  readonly dims: readonly number[];
  readonly data: Data;
}

export type WorkerTensorData = Float32Array | Float64Array | BigInt64Array | Uint8Array;

export type WorkerRequest =
  | { readonly type: 'open'; readonly id: number; readonly modelPath: string; readonly provider: ExecutionProvider }
  | {
      readonly type: 'run';
      readonly id: number;
      readonly feeds: Readonly<Record<string, WorkerTensor>>;
      readonly outputs: readonly string[];
      /** Feeds whose arrays are moved back with the result (see SessionWorker.runLending). */
      readonly lent: readonly string[];
    }
  | {
      readonly type: 'time';
      readonly id: number;
      readonly inputName: string;
      readonly dims: readonly number[];
      readonly warmup: number;
      readonly runs: number;
    }
  | { readonly type: 'close'; readonly id: number };

export interface OpenedSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

export type WorkerResult =
  | { readonly type: 'open'; readonly session: OpenedSession }
  | { readonly type: 'run'; readonly outputs: Readonly<Record<string, WorkerTensor>>; readonly returned: Readonly<Record<string, WorkerTensorData>> }
  | { readonly type: 'time'; readonly msPerRun: number }
  | { readonly type: 'close' };

export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly result: WorkerResult }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** What the worker is started with. */
export interface SessionWorkerData {
  readonly kind: 'mitobench-session-worker';
}
