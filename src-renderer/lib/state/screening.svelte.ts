import type { AnnotationInfo } from '../../../src-main/contract/schemas';
import type { CountResultInfo, FieldSpecInfo, ScreeningFieldInfo, ScreeningStateInfo } from '../../../src-main/contract/screeningSchemas';
import { client } from '../api/client';
import { appState } from './appState.svelte';

/** The viewer's size on screen and the level-0 size of what it shows. */
export interface ViewSize {
  screenWidth: number;
  screenHeight: number;
  levelZeroWidth: number;
  levelZeroHeight: number;
}

export type Region = AnnotationInfo & { geometry: Exclude<AnnotationInfo['geometry'], { shape: 'point' }> };

/**
 * Screening in the viewer: this person's plan for the open slide, the fields they visited, and
 * where the viewer should be. Every step is saved at once, so a reload resumes at the same field.
 * `moves` counts the times the viewer should go to the current field (start, resume, step).
 */
class ScreeningState {
  plan = $state<ScreeningStateInfo | null>(null);
  visited = $state<ReadonlySet<number>>(new Set());
  currentField = $state(0);
  moves = $state(0);
  /** Rectangle, circle and polygon annotations of the open slide: ROIs and counting areas. */
  regions = $state<Region[]>([]);
  #key = '';
  #steps: Promise<void> = Promise.resolve();

  get active(): boolean {
    return this.plan !== null;
  }

  get current(): ScreeningFieldInfo | null {
    return this.plan?.fields[this.currentField] ?? null;
  }

  get total(): number {
    return this.plan?.fields.length ?? 0;
  }

  /** The person's screening of the slide, if they started one (resume). */
  async load(slideId: number, annotatorId: number): Promise<void> {
    const key = `${slideId}/${annotatorId}`;
    this.#key = key;
    const plan = await appState.run(() => client.call('screening.get', { slideId, annotatorId }));
    if (this.#key !== key) return;
    this.apply(plan ?? null);
  }

  clear(): void {
    this.#key = '';
    this.apply(null);
    this.regions = [];
  }

  async start(slideId: number, annotatorId: number, fieldSpec: FieldSpecInfo, roiAnnotationId: number | null): Promise<void> {
    const plan = await appState.run(() => client.call('screening.start', { slideId, annotatorId, fieldSpec, roiAnnotationId }));
    if (plan) this.apply(plan);
  }

  /**
   * Marks the field shown as visited and goes `step` fields along the walk. Steps run one after
   * another, so quick presses of Space each move one field.
   */
  step(step: 1 | -1): Promise<void> {
    this.#steps = this.#steps.then(() => this.stepNow(step));
    return this.#steps;
  }

  private async stepNow(step: 1 | -1): Promise<void> {
    const plan = this.plan;
    if (!plan) return;
    const fieldIndex = this.currentField;
    const result = await appState.run(() =>
      client.call('screening.visit', { slideId: plan.slideId, annotatorId: plan.annotatorId, fieldIndex, step }),
    );
    if (!result || this.plan !== plan) return;
    this.visited = new Set([...this.visited, result.visitedField]);
    this.currentField = result.current.index;
    this.moves += 1;
  }

  async reset(): Promise<void> {
    const plan = this.plan;
    if (!plan) return;
    const fresh = await appState.run(() => client.call('screening.reset', { slideId: plan.slideId, annotatorId: plan.annotatorId }));
    if (fresh) this.apply(fresh);
  }

  async loadRegions(slideId: number, viewerId: number, slide: { width: number; height: number }): Promise<void> {
    const found = await appState.run(() =>
      client.call('annotations.query', { slideId, rect: { x: 0, y: 0, width: slide.width, height: slide.height }, viewerId, blind: false }),
    );
    if (found) this.regions = found.filter((annotation): annotation is Region => annotation.geometry.shape !== 'point');
  }

  private apply(plan: ScreeningStateInfo | null): void {
    this.plan = plan;
    this.visited = new Set(plan?.visited ?? []);
    this.currentField = plan?.currentField ?? 0;
    if (plan) this.moves += 1;
  }
}

export const screening = new ScreeningState();

export type CountRequest =
  | { kind: 'standard'; x: number; y: number; areaMm2: number }
  | { kind: 'hotspot'; areaMm2: number; roiAnnotationId: number | null }
  | { kind: 'annotation'; annotationId: number };

/** The mitotic count shown over the viewer: the last request and its answer (recounted when labels change). */
class CountingState {
  result = $state<(CountResultInfo & { request: CountRequest }) | null>(null);
  /** Whose votes: null for the consensus, else an annotator id (blind viewers: always their own). */
  annotatorId = $state<number | null>(null);
  /** The standard area, kept while the person moves between pages. */
  areaMm2 = $state(2.37);
  moves = $state(0);

  async count(slideId: number, viewer: { viewerId: number; blind: boolean }, request: CountRequest, move = false): Promise<void> {
    const who = { slideId, viewerId: viewer.viewerId, blind: viewer.blind, annotatorId: viewer.blind ? viewer.viewerId : this.annotatorId };
    const answer = await appState.run(() => {
      switch (request.kind) {
        case 'standard':
          return client.call('count.inArea', { ...who, area: { kind: 'standard', x: request.x, y: request.y, areaMm2: request.areaMm2 } });
        case 'annotation':
          return client.call('count.inArea', { ...who, area: { kind: 'annotation', annotationId: request.annotationId } });
        case 'hotspot':
          return client.call('count.hotspot', { ...who, areaMm2: request.areaMm2, roiAnnotationId: request.roiAnnotationId });
      }
    });
    if (!answer) return;
    this.result = { ...answer, request };
    if (move) this.moves += 1;
  }

  clear(): void {
    this.result = null;
  }
}

export const counting = new CountingState();
