import type { AnnotationClassInfo, AnnotationGeometry, AnnotationInfo } from '../../../src-main/contract/schemas';
import { client } from '../api/client';
import { i18n } from '../i18n/i18n.svelte';
import type { Tool } from '../viewer/shapes';
import { appState } from './appState.svelte';

interface LevelZeroRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Labelling in the viewer: who labels, with which class, blind or not, and the cells in view.
 * Every change goes to the main process at once (durable when the call returns); the cells in
 * view are re-read after each change and whenever the view settles.
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
  inView = $state.raw<AnnotationInfo[]>([]);
  /** In blind mode: also show others' cells I have not voted on, without their class. */
  showCandidates = $state(true);
  tool = $state<Tool>('point');
  /** Regions (circle, rectangle, polygon) get the active class; otherwise no class (an ROI or excluded area). */
  regionsWithClass = $state(false);
  selectedId = $state<number | null>(null);
  /** Grows after each refresh of the cells in view (the history panel re-reads on it). */
  revision = $state(0);
  #slideId: number | null = null;
  #rect: LevelZeroRect | null = null;

  get annotatorName(): string | null {
    return appState.info?.annotatorName ?? null;
  }

  get activeClass(): AnnotationClassInfo | null {
    return this.classes.find((item) => item.id === this.activeClassId) ?? null;
  }

  /** The selected annotation while it is in view. */
  get selected(): AnnotationInfo | null {
    return this.inView.find((annotation) => annotation.id === this.selectedId) ?? null;
  }

  start(): void {
    client.on('annotations.changed', ({ slideId }) => {
      if (slideId === this.#slideId) void this.refresh();
    });
  }

  /** Classes and the annotator of the open project (after a project opens). */
  async load(): Promise<void> {
    if (!(await this.loadClasses())) return;
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
    await this.refresh();
  }

  /** The class whose hotkey is `key` (case-insensitive), made active; null when no class has it. */
  pickByHotkey(key: string): AnnotationClassInfo | null {
    const match = this.classes.find((item) => item.hotkey === key.toLowerCase());
    if (match) this.activeClassId = match.id;
    return match ?? null;
  }

  async show(slideId: number, rect: LevelZeroRect): Promise<void> {
    this.#slideId = slideId;
    this.#rect = rect;
    await this.refresh();
  }

  async refresh(): Promise<void> {
    const slideId = this.#slideId;
    const rect = this.#rect;
    if (slideId === null || rect === null || this.annotatorId === null) {
      this.inView = [];
      return;
    }
    try {
      const found = await client.call('annotations.query', {
        slideId,
        rect,
        viewerId: this.annotatorId,
        blind: this.blind,
        includeUnlabelledCandidates: this.blind && this.showCandidates,
      });
      if (slideId === this.#slideId) {
        this.inView = found;
        this.revision += 1;
      }
    } catch (error) {
      appState.report(error);
    }
  }

  get disagreementsInView(): number {
    return this.inView.filter((annotation) => annotation.consensus?.status === 'disagreement').length;
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
    await appState.run(async () => {
      if (existing) await client.call('annotations.vote', { annotationId: existing.id, actorId, classId });
      else await client.call('annotations.create', { slideId, geometry: { shape: 'point', x, y }, actorId, classId });
    });
    await this.refresh();
  }

  /** The nearest cell (a point; regions are not voted on by a click) within `reachPx`. */
  private nearest(x: number, y: number, reachPx: number): AnnotationInfo | null {
    let best: AnnotationInfo | null = null;
    let bestDistance = reachPx;
    for (const annotation of this.inView) {
      if (annotation.geometry.shape !== 'point') continue;
      const distance = Math.hypot(annotation.centre.x - x, annotation.centre.y - y);
      if (distance <= bestDistance) {
        best = annotation;
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
    if (created) this.selectedId = created.id;
    await this.refresh();
  }

  /** New geometry for an annotation (one history entry: call once per drag). */
  async move(annotationId: number, geometry: AnnotationGeometry): Promise<void> {
    if (this.annotatorId === null) return;
    const actorId = this.annotatorId;
    // Shown at once where it was dropped; the refresh below confirms it.
    this.inView = this.inView.map((annotation) => (annotation.id === annotationId ? { ...annotation, geometry } : annotation));
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
    if (done) this.selectedId = null;
    await this.refresh();
  }

  select(annotationId: number | null): void {
    this.selectedId = annotationId;
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
    if (consensus?.status === 'disagreement' && !own) return '#f59f00';
    const colour = this.allClasses.find((item) => item.id === classId)?.colour;
    if (colour) return colour;
    // A region without a class is an ROI or excluded area: dark, to stand out on any stain.
    return annotation.geometry.shape === 'point' ? '#868e96' : '#343a40';
  }
}

export const labelling = new LabellingState();
