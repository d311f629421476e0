import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { LabelSource } from '../../contract/trainingSchemas';
import { labelledCells } from '../embeddings/EmbeddingCache';
import type { TrainingCell } from './data/sampling';

export type { TrainingCell };



/**
 * The cells of `slideIds` labelled with one of `classIds`, by the chosen source: the people's
 * agreed consensus (cells they disagree on are left out), or one annotator's own votes. Ordered
 * by slide and id, so the same labels always give the same list (and hash).
 */
export function trainingCells(db: Database, slideIds: readonly number[], classIds: readonly number[], source: LabelSource): TrainingCell[] {
  const labelOf = new Map(classIds.map((classId, index) => [classId, index]));
  if (source.kind === 'consensus') {
    return labelledCells(db, slideIds).flatMap((cell) => {
      const label = cell.consensus.status === 'agreed' ? labelOf.get(cell.consensus.classId) : undefined;
      return label === undefined ? [] : [{ annotationId: cell.annotationId, slideId: cell.slideId, x: cell.x, y: cell.y, label }];
    });
  }
  const wanted = new Set(slideIds);
  const rows = db
    .prepare(
      `SELECT a.id AS annotationId, a.slide_id AS slideId, a.centre_x AS x, a.centre_y AS y, l.class_id AS classId
         FROM annotations a JOIN labels l ON l.annotation_id = a.id
        WHERE a.deleted_at IS NULL AND a.shape IN ('point', 'circle') AND l.annotator_id = ?
        ORDER BY a.slide_id, a.id`,
    )
    .all(source.annotatorId) as { annotationId: number; slideId: number; x: number; y: number; classId: number }[];
  return rows.flatMap((row) => {
    const label = labelOf.get(row.classId);
    return wanted.has(row.slideId) && label !== undefined ? [{ annotationId: row.annotationId, slideId: row.slideId, x: row.x, y: row.y, label }] : [];
  });
}

/** SHA-256 of the cells and labels (ids, places, label indices): the label snapshot an adapter was trained on. */
export function labelSnapshotHash(cells: readonly TrainingCell[], classIds: readonly number[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(classIds));
  for (const cell of cells) hash.update(`${cell.annotationId},${cell.slideId},${cell.x},${cell.y},${cell.label};`);
  return hash.digest('hex');
}
