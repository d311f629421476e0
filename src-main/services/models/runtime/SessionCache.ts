/**
 * Keeps opened sessions for reuse: creating one costs from a fifth of a second (ViT-S) to many
 * seconds (a billion-parameter model read from disk, WebGPU shaders compiled), and the app asks
 * for the same model again and again (test runs, one extraction job per slide set, training's
 * per-batch-size graphs). A session is shared by everyone who holds a lease on it (its worker
 * answers requests in order). When the last lease is released it stays open for `idleMs`, and
 * the least recently used idle sessions are closed beyond `maxIdle`, because each holds its
 * model's weights in memory.
 */
export interface SessionCacheOptions<T> {
  readonly open: (key: string) => Promise<T>;
  readonly close: (session: T) => Promise<void>;
  /** Idle sessions kept at most (default 2). */
  readonly maxIdle?: number;
  /** How long an idle session stays open (default 2 minutes). */
  readonly idleMs?: number;
}

export interface SessionLease<T> {
  readonly session: T;
  /** Gives the session back to the cache; call once. */
  release(): void;
}

interface Entry<T> {
  readonly opened: Promise<T>;
  leases: number;
  lastReleased: number;
  timer: ReturnType<typeof setTimeout> | null;
}

export class SessionCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly options: SessionCacheOptions<T>) {}

  /** The open session for `key`, opening it when none is; a failed opening is not kept. */
  async acquire(key: string): Promise<SessionLease<T>> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { opened: this.options.open(key), leases: 0, lastReleased: 0, timer: null };
      this.entries.set(key, entry);
      entry.opened.catch(() => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      });
    }
    const current = entry;
    current.leases++;
    if (current.timer) clearTimeout(current.timer);
    current.timer = null;
    let session: T;
    try {
      session = await current.opened;
    } catch (error) {
      current.leases--;
      throw error;
    }
    let released = false;
    return {
      session,
      release: () => {
        if (released) return;
        released = true;
        current.leases--;
        if (current.leases === 0) this.idle(key, current);
      },
    };
  }

  /**
   * Closes the session of `key` now, leases or not (its worker failed, its files are going, the
   * project closed); the next `acquire` opens a new one. A session whose opening failed has
   * nothing to close.
   */
  async discard(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    if (entry.timer) clearTimeout(entry.timer);
    await entry.opened.then((session) => this.options.close(session)).catch(() => undefined);
  }

  /** Closes every session (project closed, app quitting). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((key) => this.discard(key)));
  }

  /** Keys of the sessions open (or opening) now, in the order they were first opened (for tests and diagnostics). */
  openKeys(): string[] {
    return [...this.entries.keys()];
  }

  private idle(key: string, entry: Entry<T>): void {
    entry.lastReleased = performance.now();
    entry.timer = setTimeout(() => void this.discard(key), this.options.idleMs ?? 120_000);
    entry.timer.unref?.();
    const idle = [...this.entries].filter(([, candidate]) => candidate.leases === 0).sort(([, a], [, b]) => a.lastReleased - b.lastReleased);
    for (const [oldKey] of idle.slice(0, Math.max(0, idle.length - (this.options.maxIdle ?? 2)))) void this.discard(oldKey);
  }
}
