import type { Database } from 'better-sqlite3';
import { consensusOf } from '../annotations/consensus';
import type { Consensus } from '../annotations/consensus';

/** A labelled cell: a live point or circle annotation with at least one person's vote. */
export interface LabelledCell {
  readonly annotationId: number;
  readonly slideId: number;
  readonly x: number;
  readonly y: number;
  readonly consensus: Consensus;
}

/** A cell by id and its current centre (an embedding counts only for the centre it was cut around). */
export type CellPlace = Pick<LabelledCell, 'annotationId' | 'slideId' | 'x' | 'y'>;

export interface CachedEmbedding {
  readonly annotationId: number;
  readonly slideId: number;
  readonly vector: Float32Array;
}

/** The project's labelled cells, of the given slides (all slides when omitted), by slide then id. */
export function labelledCells(db: Database, slideIds?: readonly number[]): LabelledCell[] {
  const rows = db
    .prepare(
      `SELECT a.id AS id, a.slide_id AS slideId, a.centre_x AS x, a.centre_y AS y, l.class_id AS classId, p.kind AS kind
         FROM annotations a JOIN labels l ON l.annotation_id = a.id JOIN annotators p ON p.id = l.annotator_id
        WHERE a.deleted_at IS NULL AND a.shape IN ('point', 'circle')
        ORDER BY a.slide_id, a.id`,
    )
    .all() as { id: number; slideId: number; x: number; y: number; classId: number; kind: 'person' | 'model' }[];
  const wanted = slideIds ? new Set(slideIds) : null;
  const byId = new Map<number, { slideId: number; x: number; y: number; votes: { classId: number; annotatorKind: 'person' | 'model' }[] }>();
  for (const row of rows) {
    if (wanted && !wanted.has(row.slideId)) continue;
    let cell = byId.get(row.id);
    if (!cell) byId.set(row.id, (cell = { slideId: row.slideId, x: row.x, y: row.y, votes: [] }));
    cell.votes.push({ classId: row.classId, annotatorKind: row.kind });
  }
  const cells: LabelledCell[] = [];
  for (const [annotationId, cell] of byId) {
    const consensus = consensusOf(cell.votes);
    if (consensus.status !== 'unlabelled') cells.push({ annotationId, slideId: cell.slideId, x: cell.x, y: cell.y, consensus });
  }
  return cells;
}

/**
 * Cell embeddings kept in the project (migration 008), keyed by model, patch parameters and
 * cell; an entry counts only while the cell's centre is the one it was cut around.
 */
export class EmbeddingCache {
  constructor(private readonly db: Database) {}

  /** The cells of `cells` that already have an embedding for this model and parameters. */
  cachedIds(modelKey: string, paramsKey: string, cells: readonly CellPlace[]): Set<number> {
    const rows = this.db
      .prepare('SELECT annotation_id AS id, centre_x AS x, centre_y AS y FROM embeddings WHERE model_key = ? AND params_key = ?')
      .all(modelKey, paramsKey) as { id: number; x: number; y: number }[];
    const centres = new Map(rows.map((row) => [row.id, row]));
    const cached = new Set<number>();
    for (const cell of cells) {
      const row = centres.get(cell.annotationId);
      if (row && row.x === cell.x && row.y === cell.y) cached.add(cell.annotationId);
    }
    return cached;
  }

  /** Stores the vectors of one batch in one transaction (replacing those of moved cells). */
  putMany(modelKey: string, paramsKey: string, entries: readonly { cell: LabelledCell; vector: Float32Array }[]): void {
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO embeddings (model_key, params_key, annotation_id, slide_id, centre_x, centre_y, dims, vector, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const { cell, vector } of entries) {
        insert.run(modelKey, paramsKey, cell.annotationId, cell.slideId, cell.x, cell.y, vector.length, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength), now);
      }
    })();
  }

  /** The cached vectors of the given (current) cells, in their order. */
  vectors(modelKey: string, paramsKey: string, cells: readonly CellPlace[]): CachedEmbedding[] {
    const rows = this.db
      .prepare('SELECT annotation_id AS id, centre_x AS x, centre_y AS y, vector FROM embeddings WHERE model_key = ? AND params_key = ?')
      .all(modelKey, paramsKey) as { id: number; x: number; y: number; vector: Buffer }[];
    const byId = new Map(rows.map((row) => [row.id, row]));
    const out: CachedEmbedding[] = [];
    for (const cell of cells) {
      const row = byId.get(cell.annotationId);
      if (!row || row.x !== cell.x || row.y !== cell.y) continue;
      const copy = new Uint8Array(row.vector);
      out.push({ annotationId: cell.annotationId, slideId: cell.slideId, vector: new Float32Array(copy.buffer, 0, copy.byteLength / 4) });
    }
    return out;
  }
}
