import type { AnnotationInfo, AnnotatorInfo, SlideSummary } from '../../../src-main/contract/schemas';
import type { CellPageInfo, DisagreementPageInfo } from '../../../src-main/contract/reviewSchemas';
import { CallError, client } from '../api/client';
import { appState } from './appState.svelte';
import { labelling } from './labelling.svelte';

type PageFetcher = (limit: number, offset: number) => Promise<CellPageInfo>;

/** What the gallery filters on; null: any. */
export interface GalleryFilter {
  slideId: number | null;
  classId: number | null;
  /** With classId: whose vote; null: the consensus. */
  classAnnotatorId: number | null;
  annotatorId: number | null;
  disagreementOnly: boolean;
  unlabelledByMe: boolean;
}

/** Scan magnifications the crops can be shown at (a 40× scan is about 0.25 µm per pixel). */
export const MAGNIFICATIONS = [40, 20, 10] as const;
export const CROP_SIZES = [96, 128, 192] as const;

/**
 * Level-0 pixels per crop pixel for a slide at a chosen magnification: from the slide's pixel
 * size when known (so crops of every slide show the same area), else its objective power.
 */
export function downsampleFor(slide: SlideSummary, magnification: number): number {
  const wanted = (0.25 * 40) / magnification;
  const raw = slide.mppX ? wanted / slide.mppX : slide.objectivePower ? slide.objectivePower / magnification : 40 / magnification;
  return Math.min(64, Math.max(0.25, Math.round(raw * 100) / 100));
}

/**
 * One page of cells in a grid with a keyboard focus, as the gallery and the disagreement review
 * show them. A vote updates only the voted cell (re-read after the receipt); other changes
 * (the viewer, another window) reach it through 'annotations.changed'.
 */
export class CellGrid {
  cells = $state<AnnotationInfo[]>([]);
  total = $state(0);
  offset = $state(0);
  focus = $state(0);
  pageSize = $state(60);
  loading = $state(false);
  loaded = $state(false);
  /** Why the page cannot be shown (e.g. blind mode for the disagreement review); null when it can. */
  refusal = $state<string | null>(null);
  #request = 0;

  constructor(private readonly fetchPage: PageFetcher) {}

  get focused(): AnnotationInfo | null {
    return this.cells[this.focus] ?? null;
  }

  get pageCount(): number {
    return Math.max(1, Math.ceil(this.total / this.pageSize));
  }

  /** Reads the page at `offset` (the current one by default). */
  async load(offset = this.offset, focus = this.focus): Promise<void> {
    const request = ++this.#request;
    this.loading = true;
    try {
      const page = await this.fetchPage(this.pageSize, offset);
      if (request !== this.#request) return;
      this.cells = page.cells;
      this.total = page.total;
      this.offset = offset;
      this.focus = Math.max(0, Math.min(focus, page.cells.length - 1));
      this.refusal = null;
      this.loaded = true;
    } catch (error) {
      if (request !== this.#request) return;
      if (error instanceof CallError && error.info.code === 'invalid-argument') {
        this.refusal = error.message;
        this.cells = [];
        this.total = 0;
      } else {
        appState.report(error);
      }
    } finally {
      if (request === this.#request) this.loading = false;
    }
  }

  async nextPage(): Promise<void> {
    if (this.offset + this.pageSize < this.total) await this.load(this.offset + this.pageSize, 0);
  }

  async previousPage(): Promise<void> {
    if (this.offset > 0) await this.load(Math.max(0, this.offset - this.pageSize), this.pageSize - 1);
  }

  /** Moves the focus; past either end of the page, to the next or previous page. */
  async move(delta: number): Promise<void> {
    const target = this.focus + delta;
    if (target >= this.cells.length) {
      if (this.offset + this.pageSize < this.total) await this.load(this.offset + this.pageSize, 0);
      else this.focus = Math.max(0, this.cells.length - 1);
    } else if (target < 0) {
      if (this.offset > 0) await this.previousPage();
      else this.focus = 0;
    } else {
      this.focus = target;
    }
  }

  /** The current annotator's vote for the focused cell; then the focus moves on. */
  async voteFocused(classId: number): Promise<void> {
    const cell = this.focused;
    const actorId = labelling.annotatorId;
    if (!cell || actorId === null) return;
    // Move on at once, so that quick key presses vote one cell each.
    const moving = this.move(1);
    const receipt = await appState.run(() => client.call('annotations.vote', { annotationId: cell.id, actorId, classId }));
    await moving;
    if (receipt === undefined) return;
    await this.refreshCells(receipt.annotationIds.length > 0 ? receipt.annotationIds : [cell.id]);
  }

  /** Re-reads the given cells of this page, as the current viewer sees them, without reloading the page. */
  async refreshCells(annotationIds: readonly number[]): Promise<void> {
    const viewerId = labelling.annotatorId;
    if (viewerId === null) return;
    const shown = this.cells.filter((cell) => annotationIds.includes(cell.id));
    for (const cell of shown) {
      try {
        const around = { x: cell.centre.x - 0.5, y: cell.centre.y - 0.5, width: 1, height: 1 };
        const found = await client.call('annotations.query', {
          slideId: cell.slideId,
          rect: around,
          viewerId,
          blind: labelling.blind,
          includeUnlabelledCandidates: labelling.blind,
        });
        const fresh = found.find((item) => item.id === cell.id);
        const index = this.cells.findIndex((item) => item.id === cell.id);
        if (index < 0) continue;
        if (fresh) {
          this.cells[index] = fresh;
        } else {
          // Deleted (or hidden) meanwhile: off this page.
          this.cells.splice(index, 1);
          this.total = Math.max(0, this.total - 1);
          this.focus = Math.min(this.focus, Math.max(0, this.cells.length - 1));
        }
      } catch (error) {
        appState.report(error);
      }
    }
  }

  /** The ids of `annotationIds` that are on this page. */
  shownOf(annotationIds: readonly number[]): number[] {
    return annotationIds.filter((id) => this.cells.some((cell) => cell.id === id));
  }
}

/** The review pages' state; kept while the viewer is open, so coming back finds the same place. */
class ReviewState {
  filter = $state<GalleryFilter>({
    slideId: null,
    classId: null,
    classAnnotatorId: null,
    annotatorId: null,
    disagreementOnly: false,
    unlabelledByMe: false,
  });
  magnification = $state<number>(40);
  cropSize = $state<number>(128);
  annotators = $state<AnnotatorInfo[]>([]);
  /** Names of the voters of the disagreement page shown (from the review call). */
  disagreementVoters = $state<DisagreementPageInfo['annotators']>([]);

  readonly gallery = new CellGrid((limit, offset) => this.galleryPage(limit, offset));
  readonly disagreements = new CellGrid((limit, offset) => this.disagreementPage(limit, offset));
  #started = false;

  start(): void {
    if (this.#started) return;
    this.#started = true;
    client.on('annotations.changed', ({ annotationIds }) => {
      for (const grid of [this.gallery, this.disagreements]) {
        const shown = grid.shownOf(annotationIds);
        if (shown.length > 0) void grid.refreshCells(shown);
      }
    });
    client.on('project.changed', () => {
      this.gallery.loaded = false;
      this.disagreements.loaded = false;
      this.filter = { ...this.filter, slideId: null, classId: null, classAnnotatorId: null, annotatorId: null };
    });
  }

  /** Classes, the current annotator and everyone who labelled in this project. */
  async prepare(): Promise<void> {
    if (labelling.classes.length === 0 || labelling.annotatorId === null) await labelling.load();
    const annotators = await appState.run(() => client.call('annotations.annotators', {}));
    if (annotators) this.annotators = annotators;
  }

  annotatorName(annotatorId: number): string {
    return (
      this.annotators.find((item) => item.id === annotatorId)?.name ??
      this.disagreementVoters.find((item) => item.id === annotatorId)?.name ??
      `#${annotatorId}`
    );
  }

  private galleryPage(limit: number, offset: number): Promise<CellPageInfo> {
    const viewerId = labelling.annotatorId;
    if (viewerId === null) return Promise.resolve({ total: 0, cells: [] });
    const { slideId, classId, classAnnotatorId, annotatorId, disagreementOnly, unlabelledByMe } = this.filter;
    const blind = labelling.blind;
    return client.call('review.cells', {
      viewerId,
      blind,
      includeUnlabelledCandidates: blind,
      filter: {
        slideIds: slideId === null ? undefined : [slideId],
        classId: classId ?? undefined,
        classAnnotatorId: classId === null ? undefined : (classAnnotatorId ?? undefined),
        annotatorId: annotatorId ?? undefined,
        disagreementOnly: disagreementOnly || undefined,
        unlabelledByMe: unlabelledByMe || undefined,
      },
      limit,
      offset,
    });
  }

  private async disagreementPage(limit: number, offset: number): Promise<CellPageInfo> {
    const viewerId = labelling.annotatorId;
    if (viewerId === null) return { total: 0, cells: [] };
    const page = await client.call('review.disagreements', { viewerId, blind: labelling.blind, limit, offset });
    this.disagreementVoters = page.annotators;
    return page;
  }
}

export const review = new ReviewState();

/** Opens a cell in the viewer, centred on it. */
export function openCell(cell: AnnotationInfo): void {
  appState.showCell({ slideId: cell.slideId, x: cell.centre.x, y: cell.centre.y, annotationId: cell.id });
}

/**
 * The review grids' keys: arrows move (up and down by `columns`), Page Up/Down turn pages, a
 * class hotkey votes the focused cell, Enter opens it in the viewer. Keys typed into a field are
 * left alone. Returns whether the key was used.
 */
export function handleGridKey(event: KeyboardEvent, grid: CellGrid, columns: number): boolean {
  const target = event.target as HTMLElement | null;
  if (target && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName))) return false;
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  const step: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns, ArrowDown: columns };
  if (event.key in step) {
    void grid.move(step[event.key]!);
    return true;
  }
  if (event.key === 'PageDown') {
    void grid.nextPage();
    return true;
  }
  if (event.key === 'PageUp') {
    void grid.previousPage();
    return true;
  }
  if (event.key === 'Enter') {
    const cell = grid.focused;
    if (cell) openCell(cell);
    return cell !== null;
  }
  const chosen = labelling.classes.find((item) => item.hotkey !== null && item.hotkey === event.key.toLowerCase());
  if (chosen && !event.shiftKey) {
    void grid.voteFocused(chosen.id);
    return true;
  }
  return false;
}
