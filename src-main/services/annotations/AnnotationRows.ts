import type { Database } from 'better-sqlite3';
import { sortVotes, type AnnotationState } from './annotationState';
import { boundsOf, centreOf, geometriesEqual, geometryFromRow, geometryToJson, type Geometry, type Shape } from './geometry';
import type { AnnotatorKind, VisibleVote } from './types';

export interface AnnotationRow {
  id: number;
  guid: string;
  slide_id: number;
  shape: Shape;
  geometry_json: string;
  centre_x: number;
  centre_y: number;
  created_by: number;
  created_at: string;
  deleted_at: string | null;
}

export interface VoteRow {
  annotation_id: number;
  annotator_id: number;
  class_id: number;
  annotator_kind: AnnotatorKind;
}

interface JoinedRow extends AnnotationRow {
  vote_annotator_id: number | null;
  vote_class_id: number | null;
  vote_annotator_kind: AnnotatorKind | null;
}

export interface AnnotationWithVotes {
  row: AnnotationRow;
  /** Ascending by annotator id. */
  votes: VisibleVote[];
}

export interface NewAnnotationRow {
  guid: string;
  slideId: number;
  geometry: Geometry;
  createdBy: number;
  createdAt: string;
}

/** A candidate filter for the R*Tree: level-0 rectangle on one slide. */
export interface SpatialWindow {
  slideId: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/**
 * Each slide is a slab of thickness 0.5 on the R*Tree's third axis. With zero thickness every
 * node's volume would be 0, the R*Tree could not choose where to insert, and its queries would
 * be 20–30 times slower (measured); 0.25 is exact in float32 and slabs never touch.
 */
const SLIDE_HALF_THICKNESS = 0.25;

const WINDOW = `b.min_slide <= @slideId AND b.max_slide >= @slideId
  AND b.min_x <= @maxX AND b.max_x >= @minX AND b.min_y <= @maxY AND b.max_y >= @minY`;

/**
 * Reads and writes annotations, their R*Tree bounds and their votes, always together, so the
 * index is in step with the table inside the caller's transaction. The R*Tree holds live
 * annotations only.
 */
export class AnnotationRows {
  private readonly statements: ReturnType<typeof prepare>;

  constructor(db: Database) {
    this.statements = prepare(db);
  }

  row(annotationId: number): AnnotationRow | null {
    return (this.statements.byId.get(annotationId) as AnnotationRow | undefined) ?? null;
  }

  guidTaken(guid: string): boolean {
    return this.statements.guidTaken.get(guid) !== undefined;
  }

  votes(annotationId: number): VisibleVote[] {
    return (this.statements.votesOf.all(annotationId) as VoteRow[]).map(toVisibleVote);
  }

  state(row: AnnotationRow): AnnotationState {
    return {
      geometry: geometryOf(row),
      deleted: row.deleted_at !== null,
      votes: sortVotes(this.votes(row.id)),
    };
  }

  insert(annotation: NewAnnotationRow): number {
    const centre = centreOf(annotation.geometry);
    const result = this.statements.insert.run(
      annotation.guid,
      annotation.slideId,
      annotation.geometry.shape,
      geometryToJson(annotation.geometry),
      centre.x,
      centre.y,
      annotation.createdBy,
      annotation.createdAt,
    );
    const id = Number(result.lastInsertRowid);
    this.putBounds(id, annotation.slideId, annotation.geometry);
    return id;
  }

  /** Brings a stored annotation from `current` to `next`, writing only what differs. */
  write(id: number, slideId: number, current: AnnotationState, next: AnnotationState, at: string): void {
    const geometryChanged = !geometriesEqual(current.geometry, next.geometry);
    if (geometryChanged) {
      const centre = centreOf(next.geometry);
      this.statements.setGeometry.run(next.geometry.shape, geometryToJson(next.geometry), centre.x, centre.y, id);
    }
    if (current.deleted !== next.deleted) this.statements.setDeleted.run(next.deleted ? at : null, id);
    if (next.deleted) {
      if (!current.deleted) this.statements.dropBounds.run(id);
    } else if (current.deleted || geometryChanged) {
      this.putBounds(id, slideId, next.geometry);
    }
    this.writeVotes(id, current, next, at);
  }

  private writeVotes(id: number, current: AnnotationState, next: AnnotationState, at: string): void {
    const nextVotes = new Map(next.votes.map((vote) => [vote.annotatorId, vote.classId]));
    for (const vote of current.votes) {
      if (!nextVotes.has(vote.annotatorId)) this.statements.dropVote.run(id, vote.annotatorId);
    }
    const currentVotes = new Map(current.votes.map((vote) => [vote.annotatorId, vote.classId]));
    for (const [annotatorId, classId] of nextVotes) {
      if (currentVotes.get(annotatorId) !== classId) this.statements.putVote.run(id, annotatorId, classId, at);
    }
  }

  private putBounds(id: number, slideId: number, geometry: Geometry): void {
    const bounds = boundsOf(geometry);
    this.statements.putBounds.run(id, bounds.minX, bounds.maxX, bounds.minY, bounds.maxY, slideId - SLIDE_HALF_THICKNESS, slideId + SLIDE_HALF_THICKNESS);
  }

  /** Live annotations whose R*Tree box meets the window: a superset, to be refined exactly. */
  candidatesIn(window: SpatialWindow): AnnotationWithVotes[] {
    return groupVotes(this.statements.inWindow.all(window) as JoinedRow[]);
  }

  ofSlide(slideId: number): AnnotationWithVotes[] {
    return groupVotes(this.statements.ofSlide.all(slideId) as JoinedRow[]);
  }
}

function prepare(db: Database) {
  return {
    byId: db.prepare('SELECT * FROM annotations WHERE id = ?'),
    guidTaken: db.prepare('SELECT 1 FROM annotations WHERE guid = ?'),
    votesOf: db.prepare(
      `SELECT l.annotation_id, l.annotator_id, l.class_id, a.kind AS annotator_kind
       FROM labels l JOIN annotators a ON a.id = l.annotator_id WHERE l.annotation_id = ? ORDER BY l.annotator_id`,
    ),
    insert: db.prepare(
      `INSERT INTO annotations (guid, slide_id, shape, geometry_json, centre_x, centre_y, created_by, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    setGeometry: db.prepare('UPDATE annotations SET shape = ?, geometry_json = ?, centre_x = ?, centre_y = ? WHERE id = ?'),
    setDeleted: db.prepare('UPDATE annotations SET deleted_at = ? WHERE id = ?'),
    putBounds: db.prepare(
      'INSERT OR REPLACE INTO annotation_bounds (id, min_x, max_x, min_y, max_y, min_slide, max_slide) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    dropBounds: db.prepare('DELETE FROM annotation_bounds WHERE id = ?'),
    putVote: db.prepare(
      `INSERT INTO labels (annotation_id, annotator_id, class_id, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (annotation_id, annotator_id) DO UPDATE SET class_id = excluded.class_id, updated_at = excluded.updated_at`,
    ),
    dropVote: db.prepare('DELETE FROM labels WHERE annotation_id = ? AND annotator_id = ?'),
    // One statement with the votes joined: a second R*Tree walk for the votes cost 30 % more at 1M cells.
    inWindow: db.prepare(
      `SELECT a.*, l.annotator_id AS vote_annotator_id, l.class_id AS vote_class_id, n.kind AS vote_annotator_kind
       FROM annotation_bounds b JOIN annotations a ON a.id = b.id
         LEFT JOIN labels l ON l.annotation_id = a.id LEFT JOIN annotators n ON n.id = l.annotator_id
       WHERE ${WINDOW} AND a.deleted_at IS NULL`,
    ),
    ofSlide: db.prepare(
      `SELECT a.*, l.annotator_id AS vote_annotator_id, l.class_id AS vote_class_id, n.kind AS vote_annotator_kind
       FROM annotations a LEFT JOIN labels l ON l.annotation_id = a.id LEFT JOIN annotators n ON n.id = l.annotator_id
       WHERE a.slide_id = ? AND a.deleted_at IS NULL ORDER BY a.id`,
    ),
  };
}

/** Points are read from their centre columns: no JSON to parse for the common case. */
export function geometryOf(row: AnnotationRow): Geometry {
  if (row.shape === 'point') return { shape: 'point', x: row.centre_x, y: row.centre_y };
  return geometryFromRow(row.shape, row.geometry_json);
}

function toVisibleVote(row: VoteRow): VisibleVote {
  return { annotatorId: row.annotator_id, classId: row.class_id, annotatorKind: row.annotator_kind };
}

/** Rows of the vote join, one per (annotation, vote) or one with null vote columns, back to annotations. */
function groupVotes(rows: JoinedRow[]): AnnotationWithVotes[] {
  const byId = new Map<number, AnnotationWithVotes>();
  for (const joined of rows) {
    let entry = byId.get(joined.id);
    if (!entry) {
      entry = { row: annotationColumns(joined), votes: [] };
      byId.set(joined.id, entry);
    }
    if (joined.vote_annotator_id !== null) {
      entry.votes.push({ annotatorId: joined.vote_annotator_id, classId: joined.vote_class_id!, annotatorKind: joined.vote_annotator_kind! });
    }
  }
  for (const entry of byId.values()) entry.votes.sort((a, b) => a.annotatorId - b.annotatorId);
  return [...byId.values()];
}

function annotationColumns(joined: JoinedRow): AnnotationRow {
  return {
    id: joined.id,
    guid: joined.guid,
    slide_id: joined.slide_id,
    shape: joined.shape,
    geometry_json: joined.geometry_json,
    centre_x: joined.centre_x,
    centre_y: joined.centre_y,
    created_by: joined.created_by,
    created_at: joined.created_at,
    deleted_at: joined.deleted_at,
  };
}
