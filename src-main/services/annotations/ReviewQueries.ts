import type { Database, Statement } from 'better-sqlite3';
import { stateFromJson, voteOf } from './annotationState';
import { annotationAsSeen, geometryOf, type AnnotationRow } from './AnnotationRows';
import { InvalidAnnotationInputError, UnknownReferenceError } from './errors';
import { IMPORT_DESCRIPTION_PREFIX } from './AnnotationStore';
import type { Annotation, AnnotatorKind, ChangeKind, ViewerOptions, VisibleVote } from './types';

/** Which cells the gallery shows. Every criterion given must hold (AND). */
export interface CellFilter {
  /** Only these slides; absent or empty: every slide of the project. */
  slideIds?: readonly number[];
  /**
   * Only cells of this class: by the consensus (every person who voted chose it), or by the vote
   * of `classAnnotatorId` when given. A blind viewer filters by their own vote.
   */
  classId?: number;
  classAnnotatorId?: number;
  /** Only cells this annotator voted on. */
  annotatorId?: number;
  /** Only cells whose people's votes differ. */
  disagreementOnly?: boolean;
  /** Only cells the viewer has not voted on yet. */
  unlabelledByMe?: boolean;
}

export interface Page {
  limit: number;
  offset: number;
}

export interface CellPage {
  /** Cells matching the filter, all pages together. */
  total: number;
  /** This page, ordered by slide id, then annotation id. */
  cells: Annotation[];
}

export interface DisagreementPage extends CellPage {
  /** Everyone who voted on a cell of this page. */
  annotators: { id: number; name: string; kind: AnnotatorKind }[];
}

/** One annotator's vote changing (cast, changed or cleared) in one change of the history. */
export interface ReviewLogEntry {
  changeId: number;
  at: string;
  /** 'undo' / 'redo' when the vote changed by undoing or redoing an earlier change. */
  kind: ChangeKind;
  action: 'label' | 'relabel' | 'clear';
  /** The vote came with an annotation file (the change was an import), not from labelling. */
  imported: boolean;
  /** Whose vote it is. */
  annotator: { id: number; name: string };
  /** Who made the change: the annotator, or someone who imported votes for them. */
  actor: { id: number; name: string };
  annotationId: number;
  /** Null when the slide was deleted for good. */
  slideId: number | null;
  /** Where the cell is now (level-0 pixels), to open it in the viewer; null when its slide was deleted for good. */
  centre: { x: number; y: number } | null;
  classBefore: number | null;
  classAfter: number | null;
}

export interface HourCount {
  annotatorId: number;
  /** Clock hour in the caller's time zone: 'YYYY-MM-DDTHH'. */
  hour: string;
  labels: number;
}

export interface AnnotatorRate {
  annotatorId: number;
  name: string;
  /** Label events (see ReviewQueries.labelLog) in the range. */
  labels: number;
  /** Time spent labelling: the sum of the gaps between consecutive label events of at most ACTIVE_GAP_MS. */
  activeSeconds: number;
  /** Label events that followed the previous one within ACTIVE_GAP_MS, per hour of activeSeconds; null without any. */
  labelsPerActiveHour: number | null;
  firstAt: string | null;
  lastAt: string | null;
}

export interface LabelLog {
  /** Entries in the range, all pages together. */
  total: number;
  /** Newest first. */
  entries: ReviewLogEntry[];
  perHour: HourCount[];
  rates: AnnotatorRate[];
}

export interface LabelLogOptions {
  /** Only this annotator's votes. */
  annotatorId?: number;
  /** ISO timestamps; `from` included, `to` excluded. */
  from?: string;
  to?: string;
  /** Minutes to add to UTC for the clock hours (e.g. 540 for Japan); default 0. */
  utcOffsetMinutes?: number;
  limit?: number;
  offset?: number;
}

/** A pause longer than this between two label events is a break, not labelling time. */
export const ACTIVE_GAP_MS = 5 * 60_000;
const DEFAULT_LOG_LIMIT = 500;

interface VoteRow {
  annotation_id: number;
  annotator_id: number;
  class_id: number;
  kind: AnnotatorKind;
}

interface LogRow {
  change_id: number;
  at: string;
  kind: ChangeKind;
  actor_id: number;
  description: string;
  /** Null on the one row of an import (see bulk_votes). */
  annotation_id: number | null;
  slide_id: number | null;
  centre_x: number | null;
  centre_y: number | null;
  before_json: string | null;
  after_json: string | null;
  /** On the one row of an import: how many entries it gives (its votes, of the annotator asked for); else null. */
  bulk_votes: number | null;
}

/** Person votes of cell `a`, for the consensus conditions (models never decide, see consensus.ts). */
const PERSON_VOTES = `SELECT 1 FROM labels pv JOIN annotators pn ON pn.id = pv.annotator_id AND pn.kind = 'person' WHERE pv.annotation_id = a.id`;

/**
 * The review side of labelling, over the whole project: the cell gallery's filtered pages, the
 * per-person label log with labels per hour, and the cells whose votes differ. Framework-free;
 * read-only; give it the open project database. Visibility follows AnnotationStore.queryRect:
 * a blind viewer sees only their own votes and no consensus (see visibility.ts).
 */
export class ReviewQueries {
  private readonly statements: ReturnType<typeof prepare>;
  private readonly filtered = new Map<string, { count: Statement; page: Statement }>();

  constructor(private readonly db: Database) {
    this.statements = prepare(db);
  }

  /** One page of the live cells that match `filter`, as `viewer` may see them. */
  cells(filter: CellFilter, viewer: ViewerOptions, page: Page): CellPage {
    this.requireViewer(viewer);
    const clean = this.checkFilter(filter, viewer);
    const { limit, offset } = checkPage(page);
    const { sql, parameters } = whereClause(clean, viewer);
    let prepared = this.filtered.get(sql);
    if (!prepared) {
      prepared = {
        count: this.db.prepare(`SELECT count(*) AS n FROM annotations a JOIN slides s ON s.id = a.slide_id WHERE ${sql}`),
        page: this.db.prepare(
          `SELECT a.* FROM annotations a JOIN slides s ON s.id = a.slide_id WHERE ${sql} ORDER BY a.slide_id, a.id LIMIT @limit OFFSET @offset`,
        ),
      };
      this.filtered.set(sql, prepared);
    }
    const total = (prepared.count.get(parameters) as { n: number }).n;
    const rows = prepared.page.all({ ...parameters, limit, offset }) as AnnotationRow[];
    return { total, cells: this.seen(rows, viewer) };
  }

  /**
   * Cells whose people's votes differ, with every vote and the names of who cast them. Refused
   * in blind mode: the review shows the other annotators' votes.
   */
  disagreements(viewer: ViewerOptions, page: Page, slideIds?: readonly number[]): DisagreementPage {
    this.requireViewer(viewer);
    if (viewer.blind) {
      throw new InvalidAnnotationInputError(
        'blind',
        "reviewing disagreements shows every annotator's vote, which blind mode hides; turn blind mode off to review them",
      );
    }
    const found = this.cells({ slideIds, disagreementOnly: true }, { viewerId: viewer.viewerId }, page);
    const voters = new Set(found.cells.flatMap((cell) => cell.votes.map((vote) => vote.annotatorId)));
    const annotators = (this.statements.annotators.all() as { id: number; name: string; kind: AnnotatorKind }[]).filter((annotator) =>
      voters.has(annotator.id),
    );
    return { ...found, annotators };
  }

  /**
   * Every change of a vote in the range, newest first and paged, read from the append-only
   * history: one entry per annotator whose vote a change altered (an import that brings two
   * experts' votes gives two entries per cell, with the importer as actor).
   *
   * Labels per hour and the rates count *label events*: a vote cast or changed ('label',
   * 'relabel') by the annotator themselves in an ordinary edit. Cleared votes, undo and redo,
   * and imported votes (an import's description starts with "import ", see AnnotationImporter)
   * are in the log but are not labelling work.
   */
  labelLog(options: LabelLogOptions = {}): LabelLog {
    const annotatorId = options.annotatorId ?? null;
    if (annotatorId !== null) this.requireAnnotator(annotatorId, 'annotatorId');
    const from = checkTimestamp(options.from, 'from');
    const to = checkTimestamp(options.to, 'to');
    const offsetMinutes = options.utcOffsetMinutes ?? 0;
    if (!Number.isInteger(offsetMinutes) || Math.abs(offsetMinutes) > 14 * 60) {
      throw new InvalidAnnotationInputError('utcOffsetMinutes', 'must be a whole number of minutes between -840 and 840');
    }
    const { limit, offset } = checkPage({ limit: options.limit ?? DEFAULT_LOG_LIMIT, offset: options.offset ?? 0 });

    const names = new Map((this.statements.annotators.all() as { id: number; name: string }[]).map((row) => [row.id, row.name]));
    const nameOf = (id: number) => ({ id, name: names.get(id) ?? `annotator ${id}` });
    // Newest first. Only the entries of the requested page are built; the others are counted,
    // and kept only when they are label events. An import (AnnotationStore.importAnnotations)
    // only creates cells, so each of its votes is one entry: it comes as one row whose votes
    // SQLite counts, and its items are read only when the page shows some of them.
    const page: ReviewLogEntry[] = [];
    const events: ReviewLogEntry[] = [];
    let total = 0;
    const end = offset + limit;
    const entriesOf = (row: LogRow): void => {
      const before = stateFromJson(row.before_json);
      const after = stateFromJson(row.after_json!)!;
      const voters = new Set([...(before?.votes ?? []), ...after.votes].map((vote) => vote.annotatorId));
      for (const voter of [...voters].sort((a, b) => b - a)) {
        if (annotatorId !== null && voter !== annotatorId) continue;
        const classBefore = voteOf(before, voter);
        const classAfter = voteOf(after, voter);
        if (classBefore === classAfter) continue;
        const entry: ReviewLogEntry = {
          changeId: row.change_id,
          at: row.at,
          kind: row.kind,
          action: classAfter === null ? 'clear' : classBefore === null ? 'label' : 'relabel',
          imported: row.kind === 'edit' && /^import /i.test(row.description),
          annotator: nameOf(voter),
          actor: nameOf(row.actor_id),
          annotationId: row.annotation_id!,
          slideId: row.slide_id,
          centre: row.centre_x === null || row.centre_y === null ? null : { x: row.centre_x, y: row.centre_y },
          classBefore,
          classAfter,
        };
        if (total >= offset && total < end) page.push(entry);
        if (isLabelEvent(entry)) events.push(entry);
        total += 1;
      }
    };
    for (const row of this.statements.log.iterate({ from, to, annotatorId }) as IterableIterator<LogRow>) {
      if (row.bulk_votes === null) {
        entriesOf(row);
        continue;
      }
      const start = total;
      if (total < end && total + row.bulk_votes > offset) {
        for (const item of this.statements.importItems.iterate(row.change_id) as IterableIterator<LogRow>) {
          if (total >= end) break;
          entriesOf(item);
        }
      }
      total = start + row.bulk_votes;
    }
    return { total, entries: page, perHour: perHour(events, offsetMinutes), rates: rates(events) };
  }

  private seen(rows: AnnotationRow[], viewer: ViewerOptions): Annotation[] {
    if (rows.length === 0) return [];
    const votes = new Map<number, VisibleVote[]>();
    const ids = JSON.stringify(rows.map((row) => row.id));
    for (const vote of this.statements.votesOf.iterate(ids) as IterableIterator<VoteRow>) {
      const list = votes.get(vote.annotation_id) ?? [];
      list.push({ annotatorId: vote.annotator_id, classId: vote.class_id, annotatorKind: vote.kind });
      votes.set(vote.annotation_id, list);
    }
    return rows.flatMap((row) => annotationAsSeen(row, votes.get(row.id) ?? [], viewer, geometryOf(row)) ?? []);
  }

  /** What a blind viewer may not ask: each of these would reveal the others' votes. */
  private checkFilter(filter: CellFilter, viewer: ViewerOptions): CellFilter {
    if (typeof filter !== 'object' || filter === null) throw new InvalidAnnotationInputError('filter', 'must be an object');
    const slideIds = filter.slideIds ?? [];
    slideIds.forEach((id, index) => requireId(id, `filter.slideIds[${index}]`));
    if (filter.classId !== undefined) {
      requireId(filter.classId, 'filter.classId');
      if (this.statements.classExists.get(filter.classId) === undefined) throw new UnknownReferenceError('filter.classId', 'class', filter.classId);
    }
    if (filter.classAnnotatorId !== undefined) {
      if (filter.classId === undefined) throw new InvalidAnnotationInputError('filter.classAnnotatorId', 'needs filter.classId (whose vote for which class)');
      this.requireAnnotator(filter.classAnnotatorId, 'filter.classAnnotatorId');
    }
    if (filter.annotatorId !== undefined) this.requireAnnotator(filter.annotatorId, 'filter.annotatorId');
    if (viewer.blind) {
      const hidden = 'blind mode shows only your own votes; turn blind mode off to filter by';
      if (filter.disagreementOnly) throw new InvalidAnnotationInputError('filter.disagreementOnly', `${hidden} disagreement`);
      if (filter.annotatorId !== undefined && filter.annotatorId !== viewer.viewerId) {
        throw new InvalidAnnotationInputError('filter.annotatorId', `${hidden} another annotator`);
      }
      if (filter.classAnnotatorId !== undefined && filter.classAnnotatorId !== viewer.viewerId) {
        throw new InvalidAnnotationInputError('filter.classAnnotatorId', `${hidden} another annotator's class`);
      }
    }
    return { ...filter, slideIds };
  }

  private requireViewer(viewer: ViewerOptions): void {
    if (typeof viewer !== 'object' || viewer === null) throw new InvalidAnnotationInputError('viewer', 'must name the viewing annotator');
    this.requireAnnotator(viewer.viewerId, 'viewer.viewerId');
  }

  private requireAnnotator(id: unknown, field: string): void {
    if (!Number.isInteger(id) || this.statements.annotatorExists.get(id) === undefined) {
      throw new UnknownReferenceError(field, 'annotator', id);
    }
  }
}

const IN_RANGE = '(@from IS NULL OR c.at >= @from) AND (@to IS NULL OR c.at < @to)';
/** An import's change: AnnotationStore.importAnnotations starts every import's description so. */
const IS_IMPORT = `(c.kind = 'edit' AND substr(c.description, 1, ${IMPORT_DESCRIPTION_PREFIX.length}) = '${IMPORT_DESCRIPTION_PREFIX}')`;

function prepare(db: Database) {
  return {
    annotators: db.prepare('SELECT id, name, kind FROM annotators ORDER BY id'),
    annotatorExists: db.prepare('SELECT 1 FROM annotators WHERE id = ?'),
    classExists: db.prepare('SELECT 1 FROM classes WHERE id = ?'),
    votesOf: db.prepare(
      `SELECT l.annotation_id, l.annotator_id, l.class_id, n.kind FROM labels l JOIN annotators n ON n.id = l.annotator_id
       WHERE l.annotation_id IN (SELECT value FROM json_each(?)) ORDER BY l.annotation_id, l.annotator_id`,
    ),
    // Every change of the range, newest first: an import as one row with its votes counted,
    // any other change as one row per annotation it touched.
    log: db.prepare(
      `SELECT c.id AS change_id, c.at, c.kind, c.actor_id, c.description, NULL AS annotation_id, NULL AS slide_id,
              NULL AS centre_x, NULL AS centre_y, NULL AS before_json, NULL AS after_json,
              (SELECT count(*) FROM change_items i, json_each(i.after_json, '$.votes') v
               WHERE i.change_id = c.id AND (@annotatorId IS NULL OR json_extract(v.value, '$.annotatorId') = @annotatorId)) AS bulk_votes
       FROM changes c
       WHERE ${IN_RANGE} AND ${IS_IMPORT}
       UNION ALL
       SELECT c.id, c.at, c.kind, c.actor_id, c.description, i.annotation_id, a.slide_id, a.centre_x, a.centre_y,
              i.before_json, i.after_json, NULL
       FROM changes c JOIN change_items i ON i.change_id = c.id LEFT JOIN annotations a ON a.id = i.annotation_id
       WHERE ${IN_RANGE} AND NOT ${IS_IMPORT}
       ORDER BY change_id DESC, annotation_id DESC`,
    ),
    importItems: db.prepare(
      `SELECT c.id AS change_id, c.at, c.kind, c.actor_id, c.description, i.annotation_id, a.slide_id, a.centre_x, a.centre_y,
              i.before_json, i.after_json, NULL AS bulk_votes
       FROM change_items i JOIN changes c ON c.id = i.change_id LEFT JOIN annotations a ON a.id = i.annotation_id
       WHERE i.change_id = ? ORDER BY i.annotation_id DESC`,
    ),
  };
}

/** The WHERE clause for a filter: the SQL depends only on which criteria are present (one prepared statement each). */
function whereClause(filter: CellFilter, viewer: ViewerOptions): { sql: string; parameters: Record<string, unknown> } {
  const conditions = ['a.deleted_at IS NULL', 's.deleted_at IS NULL'];
  const parameters: Record<string, unknown> = { viewerId: viewer.viewerId };
  const own = 'SELECT 1 FROM labels ov WHERE ov.annotation_id = a.id AND ov.annotator_id = @viewerId';
  if (viewer.blind) {
    // asSeenBy: their own vote, their own cell, or (when asked) a candidate without votes.
    if (!viewer.includeUnlabelledCandidates) conditions.push(`(a.created_by = @viewerId OR EXISTS (${own}))`);
  }
  if (filter.slideIds && filter.slideIds.length > 0) {
    conditions.push('a.slide_id IN (SELECT value FROM json_each(@slideIds))');
    parameters.slideIds = JSON.stringify(filter.slideIds);
  }
  if (filter.classId !== undefined) {
    parameters.classId = filter.classId;
    const voter = filter.classAnnotatorId ?? (viewer.blind ? viewer.viewerId : null);
    if (voter !== null) {
      conditions.push('EXISTS (SELECT 1 FROM labels cv WHERE cv.annotation_id = a.id AND cv.annotator_id = @classVoter AND cv.class_id = @classId)');
      parameters.classVoter = voter;
    } else {
      // Agreed on the class: some person chose it and no person chose another.
      conditions.push(`EXISTS (${PERSON_VOTES} AND pv.class_id = @classId) AND NOT EXISTS (${PERSON_VOTES} AND pv.class_id <> @classId)`);
    }
  }
  if (filter.annotatorId !== undefined) {
    conditions.push('EXISTS (SELECT 1 FROM labels av WHERE av.annotation_id = a.id AND av.annotator_id = @annotatorId)');
    parameters.annotatorId = filter.annotatorId;
  }
  if (filter.disagreementOnly) {
    conditions.push(
      `EXISTS (SELECT 1 FROM labels dv JOIN annotators dn ON dn.id = dv.annotator_id AND dn.kind = 'person'
        WHERE dv.annotation_id = a.id AND EXISTS (${PERSON_VOTES} AND pv.class_id <> dv.class_id))`,
    );
  }
  if (filter.unlabelledByMe) conditions.push(`NOT EXISTS (${own})`);
  return { sql: conditions.join(' AND '), parameters };
}

function isLabelEvent(entry: ReviewLogEntry): boolean {
  return entry.kind === 'edit' && !entry.imported && entry.action !== 'clear' && entry.actor.id === entry.annotator.id;
}

/** Label events per annotator and clock hour (UTC shifted by the offset), oldest hour first. */
export function perHour(events: readonly ReviewLogEntry[], utcOffsetMinutes = 0): HourCount[] {
  const counts = new Map<string, HourCount>();
  for (const event of events) {
    const local = new Date(Date.parse(event.at) + utcOffsetMinutes * 60_000).toISOString();
    const hour = local.slice(0, 13);
    const key = `${event.annotator.id} ${hour}`;
    const count = counts.get(key) ?? { annotatorId: event.annotator.id, hour, labels: 0 };
    count.labels += 1;
    counts.set(key, count);
  }
  return [...counts.values()].sort((a, b) => a.hour.localeCompare(b.hour) || a.annotatorId - b.annotatorId);
}

/**
 * Each annotator's pace while labelling: the gaps between consecutive label events that are at
 * most ACTIVE_GAP_MS count as active time (a longer pause is a break); the rate is the number of
 * those gaps, i.e. the labels that followed one another, per active hour.
 */
export function rates(events: readonly ReviewLogEntry[]): AnnotatorRate[] {
  const byAnnotator = new Map<number, ReviewLogEntry[]>();
  for (const event of events) {
    const list = byAnnotator.get(event.annotator.id) ?? [];
    list.push(event);
    byAnnotator.set(event.annotator.id, list);
  }
  return [...byAnnotator.entries()]
    .sort(([a], [b]) => a - b)
    .map(([annotatorId, list]) => {
      const times = list.map((event) => Date.parse(event.at)).sort((a, b) => a - b);
      let activeMs = 0;
      let paced = 0;
      for (let index = 1; index < times.length; index += 1) {
        const gap = times[index]! - times[index - 1]!;
        if (gap <= ACTIVE_GAP_MS) {
          activeMs += gap;
          paced += 1;
        }
      }
      return {
        annotatorId,
        name: list[0]!.annotator.name,
        labels: list.length,
        activeSeconds: activeMs / 1000,
        labelsPerActiveHour: activeMs > 0 ? paced / (activeMs / 3_600_000) : null,
        firstAt: new Date(times[0]!).toISOString(),
        lastAt: new Date(times.at(-1)!).toISOString(),
      };
    });
}

function checkPage(page: Page): Page {
  if (typeof page !== 'object' || page === null) throw new InvalidAnnotationInputError('page', 'must give limit and offset');
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > 5000) {
    throw new InvalidAnnotationInputError('limit', 'must be a whole number from 1 to 5000');
  }
  if (!Number.isInteger(page.offset) || page.offset < 0) throw new InvalidAnnotationInputError('offset', 'must be a whole number, 0 or more');
  return page;
}

function checkTimestamp(value: string | undefined, field: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw new InvalidAnnotationInputError(field, `must be an ISO date and time such as 2026-03-02T09:00:00.000Z (got ${JSON.stringify(value)})`);
  }
  // Stored timestamps are toISOString() texts: compare like with like.
  return new Date(value).toISOString();
}

function requireId(value: unknown, field: string): void {
  if (!Number.isInteger(value) || (value as number) < 1) throw new InvalidAnnotationInputError(field, 'must be a positive whole number');
}
