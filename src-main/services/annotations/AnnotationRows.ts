import type { Database } from 'better-sqlite3';
import { sortVotes, type AnnotationState } from './annotationState';
import { boundsOf, centreOf, geometriesEqual, geometryFromRow, geometryToJson, type Geometry, type Shape } from './geometry';
import type { Annotation, AnnotatorKind, ViewerOptions, VisibleVote, Vote } from './types';
import { asSeenBy } from './visibility';

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
  votes: Vote[];
}

/** What a viewport query needs of one annotation: its row without the geometry text, parsed. */
export type ViewportRow = Omit<AnnotationRow, 'shape' | 'geometry_json'>;

export interface ViewportCandidate {
  row: ViewportRow;
  geometry: Geometry;
  /** Ascending by annotator id. */
  votes: VisibleVote[];
}

/** Points' rows from the covering index annotations_points_by_place (migration 006), as arrays: POINTS_IN_BAND_SQL's columns. */
export type PointPlaceRow = [id: number, guid: string, centreX: number, centreY: number, createdBy: number, createdAt: string, votesJson: string];

interface RegionRow extends AnnotationRow {
  votes_json: string;
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

/**
 * Height of the bands of annotations_points_by_place. The band expression must be written exactly
 * as in migration 006's index, or SQLite cannot use the index.
 */
const BAND_PX = 256;
const BAND = `CAST(centre_y / ${BAND_PX} AS INTEGER)`;

const WINDOW = `b.min_slide <= @slideId AND b.max_slide >= @slideId
  AND b.min_x <= @maxX AND b.max_x >= @minX AND b.min_y <= @maxY AND b.max_y >= @minY`;

/**
 * Reads and writes annotations, their R*Tree bounds and their votes, always together, so the
 * index is in step with the table inside the caller's transaction. The R*Tree holds live
 * annotations only.
 */
export class AnnotationRows {
  private readonly statements: ReturnType<typeof prepare>;
  private readonly viewport: ReturnType<typeof prepareViewport>;

  constructor(db: Database) {
    this.statements = prepare(db);
    this.viewport = prepareViewport(db);
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
    const columns = [
      annotation.guid,
      annotation.slideId,
      annotation.geometry.shape,
      geometryToJson(annotation.geometry),
      centre.x,
      centre.y,
      annotation.createdBy,
      annotation.createdAt,
    ];
    const result = this.viewport.insert.run(...columns, votesJson(annotation.votes));
    const id = Number(result.lastInsertRowid);
    this.putBounds(id, annotation.slideId, annotation.geometry);
    for (const vote of annotation.votes) this.statements.putVote.run(id, vote.annotatorId, vote.classId, annotation.createdAt);
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
      if (!current.deleted) this.dropBounds(id);
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
    const changed = current.votes.length !== next.votes.length || next.votes.some((vote) => currentVotes.get(vote.annotatorId) !== vote.classId);
    if (changed) this.viewport.setVotes.run(votesJson(next.votes), id);
  }

  private putBounds(id: number, slideId: number, geometry: Geometry): void {
    const bounds = boundsOf(geometry);
    const box = [id, bounds.minX, bounds.maxX, bounds.minY, bounds.maxY, slideId - SLIDE_HALF_THICKNESS, slideId + SLIDE_HALF_THICKNESS];
    this.statements.putBounds.run(...box);
    if (geometry.shape !== 'point') this.viewport.putRegionBounds.run(...box);
  }

  private dropBounds(id: number): void {
    this.statements.dropBounds.run(id);
    this.viewport.dropRegionBounds.run(id);
  }

  /**
   * Live annotations that may meet the window: every point inside it (exact, edges included)
   * and the regions whose R*Tree box meets it (a superset, to be refined exactly).
   */
  candidatesIn(window: SpatialWindow): ViewportCandidate[] {
    const votesOf = this.votesParser();
    const found: ViewportCandidate[] = [];
    const slideId = window.slideId;
    for (const [id, guid, x, y, createdBy, createdAt, json] of this.pointsIn(window)) {
      found.push({
        row: { id, guid, slide_id: slideId, centre_x: x, centre_y: y, created_by: createdBy, created_at: createdAt, deleted_at: null },
        geometry: { shape: 'point', x, y },
        votes: votesOf(json),
      });
    }
    found.push(...this.regionsIn(window, votesOf));
    return found;
  }

  /**
   * Live points inside the window (edges included) as raw rows, read band by band from the
   * covering index, so the page reads follow the place, not the order the cells were written.
   */
  pointsIn(window: SpatialWindow): PointPlaceRow[] {
    const found: PointPlaceRow[] = [];
    const lastBand = bandOf(window.maxY);
    for (let band = bandOf(window.minY); band <= lastBand; band++) {
      for (const point of this.viewport.pointsInBand.all({ ...window, band }) as PointPlaceRow[]) found.push(point);
    }
    return found;
  }

  /** Live regions whose R*Tree box meets the window (a superset, to be refined exactly). */
  regionsIn(window: SpatialWindow, votesOf = this.votesParser()): ViewportCandidate[] {
    return (this.viewport.regionsInWindow.all(window) as RegionRow[]).map((region) => ({
      row: annotationColumns(region),
      geometry: geometryOf(region),
      votes: votesOf(region.votes_json),
    }));
  }

  /**
   * Parses `votes_json` texts for one query. Most cells share a few vote patterns: each distinct
   * text is parsed once (the vote objects are shared between annotations and never changed).
   */
  votesParser(): (json: string) => VisibleVote[] {
    const kinds = new Map(this.viewport.annotatorKinds.all() as [number, AnnotatorKind][]);
    const parsed = new Map<string, VisibleVote[]>();
    return (json) => {
      let votes = parsed.get(json);
      if (!votes) {
        votes = (JSON.parse(json) as [number, number][]).map(([annotatorId, classId]) => ({ annotatorId, classId, annotatorKind: kinds.get(annotatorId)! }));
        parsed.set(json, votes);
      }
      return votes;
    };
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
    ofSlide: db.prepare(
      `SELECT a.*, l.annotator_id AS vote_annotator_id, l.class_id AS vote_class_id, n.kind AS vote_annotator_kind
       FROM annotations a LEFT JOIN labels l ON l.annotation_id = a.id LEFT JOIN annotators n ON n.id = l.annotator_id
       WHERE a.slide_id = ? AND a.deleted_at IS NULL ORDER BY a.id`,
    ),
  };
}

/** Live points of one band of one slide inside a window, answered from the covering index alone. */
export const POINTS_IN_BAND_SQL = `SELECT id, guid, centre_x, centre_y, created_by, created_at, votes_json FROM annotations
  WHERE slide_id = @slideId AND ${BAND} = @band AND centre_x BETWEEN @minX AND @maxX AND centre_y BETWEEN @minY AND @maxY
    AND deleted_at IS NULL AND shape = 'point'`;

/**
 * Statements of the viewport index (migration 006). pointsInBand must name the band exactly as the
 * index does; the unit test tests/unit/annotations/viewportIndex.test.ts checks that SQLite answers
 * it from the index alone.
 */
function prepareViewport(db: Database) {
  return {
    insert: db.prepare(
      `INSERT INTO annotations (guid, slide_id, shape, geometry_json, centre_x, centre_y, created_by, created_at, votes_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    setVotes: db.prepare('UPDATE annotations SET votes_json = ? WHERE id = ?'),
    putRegionBounds: db.prepare(
      'INSERT OR REPLACE INTO annotation_region_bounds (id, min_x, max_x, min_y, max_y, min_slide, max_slide) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    dropRegionBounds: db.prepare('DELETE FROM annotation_region_bounds WHERE id = ?'),
    annotatorKinds: db.prepare('SELECT id, kind FROM annotators').raw(true),
    pointsInBand: db.prepare(POINTS_IN_BAND_SQL).raw(true),
    regionsInWindow: db.prepare(
      `SELECT a.* FROM annotation_region_bounds b JOIN annotations a ON a.id = b.id WHERE ${WINDOW} AND a.deleted_at IS NULL`,
    ),
  };
}

/** The band of annotations_points_by_place that holds a centre at `y`: SQLite's CAST truncates toward zero. */
function bandOf(y: number): number {
  return Math.trunc(y / BAND_PX);
}

function votesJson(votes: Vote[]): string {
  return JSON.stringify(sortVotes(votes).map((vote) => [vote.annotatorId, vote.classId]));
}

/** Points are read from their centre columns: no JSON to parse for the common case. */
export function geometryOf(row: AnnotationRow): Geometry {
  if (row.shape === 'point') return { shape: 'point', x: row.centre_x, y: row.centre_y };
  return geometryFromRow(row.shape, row.geometry_json);
}

/** An annotation row with its votes as `viewer` may see it (asSeenBy), or null when it is hidden from them. */
export function annotationAsSeen(row: ViewportRow, votes: readonly VisibleVote[], viewer: ViewerOptions, geometry: Geometry): Annotation | null {
  const seen = asSeenBy({ createdBy: row.created_by, votes }, viewer);
  if (!seen) return null;
  return {
    id: row.id,
    guid: row.guid,
    slideId: row.slide_id,
    geometry,
    centre: { x: row.centre_x, y: row.centre_y },
    createdBy: row.created_by,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
    votes: seen.votes,
    consensus: seen.consensus,
  };
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

function annotationColumns(joined: AnnotationRow): AnnotationRow {
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
