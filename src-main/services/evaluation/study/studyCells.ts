import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { StudySpec } from '../../../contract/studiesSchemas';
import { labelledCells } from '../../embeddings/EmbeddingCache';
import type { LocatedCell } from '../leakage';

/** A labelled cell as a study sees it: the split functions' string ids plus the project's numeric ones. */
export interface StudyCell extends LocatedCell {
  annotationId: number;
  slideNumber: number;
}

export interface StudyCellSet {
  cells: StudyCell[];
  /** Cells left out, by reason. */
  excluded: Record<string, number>;
  /** SHA-256 of every (cell, slide, position, class) used: changes when any label the study uses changes. */
  labelSnapshotHash: string;
}

interface RawLabel {
  annotationId: number;
  slideId: number;
  x: number;
  y: number;
  /** null: people disagree and no single label stands. */
  classId: number | null;
}

function liveSlideIds(db: Database): Set<number> {
  const rows = db.prepare('SELECT id FROM slides WHERE deleted_at IS NULL').all() as { id: number }[];
  return new Set(rows.map((row) => row.id));
}

function consensusLabels(db: Database): RawLabel[] {
  return labelledCells(db).map((cell) => ({
    annotationId: cell.annotationId,
    slideId: cell.slideId,
    x: cell.x,
    y: cell.y,
    classId: cell.consensus.status === 'agreed' ? cell.consensus.classId : null,
  }));
}

function annotatorLabels(db: Database, annotatorId: number): RawLabel[] {
  return db
    .prepare(
      `SELECT a.id AS annotationId, a.slide_id AS slideId, a.centre_x AS x, a.centre_y AS y, l.class_id AS classId
         FROM annotations a JOIN labels l ON l.annotation_id = a.id
        WHERE a.deleted_at IS NULL AND a.shape IN ('point', 'circle') AND l.annotator_id = ?
        ORDER BY a.slide_id, a.id`,
    )
    .all(annotatorId) as RawLabel[];
}

function snapshotHash(cells: readonly StudyCell[], classIds: readonly number[]): string {
  const hash = createHash('sha256');
  for (const cell of [...cells].sort((a, b) => a.annotationId - b.annotationId)) {
    hash.update(`${cell.annotationId},${cell.slideNumber},${cell.x},${cell.y},${classIds[cell.classIndex]}\n`);
  }
  return hash.digest('hex');
}

function countInto(excluded: Record<string, number>, reason: string): void {
  excluded[reason] = (excluded[reason] ?? 0) + 1;
}

/**
 * The cells a study trains and tests on: live point/circle cells of live slides labelled by the
 * chosen source with one of the study's classes; class index = position in `spec.classes`.
 */
export function loadStudyCells(db: Database, spec: Pick<StudySpec, 'labels' | 'classes'>): StudyCellSet {
  const slides = liveSlideIds(db);
  const raw = spec.labels.source === 'consensus' ? consensusLabels(db) : annotatorLabels(db, spec.labels.annotatorId);
  const classIndex = new Map(spec.classes.map((classId, index) => [classId, index]));
  const excluded: Record<string, number> = {};
  const cells: StudyCell[] = [];
  for (const label of raw) {
    if (!slides.has(label.slideId)) countInto(excluded, 'slide removed');
    else if (label.classId === null) countInto(excluded, 'annotators disagree');
    else if (!classIndex.has(label.classId)) countInto(excluded, 'class not in the study');
    else {
      cells.push({
        cellId: String(label.annotationId),
        slideId: String(label.slideId),
        annotationId: label.annotationId,
        slideNumber: label.slideId,
        x: label.x,
        y: label.y,
        classIndex: classIndex.get(label.classId)!,
      });
    }
  }
  return { cells, excluded, labelSnapshotHash: snapshotHash(cells, spec.classes) };
}

/** Each slide's value of the tag `tagKey` (slide ids as the split functions spell them). */
export function slideDomains(db: Database, tagKey: string): Map<string, string> {
  const rows = db.prepare('SELECT slide_id AS slideId, value FROM slide_tags WHERE key = ?').all(tagKey) as { slideId: number; value: string }[];
  return new Map(rows.map((row) => [String(row.slideId), row.value]));
}
