import crypto from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { carryOver, sortVotes, statesEqual, type AnnotationState } from './annotationState';
import { annotationAsSeen, AnnotationRows, geometryOf, type AnnotationRow } from './AnnotationRows';
import { AnnotatorRegistry } from './AnnotatorRegistry';
import { colourKeyOf } from './colourKey';
import { ChangeLog, type ChangeItem, type HistoryEntry, type LabelLogEntry } from './ChangeLog';
import { ClassCatalog, type ClassUpdate, type NewClass } from './ClassCatalog';
import { InvalidAnnotationInputError, UnknownReferenceError } from './errors';
import { boundsOf, intersects, validateGeometry, validateRect, type Geometry, type LevelZeroRect } from './geometry';
import { emptyStacks, replayAll, replayChange, type Stacks } from './undoStacks';
import { asSeenBy } from './visibility';
import type {
  Annotation,
  AnnotationChangeEvent,
  AnnotationClass,
  Annotator,
  AnnotatorKind,
  ChangeKind,
  ChangeOrigin,
  ViewerOptions,
  Vote,
} from './types';

/** Every import's change description starts with this (see importAnnotations). */
export const IMPORT_DESCRIPTION_PREFIX = 'import ';

/** Migration 006: votes_json, the points-by-place index and the regions' R*Tree (AnnotationRows reads them). */
const REQUIRED_SCHEMA_VERSION = 6;

export interface AnnotationStoreOptions {
  /** Clock for timestamps (tests). */
  now?: () => Date;
  /** A listener that throws must not undo a committed change; its error goes here. */
  onListenerError?: (error: unknown) => void;
}

/** An annotation arriving from a file: its own guid, creator and everyone's votes. */
export interface ImportedAnnotation {
  slideId: number;
  geometry: Geometry;
  guid?: string;
  /** Defaults to the importing actor. */
  createdBy?: number;
  votes?: Vote[];
}

/** What a committed change did; `changeId` is null when the call changed nothing. */
export interface ChangeReceipt {
  changeId: number | null;
  annotationIds: number[];
}

export interface CreatedAnnotation {
  id: number;
  guid: string;
  changeId: number;
}

export interface UndoReceipt {
  changeId: number;
  /** The change that was undone (for undo) or the undo that was reversed (for redo). */
  reversedChangeId: number;
  description: string;
  annotationIds: number[];
}

export interface UndoStatus {
  /** What Ctrl+Z would undo, e.g. "vote mitotic figure"; null when nothing. */
  undo: string | null;
  redo: string | null;
}

/**
 * The live annotations of a rectangle in a compact form for drawing many cells: points as
 * parallel arrays (id, centre, colour key: see colourKeyOf), regions (few) in full.
 */
export interface PointCells {
  ids: number[];
  xs: number[];
  ys: number[];
  keys: number[];
  /** Indexes (into ids) of the points whose voters disagree, the viewer's own vote or not (none in blind mode). */
  disputed: number[];
  regions: Annotation[];
}

export type AnnotationChangeListener = (event: AnnotationChangeEvent) => void;

interface SlideItem extends ChangeItem {
  slideId: number;
}

interface PendingChange {
  actorId: number;
  kind: ChangeKind;
  targetChangeId: number | null;
  description: string;
  items: SlideItem[];
}

interface Committed {
  changeId: number;
  change: PendingChange;
  previousChangeId: number | null;
}

/**
 * The annotations of one project: geometry, per-annotator votes, consensus, spatial queries,
 * append-only history and per-actor undo/redo. Framework-free; give it the open project database
 * (ProjectDatabase.db: WAL, synchronous=FULL, foreign keys on).
 *
 * Every mutation is one IMMEDIATE transaction that also appends its change to the history, so it
 * is on disk when the call returns; change events are sent after the commit.
 */
export class AnnotationStore {
  private readonly rows: AnnotationRows;
  private readonly log: ChangeLog;
  private readonly classes: ClassCatalog;
  private readonly annotators: AnnotatorRegistry;
  private readonly stacks = new Map<number, Stacks>();
  private readonly listeners = new Set<AnnotationChangeListener>();
  private readonly now: () => Date;
  private readonly onListenerError: (error: unknown) => void;
  private readonly slideExists: Statement;

  constructor(
    private readonly db: Database,
    options: AnnotationStoreOptions = {},
  ) {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version < REQUIRED_SCHEMA_VERSION) {
      throw new Error(`the project database is at schema ${version}; annotations need schema ${REQUIRED_SCHEMA_VERSION} (open it through ProjectDatabase)`);
    }
    this.rows = new AnnotationRows(db);
    this.log = new ChangeLog(db);
    this.classes = new ClassCatalog(db);
    this.annotators = new AnnotatorRegistry(db);
    this.slideExists = db.prepare('SELECT 1 FROM slides WHERE id = ? AND deleted_at IS NULL');
    this.now = options.now ?? (() => new Date());
    this.onListenerError = options.onListenerError ?? ((error) => console.error('annotation change listener failed:', error));
  }

  // Classes and annotators

  listClasses(options: { includeDeleted?: boolean } = {}): AnnotationClass[] {
    return this.classes.list(options);
  }

  createClass(input: NewClass): AnnotationClass {
    return this.classes.create(input);
  }

  updateClass(classId: number, changes: ClassUpdate): AnnotationClass {
    return this.classes.update(classId, changes);
  }

  /** Soft: the class can no longer be chosen; votes for it are kept and still shown. */
  deleteClass(classId: number): void {
    this.classes.softDelete(classId);
  }

  ensureAnnotator(name: string, kind: AnnotatorKind = 'person'): Annotator {
    return this.annotators.ensure(name, kind);
  }

  listAnnotators(): Annotator[] {
    return this.annotators.list();
  }

  // Edits

  /** A new annotation, optionally with the actor's vote: a point with a class is "click to label". */
  createAnnotation(slideId: number, geometry: Geometry, actorId: number, classId?: number | null): CreatedAnnotation {
    const clean = validateGeometry(geometry);
    const guid = crypto.randomUUID();
    const { changeId, change } = this.commit('local', (at) => {
      this.requireSlide(slideId, 'slideId');
      this.annotators.require(actorId);
      const chosen = classId ?? null;
      const votes = chosen === null ? [] : [{ annotatorId: actorId, classId: this.classes.requireLive(chosen).id }];
      const item = this.insertAnnotation({ slideId, geometry: clean, guid, createdBy: actorId, votes }, at);
      const label = chosen === null ? '' : ` as ${this.className(chosen)}`;
      return { actorId, kind: 'edit', targetChangeId: null, description: `create ${clean.shape}${label}`, items: [item] };
    })!;
    return { id: change.items[0]!.annotationId, guid, changeId };
  }

  /**
   * Annotations from a file, all or nothing, as one change of `actorId` (so one undo removes
   * the whole import); events carry the origin 'import'. The change's description always starts
   * with IMPORT_DESCRIPTION_PREFIX (how the label log tells imported votes from labelling work),
   * followed by the count and `source` (a file or folder) when given.
   */
  importAnnotations(actorId: number, annotations: readonly ImportedAnnotation[], source?: string): ChangeReceipt {
    if (!Array.isArray(annotations)) throw new InvalidAnnotationInputError('annotations', 'must be an array');
    const clean = annotations.map((annotation, index) => validateImported(annotation, `annotations[${index}]`));
    if (clean.length === 0) {
      this.annotators.require(actorId);
      return { changeId: null, annotationIds: [] };
    }
    const { changeId, change } = this.commit('import', (at) => {
      this.annotators.require(actorId);
      const seenSlides = new Set<number>();
      const seenGuids = new Set<string>();
      const items = clean.map((annotation, index) => {
        const field = `annotations[${index}]`;
        if (!seenSlides.has(annotation.slideId)) this.requireSlide(annotation.slideId, `${field}.slideId`);
        seenSlides.add(annotation.slideId);
        const guid = annotation.guid ?? crypto.randomUUID();
        if (seenGuids.has(guid) || this.rows.guidTaken(guid)) {
          throw new InvalidAnnotationInputError(`${field}.guid`, `an annotation with guid ${JSON.stringify(guid)} already exists`);
        }
        seenGuids.add(guid);
        const createdBy = this.annotators.require(annotation.createdBy ?? actorId, `${field}.createdBy`).id;
        const votes = annotation.votes.map((vote, voteIndex) => {
          this.annotators.require(vote.annotatorId, `${field}.votes[${voteIndex}].annotatorId`);
          this.classes.requireLive(vote.classId, `${field}.votes[${voteIndex}].classId`);
          return vote;
        });
        return this.insertAnnotation({ slideId: annotation.slideId, geometry: annotation.geometry, guid, createdBy, votes }, at);
      });
      const text = `${IMPORT_DESCRIPTION_PREFIX}${items.length} annotation${items.length === 1 ? '' : 's'}${source ? ` from ${source}` : ''}`;
      return { actorId, kind: 'edit', targetChangeId: null, description: text, items };
    })!;
    return { changeId, annotationIds: change.items.map((item) => item.annotationId) };
  }

  /** New geometry of the same shape (moved, resized or reshaped). */
  move(annotationId: number, actorId: number, geometry: Geometry): ChangeReceipt {
    const clean = validateGeometry(geometry);
    return this.editOne(annotationId, actorId, `move ${clean.shape}`, (state) => {
      if (state.geometry.shape !== clean.shape) {
        throw new InvalidAnnotationInputError('geometry.shape', `a ${state.geometry.shape} cannot become a ${clean.shape}`);
      }
      return { ...state, geometry: clean };
    });
  }

  /** The actor's own vote; other annotators' votes are untouched. */
  setVote(annotationId: number, actorId: number, classId: number): ChangeReceipt {
    return this.editOne(annotationId, actorId, () => `vote ${this.className(classId)}`, (state) => {
      this.classes.requireLive(classId);
      const others = state.votes.filter((vote) => vote.annotatorId !== actorId);
      return { ...state, votes: sortVotes([...others, { annotatorId: actorId, classId }]) };
    });
  }

  clearVote(annotationId: number, actorId: number): ChangeReceipt {
    return this.editOne(annotationId, actorId, 'clear vote', (state) => ({
      ...state,
      votes: state.votes.filter((vote) => vote.annotatorId !== actorId),
    }));
  }

  /** Soft delete: the annotation and its votes stay in the database and come back on undo. */
  delete(annotationId: number, actorId: number): ChangeReceipt {
    return this.editOne(annotationId, actorId, (state) => `delete ${state.geometry.shape}`, (state) => ({ ...state, deleted: true }));
  }

  /** Reverses the actor's newest change that is not yet undone; null when there is none. */
  undo(actorId: number): UndoReceipt | null {
    return this.reverseTopOf(actorId, 'undo');
  }

  /** Reverses the actor's newest undo, unless an edit came after it; null when there is none. */
  redo(actorId: number): UndoReceipt | null {
    return this.reverseTopOf(actorId, 'redo');
  }

  undoStatus(actorId: number): UndoStatus {
    this.annotators.require(actorId);
    const stacks = this.stacksOf(actorId);
    const describe = (id: number | undefined) => (id === undefined ? null : (this.log.change(id)?.description ?? null));
    return { undo: describe(stacks.undo.at(-1)), redo: describe(stacks.redo.at(-1)) };
  }

  // Reading

  /** One annotation, deleted ones included (see deletedAt); null when unknown or hidden from a blind viewer. */
  get(annotationId: number, viewer: ViewerOptions): Annotation | null {
    this.requireViewer(viewer);
    const row = this.rows.row(annotationId);
    return row ? annotationAsSeen(row, this.rows.votes(row.id), viewer, geometryOf(row)) : null;
  }

  /**
   * Live annotations of one slide whose bounds meet `rect` (level-0 pixels, edges included),
   * as `viewer` may see them (see asSeenBy for blind mode). Answered by the R*Tree.
   */
  queryRect(slideId: number, rect: LevelZeroRect, viewer: ViewerOptions): Annotation[] {
    const clean = validateRect(rect);
    this.requireViewer(viewer);
    this.requireSlide(slideId, 'slideId');
    const window = { slideId, minX: clean.x, minY: clean.y, maxX: clean.x + clean.width, maxY: clean.y + clean.height };
    const found: Annotation[] = [];
    for (const { row, geometry, votes } of this.rows.candidatesIn(window)) {
      if (!intersects(boundsOf(geometry), clean)) continue;
      const seen = annotationAsSeen(row, votes, viewer, geometry);
      if (seen) found.push(seen);
    }
    return found;
  }

  /**
   * What queryRect answers, compact (see PointCells): ~25 bytes of JSON per point instead of
   * ~400. Visibility is the same (asSeenBy), and each distinct vote pattern is judged once.
   */
  queryPoints(slideId: number, rect: LevelZeroRect, viewer: ViewerOptions): PointCells {
    const clean = validateRect(rect);
    this.requireViewer(viewer);
    this.requireSlide(slideId, 'slideId');
    const window = { slideId, minX: clean.x, minY: clean.y, maxX: clean.x + clean.width, maxY: clean.y + clean.height };
    const votesOf = this.rows.votesParser();
    // Colour key and dispute per vote text (and, in blind mode, whether the viewer created the cell); null: hidden.
    const keyCache = new Map<string, { key: number; disputed: boolean } | null>();
    const cells: PointCells = { ids: [], xs: [], ys: [], keys: [], disputed: [], regions: [] };
    for (const [id, , x, y, createdBy, , json] of this.rows.pointsIn(window)) {
      const cacheKey = viewer.blind && createdBy === viewer.viewerId ? `own:${json}` : json;
      let judged = keyCache.get(cacheKey);
      if (judged === undefined) {
        const seen = asSeenBy({ createdBy, votes: votesOf(json) }, viewer);
        judged = seen ? { key: colourKeyOf(seen.votes, seen.consensus, viewer.viewerId), disputed: seen.consensus?.status === 'disagreement' } : null;
        keyCache.set(cacheKey, judged);
      }
      if (judged === null) continue;
      if (judged.disputed) cells.disputed.push(cells.ids.length);
      cells.ids.push(id);
      cells.xs.push(x);
      cells.ys.push(y);
      cells.keys.push(judged.key);
    }
    for (const { row, geometry, votes } of this.rows.regionsIn(window, votesOf)) {
      if (!intersects(boundsOf(geometry), clean)) continue;
      const seen = annotationAsSeen(row, votes, viewer, geometry);
      if (seen) cells.regions.push(seen);
    }
    return cells;
  }

  /** Every live annotation of a slide (export, gallery), as `viewer` may see them. */
  listForSlide(slideId: number, viewer: ViewerOptions): Annotation[] {
    this.requireViewer(viewer);
    this.requireSlide(slideId, 'slideId');
    return this.rows.ofSlide(slideId).flatMap(({ row, votes }) => annotationAsSeen(row, votes, viewer, geometryOf(row)) ?? []);
  }

  /** Who changed the annotation, what, when, with its full state before and after; oldest first. */
  history(annotationId: number): HistoryEntry[] {
    if (!this.rows.row(annotationId) && this.log.history(annotationId).length === 0) {
      throw new UnknownReferenceError('annotationId', 'annotation', annotationId);
    }
    return this.log.history(annotationId);
  }

  /** The actor's own votes as they cast, changed or cleared them (labels per hour: labelsPerHour). */
  labelLog(actorId: number, range: { from?: string; to?: string } = {}): LabelLogEntry[] {
    this.annotators.require(actorId);
    return this.log.labelLog(actorId, range);
  }

  /** Called after each committed change, once per slide it touched; returns the unsubscribe. */
  onChange(listener: AnnotationChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // Internals

  private editOne(
    annotationId: number,
    actorId: number,
    description: string | ((state: AnnotationState) => string),
    transform: (state: AnnotationState) => AnnotationState,
  ): ChangeReceipt {
    const committed = this.commit('local', (at) => {
      this.annotators.require(actorId);
      const row = this.requireLiveAnnotation(annotationId);
      const before = this.rows.state(row);
      const after = transform(before);
      if (statesEqual(before, after)) return null;
      this.rows.write(row.id, row.slide_id, before, after, at);
      const text = typeof description === 'string' ? description : description(before);
      return { actorId, kind: 'edit', targetChangeId: null, description: text, items: [{ annotationId: row.id, slideId: row.slide_id, before, after }] };
    });
    return committed ? { changeId: committed.changeId, annotationIds: [annotationId] } : { changeId: null, annotationIds: [] };
  }

  private reverseTopOf(actorId: number, kind: 'undo' | 'redo'): UndoReceipt | null {
    this.annotators.require(actorId);
    const committed = this.commit(kind, (at) => {
      const stacks = this.stacksOf(actorId);
      const targetId = (kind === 'undo' ? stacks.undo : stacks.redo).at(-1);
      if (targetId === undefined) return null;
      return this.reverse(actorId, kind, targetId, at);
    });
    if (!committed) return null;
    const { changeId, change } = committed;
    return {
      changeId,
      reversedChangeId: change.targetChangeId!,
      description: change.description,
      annotationIds: change.items.map((item) => item.annotationId),
    };
  }

  /** Carries the target change's after → before difference over to each annotation's present state. */
  private reverse(actorId: number, kind: 'undo' | 'redo', targetId: number, at: string): PendingChange {
    const target = this.log.change(targetId);
    const items: SlideItem[] = [];
    for (const item of this.log.items(targetId)) {
      const row = this.rows.row(item.annotationId);
      // Gone only when its slide was deleted for good; the history still shows it.
      if (!row) continue;
      const before = this.rows.state(row);
      const after = carryOver(before, item.after, item.before);
      this.rows.write(row.id, row.slide_id, before, after, at);
      items.push({ annotationId: row.id, slideId: row.slide_id, before, after });
    }
    const original = target?.description.replace(/^(undo|redo): /, '') ?? `change ${targetId}`;
    return { actorId, kind, targetChangeId: targetId, description: `${kind}: ${original}`, items };
  }

  private insertAnnotation(
    annotation: { slideId: number; geometry: Geometry; guid: string; createdBy: number; votes: Vote[] },
    at: string,
  ): SlideItem {
    const after: AnnotationState = { geometry: annotation.geometry, deleted: false, votes: sortVotes(annotation.votes) };
    const id = this.rows.insert({ ...annotation, votes: after.votes, createdAt: at });
    return { annotationId: id, slideId: annotation.slideId, before: null, after };
  }

  /**
   * Runs `work` in one IMMEDIATE transaction together with appending its change; then updates
   * the actor's cached undo stacks and tells the listeners. `work` returns null for "no change".
   */
  private commit(origin: ChangeOrigin, work: (at: string) => PendingChange | null): Committed | null {
    const at = this.now().toISOString();
    const committed = this.db
      .transaction((): Committed | null => {
        const change = work(at);
        if (!change) return null;
        const previousChangeId = this.log.lastChangeIdOf(change.actorId);
        const changeId = this.log.append({ ...change, at });
        return { changeId, change, previousChangeId };
      })
      .immediate();
    if (!committed) return null;
    this.rememberInStacks(committed);
    this.emit(origin, committed);
    return committed;
  }

  private rememberInStacks({ changeId, change, previousChangeId }: Committed): void {
    const cached = this.stacks.get(change.actorId);
    if (!cached) return;
    // Another process may have written changes of this actor: then rebuild when next needed.
    if (cached.lastChangeId !== previousChangeId) this.stacks.delete(change.actorId);
    else replayChange(cached, { id: changeId, kind: change.kind, targetChangeId: change.targetChangeId });
  }

  /** The actor's stacks, rebuilt from the history when not cached or out of date. */
  private stacksOf(actorId: number): Stacks {
    const last = this.log.lastChangeIdOf(actorId);
    const cached = this.stacks.get(actorId);
    if (cached && cached.lastChangeId === last) return cached;
    const rebuilt = last === null ? emptyStacks() : replayAll(this.log.changesOf(actorId));
    this.stacks.set(actorId, rebuilt);
    return rebuilt;
  }

  private emit(origin: ChangeOrigin, { changeId, change }: Committed): void {
    const bySlide = new Map<number, number[]>();
    for (const item of change.items) {
      const ids = bySlide.get(item.slideId);
      if (ids) ids.push(item.annotationId);
      else bySlide.set(item.slideId, [item.annotationId]);
    }
    for (const [slideId, annotationIds] of bySlide) {
      const event: AnnotationChangeEvent = { origin, slideId, annotationIds, changeId, actorId: change.actorId };
      for (const listener of [...this.listeners]) {
        try {
          listener(event);
        } catch (error) {
          this.onListenerError(error);
        }
      }
    }
  }

  private requireSlide(slideId: unknown, field: string): void {
    const found = Number.isInteger(slideId) && this.slideExists.get(slideId) !== undefined;
    if (!found) throw new UnknownReferenceError(field, 'slide', slideId);
  }

  private requireLiveAnnotation(annotationId: unknown): AnnotationRow {
    const row = Number.isInteger(annotationId) ? this.rows.row(annotationId as number) : null;
    if (!row) throw new UnknownReferenceError('annotationId', 'annotation', annotationId);
    if (row.deleted_at !== null) throw new UnknownReferenceError('annotationId', 'annotation', annotationId, ' (it was deleted)');
    return row;
  }

  private requireViewer(viewer: ViewerOptions): void {
    if (typeof viewer !== 'object' || viewer === null) throw new InvalidAnnotationInputError('viewer', 'must name the viewing annotator');
    this.annotators.require(viewer.viewerId, 'viewer.viewerId');
  }

  private className(classId: number): string {
    return this.classes.get(classId)?.name ?? `class ${classId}`;
  }
}

interface CheckedImport {
  slideId: number;
  geometry: Geometry;
  guid: string | undefined;
  createdBy: number | undefined;
  votes: Vote[];
}

/** The checks that need no database; ids are checked inside the transaction. */
function validateImported(annotation: ImportedAnnotation, field: string): CheckedImport {
  const geometry = validateGeometry(annotation?.geometry, `${field}.geometry`);
  if (annotation.guid !== undefined && (typeof annotation.guid !== 'string' || annotation.guid.length === 0)) {
    throw new InvalidAnnotationInputError(`${field}.guid`, 'must be a non-empty text when given');
  }
  const votes = annotation.votes ?? [];
  if (!Array.isArray(votes)) throw new InvalidAnnotationInputError(`${field}.votes`, 'must be an array of {annotatorId, classId}');
  const voters = new Set<number>();
  for (const [index, vote] of votes.entries()) {
    if (voters.has(vote?.annotatorId)) {
      throw new InvalidAnnotationInputError(`${field}.votes[${index}].annotatorId`, `annotator ${vote.annotatorId} voted twice`);
    }
    voters.add(vote?.annotatorId);
  }
  return { slideId: annotation.slideId, geometry, guid: annotation.guid, createdBy: annotation.createdBy, votes: sortVotes(votes) };
}
