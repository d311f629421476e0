import type { Database } from 'better-sqlite3';
import { stateFromJson, stateToJson, voteOf, type AnnotationState } from './annotationState';
import type { RecordedChange } from './undoStacks';
import type { AnnotatorKind, ChangeKind } from './types';

export interface ChangeItem {
  annotationId: number;
  before: AnnotationState | null;
  after: AnnotationState;
}

export interface NewChange {
  actorId: number;
  kind: ChangeKind;
  targetChangeId: number | null;
  description: string;
  at: string;
  items: ChangeItem[];
}

/** One step in an annotation's history: who did what, when, and its state before and after. */
export interface HistoryEntry {
  changeId: number;
  at: string;
  actor: { id: number; name: string; kind: AnnotatorKind };
  kind: ChangeKind;
  /** For an undo: the change it reversed; for a redo: the undo it reversed. */
  targetChangeId: number | null;
  description: string;
  before: AnnotationState | null;
  after: AnnotationState;
}

/** A change of one annotator's own vote, made by that annotator. */
export interface LabelLogEntry {
  changeId: number;
  at: string;
  kind: ChangeKind;
  annotationId: number;
  slideId: number | null;
  /** Null when the vote was cleared. */
  classId: number | null;
  previousClassId: number | null;
}

interface HistoryRow {
  change_id: number;
  at: string;
  actor_id: number;
  actor_name: string;
  actor_kind: AnnotatorKind;
  kind: ChangeKind;
  target_change_id: number | null;
  description: string;
  before_json: string | null;
  after_json: string;
}

/**
 * The append-only change history (tables `changes`, `change_items`). Rows are only ever
 * inserted; triggers refuse UPDATE and DELETE.
 */
export class ChangeLog {
  private readonly statements: ReturnType<typeof prepare>;

  constructor(db: Database) {
    this.statements = prepare(db);
  }

  /** Call inside the transaction that made the change. */
  append(change: NewChange): number {
    const result = this.statements.insertChange.run(change.actorId, change.kind, change.targetChangeId, change.description, change.at);
    const changeId = Number(result.lastInsertRowid);
    for (const item of change.items) {
      this.statements.insertItem.run(
        changeId,
        item.annotationId,
        item.before === null ? null : stateToJson(item.before),
        stateToJson(item.after),
      );
    }
    return changeId;
  }

  change(changeId: number): { id: number; actorId: number; kind: ChangeKind; description: string } | null {
    const row = this.statements.change.get(changeId) as
      | { id: number; actor_id: number; kind: ChangeKind; description: string }
      | undefined;
    return row ? { id: row.id, actorId: row.actor_id, kind: row.kind, description: row.description } : null;
  }

  items(changeId: number): ChangeItem[] {
    const rows = this.statements.items.all(changeId) as { annotation_id: number; before_json: string | null; after_json: string }[];
    return rows.map((row) => ({
      annotationId: row.annotation_id,
      before: stateFromJson(row.before_json),
      after: stateFromJson(row.after_json)!,
    }));
  }

  /** The actor's changes in order, for rebuilding the undo/redo stacks. */
  changesOf(actorId: number): RecordedChange[] {
    const rows = this.statements.changesOf.all(actorId) as { id: number; kind: ChangeKind; target_change_id: number | null }[];
    return rows.map((row) => ({ id: row.id, kind: row.kind, targetChangeId: row.target_change_id }));
  }

  lastChangeIdOf(actorId: number): number | null {
    const row = this.statements.lastChangeOf.get(actorId) as { id: number | null };
    return row.id;
  }

  history(annotationId: number): HistoryEntry[] {
    return (this.statements.history.all(annotationId) as HistoryRow[]).map((row) => ({
      changeId: row.change_id,
      at: row.at,
      actor: { id: row.actor_id, name: row.actor_name, kind: row.actor_kind },
      kind: row.kind,
      targetChangeId: row.target_change_id,
      description: row.description,
      before: stateFromJson(row.before_json),
      after: stateFromJson(row.after_json)!,
    }));
  }

  /** Every change by `actorId` to their own vote, oldest first (undo and redo included: see `kind`). */
  labelLog(actorId: number, range: { from?: string; to?: string } = {}): LabelLogEntry[] {
    const rows = this.statements.labelLog.all({ actorId, from: range.from ?? null, to: range.to ?? null }) as {
      change_id: number;
      at: string;
      kind: ChangeKind;
      annotation_id: number;
      slide_id: number | null;
      before_json: string | null;
      after_json: string;
    }[];
    const entries: LabelLogEntry[] = [];
    for (const row of rows) {
      const previousClassId = voteOf(stateFromJson(row.before_json), actorId);
      const classId = voteOf(stateFromJson(row.after_json), actorId);
      if (previousClassId === classId) continue;
      entries.push({
        changeId: row.change_id,
        at: row.at,
        kind: row.kind,
        annotationId: row.annotation_id,
        slideId: row.slide_id,
        classId,
        previousClassId,
      });
    }
    return entries;
  }
}

/** Label counts per clock hour (UTC, 'YYYY-MM-DDTHH'), for a label log: votes cast or changed, not cleared. */
export function labelsPerHour(entries: readonly LabelLogEntry[]): { hour: string; labels: number }[] {
  const counts = new Map<string, number>();
  for (const entry of entries) {
    if (entry.classId === null) continue;
    const hour = entry.at.slice(0, 13);
    counts.set(hour, (counts.get(hour) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([hour, labels]) => ({ hour, labels }));
}

function prepare(db: Database) {
  return {
    insertChange: db.prepare('INSERT INTO changes (actor_id, kind, target_change_id, description, at) VALUES (?, ?, ?, ?, ?)'),
    insertItem: db.prepare('INSERT INTO change_items (change_id, annotation_id, before_json, after_json) VALUES (?, ?, ?, ?)'),
    change: db.prepare('SELECT id, actor_id, kind, description FROM changes WHERE id = ?'),
    items: db.prepare('SELECT annotation_id, before_json, after_json FROM change_items WHERE change_id = ? ORDER BY annotation_id'),
    changesOf: db.prepare('SELECT id, kind, target_change_id FROM changes WHERE actor_id = ? ORDER BY id'),
    lastChangeOf: db.prepare('SELECT max(id) AS id FROM changes WHERE actor_id = ?'),
    history: db.prepare(
      `SELECT c.id AS change_id, c.at, c.actor_id, n.name AS actor_name, n.kind AS actor_kind, c.kind, c.target_change_id,
              c.description, i.before_json, i.after_json
       FROM change_items i JOIN changes c ON c.id = i.change_id JOIN annotators n ON n.id = c.actor_id
       WHERE i.annotation_id = ? ORDER BY c.id`,
    ),
    labelLog: db.prepare(
      `SELECT c.id AS change_id, c.at, c.kind, i.annotation_id, a.slide_id, i.before_json, i.after_json
       FROM changes c JOIN change_items i ON i.change_id = c.id LEFT JOIN annotations a ON a.id = i.annotation_id
       WHERE c.actor_id = @actorId AND (@from IS NULL OR c.at >= @from) AND (@to IS NULL OR c.at < @to)
       ORDER BY c.id, i.annotation_id`,
    ),
  };
}
