import type { Database } from 'better-sqlite3';
import type { JobSnapshot } from '../../contract/schemas';

export interface JobContext {
  /** Aborted when the user cancels; the work stops at its next check and returns what it has. */
  signal: AbortSignal;
  progress(done: number, total: number | null, message?: string): void;
}

interface JobRow {
  id: number;
  kind: string;
  title: string;
  state: JobSnapshot['state'];
  progress_done: number;
  progress_total: number | null;
  progress_message: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

/** How often progress reaches the database and the renderer, at most. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * Runs long work as jobs persisted in the project: progress with an estimate of the time
 * left, cancellation, and an honest end state. Jobs still running when the app stopped are
 * marked "interrupted" when the project is opened again.
 */
export class JobRunner {
  private readonly controllers = new Map<number, AbortController>();
  private readonly startedAtMs = new Map<number, number>();
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly db: Database,
    private readonly onChange: (job: JobSnapshot) => void,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.db
      .prepare("UPDATE jobs SET state = 'interrupted', finished_at = ? WHERE state = 'running'")
      .run(this.now().toISOString());
  }

  /** Starts the work and resolves with its result when it ends (cancelled work resolves too). */
  async run<Result>(
    kind: string,
    title: string,
    input: unknown,
    work: (context: JobContext) => Promise<Result>,
  ): Promise<{ jobId: number; result: Result }> {
    const id = Number(
      this.db
        .prepare("INSERT INTO jobs (kind, title, state, input_json, created_at) VALUES (?, ?, 'running', ?, ?)")
        .run(kind, title, JSON.stringify(input), this.now().toISOString()).lastInsertRowid,
    );
    const controller = new AbortController();
    this.controllers.set(id, controller);
    this.startedAtMs.set(id, this.now().getTime());
    this.announce(id);

    let lastWrite = 0;
    const context: JobContext = {
      signal: controller.signal,
      progress: (done, total, message) => {
        const nowMs = this.now().getTime();
        if (nowMs - lastWrite < PROGRESS_INTERVAL_MS && done !== total) return;
        lastWrite = nowMs;
        this.db
          .prepare('UPDATE jobs SET progress_done = ?, progress_total = ?, progress_message = ? WHERE id = ?')
          .run(done, total, message ?? null, id);
        this.announce(id);
      },
    };
    const working = work(context);
    this.running.add(working);
    try {
      const result = await working;
      this.finish(id, controller.signal.aborted ? 'cancelled' : 'succeeded', result, null);
      return { jobId: id, result };
    } catch (error) {
      this.finish(id, 'failed', null, error instanceof Error ? error.message : String(error));
      throw error;
    } finally {
      this.running.delete(working);
    }
  }

  /** Asks a running job to stop; false when it is not running (finished, or from an earlier run). */
  cancel(jobId: number): boolean {
    const controller = this.controllers.get(jobId);
    if (!controller) return false;
    controller.abort();
    return true;
  }

  list(limit = 50): JobSnapshot[] {
    const rows = this.db.prepare('SELECT * FROM jobs ORDER BY id DESC LIMIT ?').all(limit) as JobRow[];
    return rows.map((row) => this.snapshot(row));
  }

  get(jobId: number): JobSnapshot | null {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(jobId) as JobRow | undefined;
    return row ? this.snapshot(row) : null;
  }

  /** Cancels everything still running and waits until it has stopped (the project is closing). */
  async stopAll(): Promise<void> {
    for (const controller of this.controllers.values()) controller.abort();
    await Promise.allSettled([...this.running]);
  }

  private finish(id: number, state: JobSnapshot['state'], result: unknown, error: string | null): void {
    this.controllers.delete(id);
    this.db
      .prepare('UPDATE jobs SET state = ?, result_json = ?, error = ?, finished_at = ? WHERE id = ?')
      .run(state, result === null ? null : JSON.stringify(result), error, this.now().toISOString(), id);
    this.announce(id);
    this.startedAtMs.delete(id);
  }

  private announce(id: number): void {
    const job = this.get(id);
    if (job) this.onChange(job);
  }

  private snapshot(row: JobRow): JobSnapshot {
    return {
      id: row.id,
      kind: row.kind,
      title: row.title,
      state: row.state,
      done: row.progress_done,
      total: row.progress_total,
      message: row.progress_message,
      etaSeconds: row.state === 'running' ? this.eta(row) : null,
      error: row.error,
      createdAt: row.created_at,
      finishedAt: row.finished_at,
    };
  }

  /** Time left at the average rate so far. */
  private eta(row: JobRow): number | null {
    const started = this.startedAtMs.get(row.id);
    if (started === undefined || row.progress_total === null || row.progress_done === 0) return null;
    const elapsedSeconds = (this.now().getTime() - started) / 1000;
    return (elapsedSeconds / row.progress_done) * Math.max(0, row.progress_total - row.progress_done);
  }
}
