import type {
  AddSlidesResult,
  AppInfo,
  Language,
  SlideSummary,
  SlideTag,
  ViewerRenderer,
} from '../../../src-main/contract/schemas';
import type { ErrorInfo } from '../../../src-main/contract/errors';
import { CallError, client } from '../api/client';
import { i18n } from '../i18n/i18n.svelte';

export type Page = 'slides' | 'viewer' | 'settings' | 'gallery' | 'disagreements' | 'labelLog' | 'models' | 'training' | 'studies';

/** A level-0 point of a slide to centre in the viewer, optionally the annotation there. */
export interface CellFocus {
  slideId: number;
  x: number;
  y: number;
  annotationId: number | null;
}
type ReaderChoice = SlideSummary['readerChoice'];

/** Application state: the open project, its slides, the page shown and errors to show. */
class AppState {
  info = $state<AppInfo | null>(null);
  slides = $state<SlideSummary[]>([]);
  page = $state<Page>('slides');
  viewedSlideId = $state<number | null>(null);
  errors = $state<ErrorInfo[]>([]);
  busy = $state(false);
  lastAddResult = $state<AddSlidesResult | null>(null);
  /** A place the viewer should show (a cell from the gallery or a review list); the viewer clears it once shown. */
  focus = $state<CellFocus | null>(null);

  get project() {
    return this.info?.project ?? null;
  }

  get viewedSlide(): SlideSummary | null {
    return this.slides.find((slide) => slide.id === this.viewedSlideId) ?? null;
  }

  async start(): Promise<void> {
    client.on('slides.changed', () => void this.refreshSlides());
    client.on('project.changed', () => void this.refreshInfo());
    await this.refreshInfo();
  }

  report(error: unknown): void {
    const info: ErrorInfo =
      error instanceof CallError ? error.info : { code: 'internal', message: error instanceof Error ? error.message : String(error) };
    this.errors = [...this.errors, info];
  }

  dismissError(index: number): void {
    this.errors = this.errors.filter((_, i) => i !== index);
  }

  /** Runs an action, showing any error instead of losing it; returns undefined on failure. */
  async run<T>(action: () => Promise<T>): Promise<T | undefined> {
    this.busy = true;
    try {
      return await action();
    } catch (error) {
      this.report(error);
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  async refreshInfo(): Promise<void> {
    await this.run(async () => {
      this.info = await client.call('app.info', {});
      i18n.language = this.info.language;
      if (this.info.project) await this.refreshSlides();
      else this.slides = [];
    });
  }

  async refreshSlides(): Promise<void> {
    if (!this.info?.project) return;
    try {
      this.slides = await client.call('slides.list', {});
    } catch (error) {
      this.report(error);
    }
  }

  async createProject(folder: string, name: string): Promise<void> {
    const project = await this.run(() => client.call('project.create', { folder, name }));
    if (project) await this.afterProjectOpened();
  }

  async openProject(folder: string): Promise<void> {
    const project = await this.run(() => client.call('project.open', { folder }));
    if (project) await this.afterProjectOpened();
  }

  private async afterProjectOpened(): Promise<void> {
    this.page = 'slides';
    this.viewedSlideId = null;
    this.lastAddResult = null;
    await this.refreshInfo();
  }

  async closeProject(): Promise<void> {
    await this.run(() => client.call('project.close', {}));
    this.viewedSlideId = null;
    await this.refreshInfo();
  }

  async forgetRecent(folder: string): Promise<void> {
    await this.run(() => client.call('project.forgetRecent', { folder }));
    await this.refreshInfo();
  }

  async addSlides(paths: string[]): Promise<void> {
    const result = await this.run(() => client.call('slides.add', { paths }));
    if (result) {
      this.lastAddResult = result;
      await this.refreshSlides();
    }
  }

  async setTags(slideId: number, tags: SlideTag[]): Promise<void> {
    const slide = await this.run(() => client.call('slides.setTags', { slideId, tags }));
    if (slide) this.replaceSlide(slide);
  }

  async relink(slideId: number, path: string): Promise<boolean> {
    const slide = await this.run(() => client.call('slides.relink', { slideId, path }));
    if (slide) this.replaceSlide(slide);
    return slide !== undefined;
  }

  async setReader(slideId: number, reader: ReaderChoice): Promise<void> {
    const slide = await this.run(() => client.call('slides.setReader', { slideId, reader }));
    if (slide) this.replaceSlide(slide);
  }

  async removeSlide(slideId: number): Promise<void> {
    await this.run(() => client.call('slides.remove', { slideId }));
    if (this.viewedSlideId === slideId) this.viewedSlideId = null;
    await this.refreshSlides();
  }

  view(slideId: number): void {
    this.viewedSlideId = slideId;
    this.page = 'viewer';
  }

  /** Opens the viewer on a slide, centred on a level-0 point at high power. */
  showCell(focus: CellFocus): void {
    this.focus = { ...focus };
    this.view(focus.slideId);
  }

  async setViewerRenderer(renderer: ViewerRenderer): Promise<void> {
    await this.run(() => client.call('settings.setViewerRenderer', { renderer }));
    if (this.info) this.info = { ...this.info, viewerRenderer: renderer };
  }

  async setLanguage(language: Language): Promise<void> {
    i18n.language = language;
    await this.run(() => client.call('settings.setLanguage', { language }));
  }

  private replaceSlide(slide: SlideSummary): void {
    this.slides = this.slides.map((existing) => (existing.id === slide.id ? slide : existing));
  }
}

export const appState = new AppState();
