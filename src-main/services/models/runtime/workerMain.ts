import { parentPort, workerData } from 'node:worker_threads';
// The one module of the app that loads ONNX Runtime itself; it runs only inside a worker thread.
import * as ort from 'onnxruntime-node';
import type { WorkerTensor, WorkerTensorData, SessionWorkerData, WorkerRequest, WorkerResponse, WorkerResult } from './protocol';

/**
 * A worker thread holding at most one ONNX Runtime session. Requests are answered in order;
 * failures come back as messages (the session's own error text), never as a crashed worker.
 */
let session: ort.InferenceSession | null = null;

function requireSession(): ort.InferenceSession {
  if (!session) throw new Error('no session is open in this worker');
  return session;
}

function toOrt({ data, dims }: WorkerTensor): ort.Tensor {
  if (data instanceof Float32Array) return new ort.Tensor('float32', data, [...dims]);
  if (data instanceof Float64Array) return new ort.Tensor('float64', data, [...dims]);
  // Bytes are bool masks (the only byte inputs the app's graphs take).
  if (data instanceof Uint8Array) return new ort.Tensor('bool', data, [...dims]);
  return new ort.Tensor('int64', data, [...dims]);
}

/** A copy of an output that outlives the session's buffers. */
function fromOrt(name: string, value: ort.Tensor): WorkerTensor {
  const dims = [...value.dims];
  if (value.type === 'float32') return { dims, data: Float32Array.from(value.data as Float32Array) };
  if (value.type === 'float64') return { dims, data: Float64Array.from(value.data as Float64Array) };
  if (value.type === 'int64') return { dims, data: BigInt64Array.from(value.data as BigInt64Array) };
  throw new Error(`output "${name}" is ${value.type}; a session worker returns float32, float64 or int64`);
}

async function handle(request: WorkerRequest): Promise<WorkerResult> {
  switch (request.type) {
    case 'open': {
      if (session) await session.release();
      session = null;
      const created = await ort.InferenceSession.create(request.modelPath, {
        executionProviders: [request.provider],
        graphOptimizationLevel: 'all',
        // Pitfall 11: the memory pattern nearly doubles peak memory at equal speed.
        enableMemPattern: false,
        // A train step computes some forward tensors again in its backward pass rather than keep
        // them (Graph.recomputeInBackward); merging the copies back into the originals would keep
        // them alive after all. Mitobench's own graphs repeat nothing else.
        extra: { optimization: { disable_specified_optimizers: 'CommonSubexpressionElimination' } },
      });
      session = created;
      return { type: 'open', session: { inputNames: [...created.inputNames], outputNames: [...created.outputNames] } };
    }
    case 'run': {
      const current = requireSession();
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, tensor] of Object.entries(request.feeds)) feeds[name] = toOrt(tensor);
      const results = await current.run(feeds, [...request.outputs]);
      const outputs: Record<string, WorkerTensor> = {};
      for (const name of request.outputs) {
        const value = results[name];
        if (!value) throw new Error(`the model gave no output "${name}"`);
        outputs[name] = fromOrt(name, value);
      }
      const returned: Record<string, WorkerTensorData> = {};
      for (const name of request.lent) returned[name] = request.feeds[name]!.data;
      return { type: 'run', outputs, returned };
    }
    case 'time': {
      const current = requireSession();
      const length = request.dims.reduce((product, dim) => product * dim, 1);
      const data = new Float32Array(length);
      for (let i = 0; i < length; i++) data[i] = Math.random() * 2 - 1;
      const feeds = { [request.inputName]: new ort.Tensor('float32', data, [...request.dims]) };
      // Pitfall 14: the first runs grow the memory pools; warm up before timing.
      for (let i = 0; i < request.warmup; i++) await current.run(feeds);
      const started = performance.now();
      for (let i = 0; i < request.runs; i++) await current.run(feeds);
      return { type: 'time', msPerRun: (performance.now() - started) / Math.max(1, request.runs) };
    }
    case 'close': {
      if (session) await session.release();
      session = null;
      return { type: 'close' };
    }
  }
}

const port = parentPort;
if (port && (workerData as SessionWorkerData | undefined)?.kind === 'mitobench-session-worker') {
  let queue = Promise.resolve();
  port.on('message', (request: WorkerRequest) => {
    queue = queue.then(async () => {
      let response: WorkerResponse;
      try {
        response = { id: request.id, ok: true, result: await handle(request) };
      } catch (error) {
        response = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
      }
      // Outputs are fresh copies (fromOrt): move them to the main thread instead of copying again,
      // with the lent feeds' arrays.
      const result = response.ok && response.result.type === 'run' ? response.result : null;
      const transfer = result
        ? [...Object.values(result.outputs).map((tensor) => tensor.data), ...Object.values(result.returned)].map((data) => data.buffer as ArrayBuffer)
        : [];
      port.postMessage(response, transfer);
    });
  });
}
