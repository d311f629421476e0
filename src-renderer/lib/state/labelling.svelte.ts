import type { AnnotationClassInfo, AnnotationInfo } from '../../../src-main/contract/schemas';
import { client } from '../api/client';
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
  classes = $state<AnnotationClassInfo[]>([]);
  activeClassId = $state<number | null>(null);
  annotatorId = $state<number | null>(null);
  blind = $state(false);
  inView = $state<AnnotationInfo[]>([]);
  #slideId: number | null = null;
  #rect: LevelZeroRect | null = null;

  get annotatorName(): string | null {
    return appState.info?.annotatorName ?? null;
  }

  get activeClass(): AnnotationClassInfo | null {
    return this.classes.find((item) => item.id === this.activeClassId) ?? null;
  }

  start(): void {
    client.on('annotations.changed', ({ slideId }) => {
      if (slideId === this.#slideId) void this.refresh();
    });
  }

  /** Classes and the annotator of the open project (after a project opens). */
  async load(): Promise<void> {
    const classes = await appState.run(() => client.call('annotations.classes', {}));
    if (!classes) return;
    this.classes = classes.filter((item) => item.deletedAt === null);
    this.activeClassId ??= this.classes[0]?.id ?? null;
    this.annotatorId = null;
    if (this.annotatorName) await this.useAnnotator(this.annotatorName);
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

  /** The class whose hotkey is `key`, made active; false when no class has it. */
  pickByHotkey(key: string): boolean {
    const match = this.classes.find((item) => item.hotkey === key);
    if (match) this.activeClassId = match.id;
    return match !== undefined;
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
        includeUnlabelledCandidates: this.blind,
      });
      if (slideId === this.#slideId) this.inView = found;
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

  private nearest(x: number, y: number, reachPx: number): AnnotationInfo | null {
    let best: AnnotationInfo | null = null;
    let bestDistance = reachPx;
    for (const annotation of this.inView) {
      const distance = Math.hypot(annotation.centre.x - x, annotation.centre.y - y);
      if (distance <= bestDistance) {
        best = annotation;
        bestDistance = distance;
      }
    }
    return best;
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
    return this.classes.find((item) => item.id === classId)?.colour ?? '#868e96';
  }
}

export const labelling = new LabellingState();
