import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/services/graph/Graph';
import { gelu } from '../../../src-main/services/graph/ops/gelu';
import { matMul } from '../../../src-main/services/graph/ops/matMul';
import { writeModel } from '../../../src-main/services/graph/writeModel';
import { ModelRuntime } from '../../../src-main/services/models/runtime/ModelRuntime';
import { SessionCache } from '../../../src-main/services/models/runtime/SessionCache';
import { SessionWorker } from '../../../src-main/services/models/runtime/SessionWorker';
import { makeTempDir, randomFloat32, removeTempDir, seededRandom } from '../graph/ortHarness';

/** The worker's TypeScript, loaded through tsx (the built app loads the bundled file). */
export const TEST_WORKER_ENTRY = { file: path.join(import.meta.dirname, 'runtimeWorkerEntry.mjs') };

const dir = makeTempDir('mitobench-runtime-');
afterAll(() => removeTempDir(dir));

async function tinyModel(): Promise<{ modelPath: string; weights: Float32Array }> {
  const random = seededRandom(7);
  const weights = randomFloat32(6 * 4, random);
  const graph = new Graph('tiny');
  const x = graph.input('pixels', 'float32', [1, 6]);
  graph.output(gelu(graph, matMul(graph, x, graph.initializer('w', 'float32', [6, 4], weights))), 'embedding');
  const modelPath = path.join(dir, 'tiny.onnx');
  await writeModel(graph, modelPath);
  return { modelPath, weights };
}

describe('ModelRuntime', () => {
  it('detects the CPU provider, and says why the others are unavailable', async () => {
    const runtime = new ModelRuntime({ entry: TEST_WORKER_ENTRY, candidates: ['cuda', 'cpu'] });
    const statuses = await runtime.providers();
    expect(statuses.find((status) => status.provider === 'cpu')).toEqual({ provider: 'cpu', available: true });
    const cuda = statuses.find((status) => status.provider === 'cuda')!;
    // The CPU build of onnxruntime-node carries no CUDA provider.
    expect(cuda.available).toBe(false);
    expect(cuda.reason).toMatch(/\S/);
  });

  it('falls back to CPU with the reason when the preferred provider cannot start', async () => {
    const { modelPath } = await tinyModel();
    const runtime = new ModelRuntime({ entry: TEST_WORKER_ENTRY, candidates: ['cuda', 'cpu'] });
    const opened = await runtime.createSession(modelPath, 'cuda');
    try {
      expect(opened.provider).toBe('cpu');
      expect(opened.fellBackFrom).toBe('cuda');
      expect(opened.reason).toBe((await runtime.providers()).find((status) => status.provider === 'cuda')!.reason);
    } finally {
      await opened.worker.close();
    }
    const timed = await runtime.testRun(modelPath, { name: 'pixels', dims: [1, 6] }, 'cuda', 3);
    expect(timed.provider).toBe('cpu');
    expect(timed.fellBackFrom).toBe('cuda');
    expect(timed.msPerImage).toBeGreaterThan(0);
  });

  it('gives the same output in its worker as a direct ONNX Runtime session', async () => {
    const { modelPath } = await tinyModel();
    const input = Float32Array.from([0.5, -1, 2, 0.25, -0.75, 1.5]);
    const direct = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
    const expected = (await direct.run({ pixels: new ort.Tensor('float32', input, [1, 6]) })).embedding!;
    await direct.release();

    const worker = new SessionWorker(TEST_WORKER_ENTRY);
    try {
      const opened = await worker.open(modelPath, 'cpu');
      expect(opened).toEqual({ inputNames: ['pixels'], outputNames: ['embedding'] });
      const { embedding } = await worker.runFloat32({ pixels: { dims: [1, 6], data: input } }, ['embedding']);
      expect(embedding!.dims).toEqual([1, 4]);
      expect(Array.from(embedding!.data)).toEqual(Array.from(expected.data as Float32Array));
      await expect(worker.run({ nothing: { dims: [1], data: Float32Array.of(1) } }, ['embedding'])).rejects.toThrow(/nothing|input/i);
    } finally {
      await worker.close();
    }
  });

  it('lends feeds to the worker for one run and gives the same arrays back, unchanged', async () => {
    const { modelPath } = await tinyModel();
    const worker = new SessionWorker(TEST_WORKER_ENTRY);
    try {
      await worker.open(modelPath, 'cpu');
      const input = Float32Array.from([0.5, -1, 2, 0.25, -0.75, 1.5]);
      const { embedding: expected } = await worker.run({ pixels: { dims: [1, 6], data: input.slice() } }, ['embedding']);
      const lent = input.slice();
      const { outputs, returned } = await worker.runLending({ pixels: { dims: [1, 6], data: lent } }, ['embedding'], ['pixels']);
      expect(lent.length).toBe(0); // moved to the worker…
      expect(Array.from(returned.pixels as Float32Array)).toEqual(Array.from(input)); // …and back
      expect(Array.from(outputs.embedding!.data as Float32Array)).toEqual(Array.from(expected!.data as Float32Array));
      await expect(worker.runLending({ pixels: { dims: [1, 6], data: new Float32Array(12).subarray(0, 6) } }, ['embedding'], ['pixels'])).rejects.toThrow(
        /feed "pixels" cannot be moved to the worker: it must own a whole ArrayBuffer/,
      );
    } finally {
      await worker.close();
    }
  });

  it('a missing model file fails on CPU with the file named', async () => {
    const runtime = new ModelRuntime({ entry: TEST_WORKER_ENTRY, candidates: ['cpu'] });
    await expect(runtime.createSession(path.join(dir, 'absent.onnx'))).rejects.toThrow(/absent\.onnx/);
  });
});

describe('session cache', () => {
  it('reuses the open session for the same model and provider, replaces a stopped one, and closes idle ones', async () => {
    const { modelPath } = await tinyModel();
    const runtime = new ModelRuntime({ entry: TEST_WORKER_ENTRY, candidates: ['cpu'], idleSessionMs: 200 });
    const first = await runtime.acquire(modelPath, 'cpu');
    const second = await runtime.acquire(modelPath, 'cpu');
    expect(second.session).toBe(first.session);
    first.release();
    second.release();
    const third = await runtime.acquire(modelPath, 'cpu');
    expect(third.session).toBe(first.session);
    // A worker that stopped (crashed or closed elsewhere) is not handed out again.
    await third.session.worker.close();
    third.release();
    const fresh = await runtime.acquire(modelPath, 'cpu');
    expect(fresh.session).not.toBe(first.session);
    expect(fresh.session.worker.stopped).toBe(false);
    fresh.release();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(fresh.session.worker.stopped).toBe(true);
  });
});

describe('SessionCache', () => {
  function countingCache(maxIdle: number) {
    const opened: string[] = [];
    const closed: string[] = [];
    const cache = new SessionCache<{ key: string }>({
      open: async (key) => {
        if (key === 'bad') throw new Error('cannot open bad');
        opened.push(key);
        return { key };
      },
      close: async (session) => {
        closed.push(session.key);
      },
      maxIdle,
      idleMs: 60_000,
    });
    return { cache, opened, closed };
  }

  it('opens once for concurrent callers, keeps at most maxIdle idle sessions (least recently released closed first), never closes a leased one', async () => {
    const { cache, opened, closed } = countingCache(1);
    const [a1, a2] = await Promise.all([cache.acquire('a'), cache.acquire('a')]);
    expect(opened).toEqual(['a']);
    const b = await cache.acquire('b');
    a1.release();
    expect(closed).toEqual([]);
    a2.release();
    b.release();
    await Promise.resolve();
    expect(closed).toEqual(['a']);
    expect(cache.openKeys()).toEqual(['b']);
    await cache.closeAll();
    expect(closed).toEqual(['a', 'b']);
  });

  it('does not keep a failed opening', async () => {
    const { cache } = countingCache(2);
    await expect(cache.acquire('bad')).rejects.toThrow('cannot open bad');
    expect(cache.openKeys()).toEqual([]);
  });
});

