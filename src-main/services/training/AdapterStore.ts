import type { Database } from 'better-sqlite3';
import { UserFacingError } from '../../contract/errors';
import type { AdapterInfo, EpochRecord, Prediction, TrainingMethod, TrainingRecord, TrainingSpec } from '../../contract/trainingSchemas';

interface AdapterRow {
  id: number;
  name: string;
  model_id: number;
  method: TrainingMethod;
  status: AdapterInfo['status'];
  spec_json: string;
  record_json: string;
  history_json: string;
  has_checkpoint: number;
  error: string | null;
  created_at: string;
  updated_at: string;
}

/** The best epoch: lowest validation loss, the earliest among equals. */
export function bestEpochOf(history: readonly EpochRecord[]): number | null {
  let best: EpochRecord | null = null;
  for (const record of history) if (!best || record.validationLoss < best.validationLoss) best = record;
  return best?.epoch ?? null;
}

const COLUMNS = 'id, name, model_id, method, status, spec_json, record_json, history_json, checkpoint IS NOT NULL AS has_checkpoint, error, created_at, updated_at';

/** Adapters and their predictions in the project database (migration 009). */
export class AdapterStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  create(spec: TrainingSpec, record: TrainingRecord, name: string): AdapterInfo {
    const at = this.now().toISOString();
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO adapters (name, model_id, method, status, spec_json, record_json, created_at, updated_at)
           VALUES (?, ?, ?, 'training', ?, ?, ?, ?)`,
        )
        .run(name, spec.modelId, spec.method, JSON.stringify(spec), JSON.stringify(record), at, at).lastInsertRowid,
    );
    return this.get(id);
  }

  list(): AdapterInfo[] {
    return (this.db.prepare(`SELECT ${COLUMNS} FROM adapters ORDER BY id`).all() as AdapterRow[]).map(toInfo);
  }

  get(adapterId: number): AdapterInfo {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM adapters WHERE id = ?`).get(adapterId) as AdapterRow | undefined;
    if (!row) throw new UserFacingError('not-found', `There is no adapter ${adapterId} in this project.`);
    return toInfo(row);
  }

  /** Appends one pseudo-epoch's record, and with it the state to resume from (and the best parameters when it is the best so far), in one transaction. */
  recordEpoch(adapterId: number, history: readonly EpochRecord[], checkpoint: Uint8Array | null, bestWeights: Uint8Array | null): void {
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE adapters SET history_json = ?, checkpoint = coalesce(?, checkpoint), updated_at = ? WHERE id = ?')
        .run(JSON.stringify(history), checkpoint, this.now().toISOString(), adapterId);
      if (bestWeights) this.db.prepare('UPDATE adapters SET weights = ? WHERE id = ?').run(bestWeights, adapterId);
    })();
  }

  setWeights(adapterId: number, weights: Uint8Array): void {
    this.db.prepare('UPDATE adapters SET weights = ?, updated_at = ? WHERE id = ?').run(weights, this.now().toISOString(), adapterId);
  }

  setStatus(adapterId: number, status: AdapterInfo['status'], error: string | null = null): void {
    this.db.prepare('UPDATE adapters SET status = ?, error = ?, updated_at = ? WHERE id = ?').run(status, error, this.now().toISOString(), adapterId);
  }

  /** Adapters left 'training' when the app stopped: they can resume from their checkpoint. */
  markInterrupted(): void {
    this.db.prepare("UPDATE adapters SET status = 'cancelled', error = 'interrupted: the app stopped during training' WHERE status = 'training'").run();
  }

  weights(adapterId: number): Uint8Array {
    const row = this.db.prepare('SELECT weights FROM adapters WHERE id = ?').get(adapterId) as { weights: Uint8Array | null } | undefined;
    if (!row?.weights) throw new UserFacingError('invalid-argument', `Adapter ${adapterId} has no trained parameters yet.`);
    return row.weights;
  }

  checkpoint(adapterId: number): Uint8Array | null {
    const row = this.db.prepare('SELECT checkpoint FROM adapters WHERE id = ?').get(adapterId) as { checkpoint: Uint8Array | null } | undefined;
    return row?.checkpoint ?? null;
  }

  remove(adapterId: number): void {
    this.get(adapterId);
    this.db.prepare('DELETE FROM adapters WHERE id = ?').run(adapterId);
  }

  storePredictions(adapterId: number, predictions: readonly Omit<Prediction, 'predicted'>[]): void {
    const insert = this.db.prepare(
      `INSERT INTO adapter_predictions (adapter_id, slide_id, x, y, annotation_id, probabilities, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (adapter_id, slide_id, x, y) DO UPDATE SET annotation_id = excluded.annotation_id, probabilities = excluded.probabilities, created_at = excluded.created_at`,
    );
    const at = this.now().toISOString();
    this.db.transaction(() => {
      for (const p of predictions) insert.run(adapterId, p.slideId, p.x, p.y, p.annotationId, new Uint8Array(Float32Array.from(p.probabilities).buffer), at);
    })();
  }

  predictions(adapterId: number, slideId: number | undefined, limit: number): Prediction[] {
    const rows = this.db
      .prepare(
        `SELECT slide_id AS slideId, x, y, annotation_id AS annotationId, probabilities FROM adapter_predictions
          WHERE adapter_id = ? AND (? IS NULL OR slide_id = ?) ORDER BY slide_id, y, x LIMIT ?`,
      )
      .all(adapterId, slideId ?? null, slideId ?? null, limit) as { slideId: number; x: number; y: number; annotationId: number | null; probabilities: Uint8Array }[];
    return rows.map((row) => {
      const probabilities = Array.from(new Float32Array(new Uint8Array(row.probabilities).buffer)); // a copy: a Buffer may sit anywhere in a shared pool
      const predicted = probabilities.reduce((best, value, i) => (value > probabilities[best]! ? i : best), 0);
      return { slideId: row.slideId, x: row.x, y: row.y, annotationId: row.annotationId, probabilities, predicted };
    });
  }
}

function toInfo(row: AdapterRow): AdapterInfo {
  const history = JSON.parse(row.history_json) as EpochRecord[];
  return {
    id: row.id,
    name: row.name,
    modelId: row.model_id,
    method: row.method,
    status: row.status,
    spec: JSON.parse(row.spec_json) as TrainingSpec,
    record: JSON.parse(row.record_json) as TrainingRecord,
    history,
    bestEpoch: bestEpochOf(history),
    resumable: row.method === 'lora' && row.status !== 'ready' && row.has_checkpoint === 1,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
