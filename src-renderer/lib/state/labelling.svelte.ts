import type { AnnotationClassInfo, AnnotationGeometry, AnnotationInfo } from '../../../src-main/contract/schemas';
import { client } from '../api/client';
import { i18n } from '../i18n/i18n.svelte';
import { boundsOfGeometry } from '../viewer/cellOverlay';
import { hitTest, type Tool } from '../viewer/shapes';
import { appState } from './appState.svelte';

interface LevelZeroRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The point cells loaded around the view, as parallel arrays (annotations.queryPoints): id,
 * level-0 centre and colour key (the viewer's own vote's class id, else the agreed class id,
 * UNLABELLED_KEY or DISAGREEMENT_KEY).
 */
export interface LoadedPoints {
  ids: Float64Array;
  xs: Float64Array;
  ys: Float64Array;
  keys: Int32Array;
  /** 1 where the cell's voters disagree (whatever this viewer voted; never in blind mode), else 0. */
  disputed: Uint8Array;
}

/** An annotation a click reached: its id and geometry (enough to select and move it). */
export interface Hit {
  id: number;
  geometry: AnnotationGeometry;
}

export const UNLABELLED_KEY = 0;
export const DISAGREEMENT_KEY = -1;
const DISAGREEMENT_COLOUR = '#f59f00';
const UNLABELLED_POINT_COLOUR = '#868e96';
const EMPTY_POINTS: LoadedPoints = {
  ids: new Float64Array(0),
  xs: new Float64Array(0),
  ys: new Float64Array(0),
  keys: new Int32Array(0),
  disputed: new Uint8Array(0),
};
/** The cells are loaded for the view grown by this share of its size on each side (clamped to the slide). */
const LOAD_MARGIN = 0.5;
/**
 * Zoomed far into a large loaded rectangle, the overlay would still walk all its cells each
 * frame: above this many cells, a view whose own loading rectangle is SHRINK_RATIO times smaller
 * loads that one instead.
 */
const SHRINK_ABOVE_CELLS = 20_000;
const SHRINK_RATIO = 16;

const currentProjectFolder = (): string | null => appState.info?.project?.folder ?? null;

/**
 * Labelling in the viewer: who labels, with which class, blind or not, and the cells in view.
 * Every change goes to the main process at once (durable when the call returns). The cells are
 * loaded for a rectangle around the view and re-read after each change (of this window or
 * another: annotations.changed) and when the settled view leaves that rectangle; panning and
 * zooming inside it only recounts.
 */
class LabellingState {
  /** Live classes, the ones that can be chosen. */
  classes = $state<AnnotationClassInfo[]>([]);
  /** Deleted classes too: votes for them are kept and still drawn and named. */
  allClasses = $state<AnnotationClassInfo[]>([]);
  activeClassId = $state<number | null>(null);
  annotatorId = $state<number | null>(null);
  blind = $state(false);
  /** Raw (not deeply reactive): up to hundreds of thousands of cells, replaced whole on each refresh. */
  points = $state.raw<LoadedPoints>(EMPTY_POINTS);
  /** Circles, rectangles and polygons loaded around the view, in full (few). */
  regions = $state.raw<AnnotationInfo[]>([]);
  /** Annotations (cells and regions) in the settled view (data-cells, "N cells in view"). */
  cellsInView = $state(0);
  /** Cells in the settled view whose voters disagree (never in blind mode: no consensus is shown). */
  disagreementsInView = $state(0);
  /** The selected annotation in full, as this viewer may see it (read by id after each selection and refresh). */
  selected = $state.raw<AnnotationInfo | null>(null);
  /** In blind mode: also show others' cells I have not voted on, without their class. */
  showCandidates = $state(true);
  tool = $state<Tool>('point');
  /** Regions (circle, rectangle, polygon) get the active class; otherwise no class (an ROI or excluded area). */
  regionsWithClass = $state(false);
  selectedId = $state<number | null>(null);
  /** Grows after each refresh of the cells in view (the history panel re-reads on it). */
  revision = $state(0);
  #slideId: number | null = null;
  /** The project folder `annotatorId` belongs to (an id means nothing in another project). */
  #annotatorProject: string | null = null;
  /** The settled view (level-0, a little beyond its edges). */
  #view: LevelZeroRect | null = null;
  #slideSize: { width: number; height: number } | null = null;
  /** The rectangle whose cells are loaded (null: none yet). */
  #loaded: LevelZeroRect | null = null;
  /** The next read grows a new rectangle around the view instead of re-reading the loaded one. */
  #regrow = true;
  #refreshing: Promise<void> | null = null;
  #again = false;

  get annotatorName(): string | null {
    return appState.info?.annotatorName ?? null;
  }

  get activeClass(): AnnotationClassInfo | null {
    return this.classes.find((item) => item.id === this.activeClassId) ?? null;
  }

  /** The selected annotation's geometry while it is loaded, at once (the full annotation comes by id). */
  get selectedGeometry(): AnnotationGeometry | null {
    const id = this.selectedId;
    if (id === null) return null;
    const index = this.points.ids.indexOf(id);
    if (index >= 0) return { shape: 'point', x: this.points.xs[index]!, y: this.points.ys[index]! };
    return this.regions.find((region) => region.id === id)?.geometry ?? (this.selected?.id === id ? this.selected.geometry : null);
  }

  start(): void {
    client.on('annotations.changed', ({ slideId }) => {
      if (slideId === this.#slideId) void this.refresh();
    });
  }

  /**
   * Classes and the annotator of the open project. An annotator already chosen in this project is
   * kept as it is (so a name box being typed into is not replaced under the user's hands).
   */
  async load(): Promise<void> {
    if (!(await this.loadClasses())) return;
    if (this.annotatorId !== null && this.#annotatorProject === currentProjectFolder()) return this.refresh();
    this.annotatorId = null;
    if (this.annotatorName) await this.useAnnotator(this.annotatorName);
  }

  /** Re-reads the live classes (after an edit); the active class stays unless it was deleted. */
  async loadClasses(): Promise<boolean> {
    const classes = await appState.run(() => client.call('annotations.allClasses', {}));
    if (!classes) return false;
    this.allClasses = classes;
    this.classes = classes.filter((item) => item.deletedAt === null);
    if (!this.classes.some((item) => item.id === this.activeClassId)) this.activeClassId = this.classes[0]?.id ?? null;
    return true;
  }

  async useAnnotator(name: string): Promise<void> {
    const annotator = await appState.run(async () => {
      await client.call('settings.setAnnotatorName', { name });
      return client.call('annotations.ensureAnnotator', { name, kind: 'person' });
    });
    if (!annotator) return;
    if (appState.info) appState.info = { ...appState.info, annotatorName: annotator.name };
    this.annotatorId = annotator.id;
    this.#annotatorProject = currentProjectFolder();
    await this.refresh();
  }

  /** The class whose hotkey is `key` (case-insensitive), made active; null when no class has it. */
  pickByHotkey(key: string): AnnotationClassInfo | null {
    const match = this.classes.find((item) => item.hotkey === key.toLowerCase());
    if (match) this.activeClassId = match.id;
    return match ?? null;
  }

  /**
   * The settled view of a slide (`size`: its level-0 size). Reads the cells only when the view
   * leaves the rectangle already loaded (or the slide changed); otherwise recounts.
   */
  async show(slideId: number, view: LevelZeroRect, size: { width: number; height: number }): Promise<void> {
    const sameSlide = slideId === this.#slideId;
    this.#slideId = slideId;
    this.#view = view;
    this.#slideSize = size;
    const needed = clampRect(view, size);
    const wanted = clampRect(grow(view, LOAD_MARGIN), size);
    const loaded = this.#loaded;
    const tooLarge = loaded !== null && wanted !== null && this.points.xs.length > SHRINK_ABOVE_CELLS && area(loaded) > SHRINK_RATIO * area(wanted);
    if (sameSlide && loaded && !tooLarge && (needed === null || contains(loaded, needed))) {
      this.recount();
      return;
    }
    await this.refresh(true);
  }

  /**
   * Re-reads the loaded rectangle (`regrow`: first grow it again around the view). Calls while
   * a read is in flight are folded into one more read after it, which they all wait for.
   */
  async refresh(regrow = false): Promise<void> {
    if (regrow) this.#regrow = true;
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        await this.read();
      } while (this.#again);
    })();
    try {
      await this.#refreshing;
    } finally {
      this.#refreshing = null;
    }
  }

  private async read(): Promise<void> {
    const slideId = this.#slideId;
    const view = this.#view;
    const size = this.#slideSize;
    const viewerId = this.annotatorId;
    if (slideId === null || view === null || size === null || viewerId === null) {
      this.setLoaded(EMPTY_POINTS, []);
      return;
    }
    const rect = (this.#regrow ? null : this.#loaded) ?? clampRect(grow(view, LOAD_MARGIN), size) ?? view;
    this.#regrow = false;
    const viewer = { viewerId, blind: this.blind, includeUnlabelledCandidates: this.blind && this.showCandidates };
    try {
      const found = await client.call('annotations.queryPoints', { slideId, rect, ...viewer });
      if (slideId !== this.#slideId) return;
      this.#loaded = rect;
      const disputed = new Uint8Array(found.ids.length);
      for (const index of found.disputed) disputed[index] = 1;
      const points = { ids: Float64Array.from(found.ids), xs: Float64Array.from(found.xs), ys: Float64Array.from(found.ys), keys: Int32Array.from(found.keys), disputed };
      this.setLoaded(points, found.regions);
      this.revision += 1;
      const selectedId = this.selectedId;
      if (selectedId !== null) {
        const selected = await client.call('annotations.get', { annotationId: selectedId, ...viewer });
        if (selectedId === this.selectedId) this.selected = selected;
      }
    } catch (error) {
      appState.report(error);
    }
  }

  private setLoaded(points: LoadedPoints, regions: AnnotationInfo[]): void {
    this.points = points;
    this.regions = regions;
    this.recount();
  }

  /** Counts the annotations, and the disagreements, in the settled view. */
  private recount(): void {
    const view = this.#view;
    if (!view) {
      this.cellsInView = 0;
      this.disagreementsInView = 0;
      return;
    }
    const right = view.x + view.width;
    const bottom = view.y + view.height;
    const { xs, ys, disputed } = this.points;
    let cells = 0;
    let disagreements = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      const y = ys[i]!;
      if (x < view.x || x > right || y < view.y || y > bottom) continue;
      cells++;
      disagreements += disputed[i]!;
    }
    for (const region of this.regions) {
      const bounds = boundsOfGeometry(region.geometry);
      if (bounds.maxX < view.x || bounds.minX > right || bounds.maxY < view.y || bounds.minY > bottom) continue;
      cells++;
      if (region.consensus?.status === 'disagreement') disagreements++;
    }
    this.cellsInView = cells;
    this.disagreementsInView = disagreements;
  }

  /** The annotation a click at (x, y) reaches: the nearest cell within `reachPx`, else the smallest region. */
  hitAt(x: number, y: number, reachPx: number): Hit | null {
    const index = this.nearest(x, y, reachPx);
    if (index >= 0) return { id: this.points.ids[index]!, geometry: { shape: 'point', x: this.points.xs[index]!, y: this.points.ys[index]! } };
    const region = hitTest(this.regions, x, y, reachPx);
    return region ? { id: region.id, geometry: region.geometry } : null;
  }

  /**
   * Click to label: on an existing cell (within `reachPx` level-0 pixels of its centre) the
   * click is this person's vote for the active class; elsewhere it marks a new cell.
   */
  async labelPoint(slideId: number, x: number, y: number, reachPx: number): Promise<void> {
    if (this.annotatorId === null || this.activeClassId === null) return;
    const actorId = this.annotatorId;
    const classId = this.activeClassId;
    const existing = this.nearest(x, y, reachPx);
    const existingId = existing >= 0 ? this.points.ids[existing]! : null;
    await appState.run(async () => {
      if (existingId !== null) await client.call('annotations.vote', { annotationId: existingId, actorId, classId });
      else await client.call('annotations.create', { slideId, geometry: { shape: 'point', x, y }, actorId, classId });
    });
    await this.refresh();
  }

  /** The index of the nearest loaded cell (a point; regions are not voted on by a click) within `reachPx`; -1 when none. */
  private nearest(x: number, y: number, reachPx: number): number {
    const { xs, ys } = this.points;
    let best = -1;
    let bestDistance = reachPx;
    for (let i = 0; i < xs.length; i++) {
      const dx = xs[i]! - x;
      const dy = ys[i]! - y;
      if (Math.abs(dx) > bestDistance || Math.abs(dy) > bestDistance) continue;
      const distance = Math.hypot(dx, dy);
      if (distance <= bestDistance) {
        best = i;
        bestDistance = distance;
      }
    }
    return best;
  }

  /** A region (circle, rectangle, polygon) with the active class, or none (see regionsWithClass); selects it. */
  async createRegion(slideId: number, geometry: AnnotationGeometry): Promise<void> {
    if (this.annotatorId === null) return;
    const actorId = this.annotatorId;
    const classId = this.regionsWithClass ? this.activeClassId : null;
    const created = await appState.run(() => client.call('annotations.create', { slideId, geometry, actorId, classId }));
    if (created) this.select(created.id);
    await this.refresh();
  }

  /** New geometry for an annotation (one history entry: call once per drag). */
  async move(annotationId: number, geometry: AnnotationGeometry): Promise<void> {
    if (this.annotatorId === null) return;
    const actorId = this.annotatorId;
    // Shown at once where it was dropped; the refresh below confirms it.
    const index = this.points.ids.indexOf(annotationId);
    if (index >= 0 && geometry.shape === 'point') {
      const xs = this.points.xs.slice();
      const ys = this.points.ys.slice();
      xs[index] = geometry.x;
      ys[index] = geometry.y;
      this.points = { ...this.points, xs, ys };
    } else {
      this.regions = this.regions.map((region) => (region.id === annotationId ? { ...region, geometry } : region));
    }
    await appState.run(() => client.call('annotations.move', { annotationId, actorId, geometry }));
    await this.refresh();
  }

  /** This person's vote for `classId` on the selected annotation. */
  async voteSelected(classId: number): Promise<void> {
    const annotationId = this.selectedId;
    if (this.annotatorId === null || annotationId === null) return;
    const actorId = this.annotatorId;
    await appState.run(() => client.call('annotations.vote', { annotationId, actorId, classId }));
    await this.refresh();
  }

  async deleteSelected(): Promise<void> {
    const annotationId = this.selectedId;
    if (this.annotatorId === null || annotationId === null) return;
    const actorId = this.annotatorId;
    const done = await appState.run(() => client.call('annotations.delete', { annotationId, actorId }));
    if (done) this.select(null);
    await this.refresh();
  }

  /** Selects an annotation (null: none) and reads it in full by id. */
  select(annotationId: number | null): void {
    this.selectedId = annotationId;
    if (this.selected?.id !== annotationId) this.selected = null;
    if (annotationId === null || this.annotatorId === null) return;
    const viewer = { viewerId: this.annotatorId, blind: this.blind, includeUnlabelledCandidates: this.blind && this.showCandidates };
    void client
      .call('annotations.get', { annotationId, ...viewer })
      .then((found) => {
        if (annotationId === this.selectedId) this.selected = found;
      })
      .catch((error: unknown) => appState.report(error));
  }

  async setShowCandidates(show: boolean): Promise<void> {
    this.showCandidates = show;
    await this.refresh();
  }

  // Classes: the catalogue enforces unique live names and hotkeys; these checks only word the
  // common mistakes in the user's language before the call.

  /** Why `name`/`hotkey` cannot be used by a class (other than `exceptId`); null when they can. */
  classConflict(name: string, hotkey: string | null, exceptId: number | null): string | null {
    const t = i18n.t.viewerTools.classes;
    const trimmed = name.trim();
    if (trimmed.length === 0) return t.nameRequired;
    const sameName = this.classes.find((item) => item.id !== exceptId && item.name === trimmed);
    if (sameName) return t.duplicateName(trimmed);
    if (hotkey !== null) {
      if (!/^[0-9a-z]$/i.test(hotkey)) return t.badHotkey(hotkey);
      const sameKey = this.classes.find((item) => item.id !== exceptId && item.hotkey === hotkey.toLowerCase());
      if (sameKey) return t.duplicateHotkey(hotkey.toLowerCase(), sameKey.name);
    }
    return null;
  }

  async createClass(name: string, colour: string, hotkey: string | null): Promise<boolean> {
    const created = await appState.run(() => client.call('annotations.createClass', { name: name.trim(), colour, hotkey }));
    await this.loadClasses();
    return created !== undefined;
  }

  async updateClass(classId: number, changes: { name?: string; colour?: string; hotkey?: string | null }): Promise<boolean> {
    const updated = await appState.run(() => client.call('annotations.updateClass', { classId, ...changes }));
    await this.loadClasses();
    await this.refresh();
    return updated !== undefined;
  }

  /** Soft: the class can no longer be chosen; votes already cast for it are kept. */
  async deleteClass(classId: number): Promise<boolean> {
    const done = await appState.run(() => client.call('annotations.deleteClass', { classId }));
    await this.loadClasses();
    await this.refresh();
    return done !== undefined;
  }

  async undo(): Promise<void> {
    if (this.annotatorId === null) return;
    const actorId = this.annotatorId;
    await appState.run(() => client.call('annotations.undo', { actorId }));
    await this.refresh();
  }

  async redo(): Promise<void> {
    if (this.annotatorId === null) return;
    const actorId = this.annotatorId;
    await appState.run(() => client.call('annotations.redo', { actorId }));
    await this.refresh();
  }

  async setBlind(blind: boolean): Promise<void> {
    this.blind = blind;
    await this.refresh();
  }

  /** The colour a cell is drawn in for this viewer: its own vote, else the consensus. */
  colourOf(annotation: AnnotationInfo): string {
    const own = annotation.votes.find((vote) => vote.annotatorId === this.annotatorId);
    const consensus = annotation.consensus;
    const classId = own?.classId ?? (consensus?.status === 'agreed' ? consensus.classId : null);
    if (consensus?.status === 'disagreement' && !own) return DISAGREEMENT_COLOUR;
    const colour = this.allClasses.find((item) => item.id === classId)?.colour;
    if (colour) return colour;
    // A region without a class is an ROI or excluded area: dark, to stand out on any stain.
    return annotation.geometry.shape === 'point' ? UNLABELLED_POINT_COLOUR : '#343a40';
  }

  /** The colour of a loaded cell's colour key (the main process applies colourOf's rules). */
  colourOfKey(key: number): string {
    if (key === DISAGREEMENT_KEY) return DISAGREEMENT_COLOUR;
    return this.allClasses.find((item) => item.id === key)?.colour ?? UNLABELLED_POINT_COLOUR;
  }
}

export const labelling = new LabellingState();

/** `rect` grown by `share` of its width and height on each side. */
function grow(rect: LevelZeroRect, share: number): LevelZeroRect {
  const dx = rect.width * share;
  const dy = rect.height * share;
  return { x: rect.x - dx, y: rect.y - dy, width: rect.width + 2 * dx, height: rect.height + 2 * dy };
}

/** The part of `rect` on the slide; null when none. */
function clampRect(rect: LevelZeroRect, size: { width: number; height: number }): LevelZeroRect | null {
  const x = Math.max(0, rect.x);
  const y = Math.max(0, rect.y);
  const right = Math.min(size.width, rect.x + rect.width);
  const bottom = Math.min(size.height, rect.y + rect.height);
  return right > x && bottom > y ? { x, y, width: right - x, height: bottom - y } : null;
}

function area(rect: LevelZeroRect): number {
  return rect.width * rect.height;
}

function contains(outer: LevelZeroRect, inner: LevelZeroRect): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;
}
