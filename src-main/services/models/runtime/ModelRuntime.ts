import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Graph } from '../../graph/Graph';
import { add } from '../../graph/ops/add';
import { writeModel } from '../../graph/writeModel';
import type { ExecutionProvider, OpenedSession } from './protocol';
import { SessionCache } from './SessionCache';
import type { SessionLease } from './SessionCache';
import { SessionWorker } from './SessionWorker';
import type { WorkerEntry } from './SessionWorker';

export interface ProviderStatus {
  readonly provider: ExecutionProvider;
  readonly available: boolean;
  /** Why it cannot be used (ONNX Runtime's own words); undefined when available. */
  readonly reason?: string;
}

/** Fastest first: the order in which `createSession` tries providers on its own. */
const SPEED_ORDER: readonly ExecutionProvider[] = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

/** The providers worth trying on this platform; CPU always. */
export function platformProviders(platform: NodeJS.Platform = process.platform): ExecutionProvider[] {
  if (platform === 'win32') return ['webgpu', 'cuda', 'dml', 'cpu'];
  if (platform === 'darwin') return ['webgpu', 'coreml', 'cpu'];
  return ['webgpu', 'cuda', 'cpu'];
}

export interface OpenSession {
  readonly worker: SessionWorker;
  readonly session: OpenedSession;
  readonly provider: ExecutionProvider;
  /** The provider asked for, when it failed and another was used. */
  readonly fellBackFrom?: ExecutionProvider;
  readonly reason?: string;
}

export interface ModelRuntimeOptions {
  readonly entry: WorkerEntry;
  /** Default: the platform's providers. */
  readonly candidates?: readonly ExecutionProvider[];
  /** Idle sessions kept open for reuse (default 2), and for how long (default 2 minutes). */
  readonly maxIdleSessions?: number;
  readonly idleSessionMs?: number;
}

/**
 * Execution providers and sessions. `detect` tries each candidate provider by creating and
 * running a tiny model (WebGPU throws rather than falling back: pitfall 12), keeping each
 * failure's reason; `createSession` opens a model on the preferred or fastest working provider,
 * falling back to CPU and saying why.
 */
export class ModelRuntime {
  private detected: Promise<ProviderStatus[]> | null = null;
  private readonly sessions: SessionCache<OpenSession>;

  constructor(private readonly options: ModelRuntimeOptions) {
    this.sessions = new SessionCache<OpenSession>({
      open: (key) => {
        const [modelPath, preference] = JSON.parse(key) as [string, ExecutionProvider | null];
        return this.createSession(modelPath, preference ?? undefined);
      },
      close: (opened) => opened.worker.close(),
      maxIdle: options.maxIdleSessions,
      idleMs: options.idleSessionMs,
    });
  }

  /**
   * A shared session of `modelPath` on `preference` (default: the fastest provider), from the
   * cache when one is open (see SessionCache); release the lease when done, never close its
   * worker. A session whose worker has stopped is replaced.
   */
  async acquire(modelPath: string, preference?: ExecutionProvider): Promise<SessionLease<OpenSession>> {
    const key = JSON.stringify([modelPath, preference ?? null]);
    const lease = await this.sessions.acquire(key);
    if (!lease.session.worker.stopped) return lease;
    lease.release();
    await this.sessions.discard(key);
    return this.sessions.acquire(key);
  }

  /** Closes every cached session. */
  closeSessions(): Promise<void> {
    return this.sessions.closeAll();
  }

  get candidates(): readonly ExecutionProvider[] {
    return this.options.candidates ?? platformProviders();
  }

  /** Probes each candidate once (cached); CPU is always among them. */
  providers(): Promise<ProviderStatus[]> {
    this.detected ??= this.probeAll();
    return this.detected;
  }

  private async probeAll(): Promise<ProviderStatus[]> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mitobench-probe-'));
    try {
      const modelPath = path.join(dir, 'probe.onnx');
      const graph = new Graph('probe');
      const x = graph.input('x', 'float32', [1, 4]);
      graph.output(add(graph, x, graph.initializer('one', 'float32', [1, 4], Float32Array.of(1, 1, 1, 1))), 'y');
      await writeModel(graph, modelPath);
      const candidates = [...new Set<ExecutionProvider>([...this.candidates, 'cpu'])];
      const statuses: ProviderStatus[] = [];
      // One worker per provider: a failed WebGPU start leaves ONNX Runtime unable to retry in that thread.
      for (const provider of candidates) {
        const worker = new SessionWorker(this.options.entry);
        try {
          await worker.open(modelPath, provider);
          const { y } = await worker.run({ x: { dims: [1, 4], data: Float32Array.of(0, 1, 2, 3) } }, ['y']);
          if (!y || y.data[3] !== 4) throw new Error('the test model gave a wrong answer');
          statuses.push({ provider, available: true });
        } catch (error) {
          statuses.push({ provider, available: false, reason: (error as Error).message });
        } finally {
          await worker.close();
        }
      }
      return statuses;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Opens `modelPath` in a new worker on `preference` (default: the fastest available provider),
   * then on CPU when that fails; the result says which provider runs it and why another did not.
   */
  async createSession(modelPath: string, preference?: ExecutionProvider): Promise<OpenSession> {
    const statuses = await this.providers();
    const fastest = SPEED_ORDER.find((provider) => statuses.some((status) => status.provider === provider && status.available)) ?? 'cpu';
    const wanted = preference ?? fastest;
    const known = statuses.find((status) => status.provider === wanted);
    let reason: string | undefined;
    if (known && !known.available) reason = known.reason;
    else {
      const worker = new SessionWorker(this.options.entry);
      try {
        return { worker, session: await worker.open(modelPath, wanted), provider: wanted };
      } catch (error) {
        reason = (error as Error).message;
        await worker.close();
      }
      if (wanted === 'cpu') throw new Error(`${modelPath}: ONNX Runtime cannot open it on the CPU: ${reason}`);
    }
    const worker = new SessionWorker(this.options.entry);
    try {
      return { worker, session: await worker.open(modelPath, 'cpu'), provider: 'cpu', fellBackFrom: wanted, reason: reason ?? `${wanted} is not offered on this computer` };
    } catch (error) {
      await worker.close();
      throw new Error(`${modelPath}: ONNX Runtime cannot open it on the CPU: ${(error as Error).message}`);
    }
  }

  /** Times `runs` forward passes at batch 1 on random input: milliseconds per image. */
  async testRun(
    modelPath: string,
    input: { readonly name: string; readonly dims: readonly number[] },
    preference?: ExecutionProvider,
    runs = 5,
  ): Promise<{ provider: ExecutionProvider; msPerImage: number; fellBackFrom?: ExecutionProvider; reason?: string }> {
    const lease = await this.acquire(modelPath, preference);
    try {
      const opened = lease.session;
      const msPerImage = await opened.worker.time(input.name, input.dims, runs);
      return { provider: opened.provider, msPerImage, ...(opened.fellBackFrom ? { fellBackFrom: opened.fellBackFrom, reason: opened.reason } : {}) };
    } finally {
      lease.release();
    }
  }
}
