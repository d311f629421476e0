import os from 'node:os';
import path from 'node:path';
import type { AppInfo, ProjectSummary } from '../contract/schemas';
import type { EventName, EventPayload } from '../contract/api';
import { UserFacingError } from '../contract/errors';
import { AnnotationStore } from '../services/annotations/AnnotationStore';
import { AnnotationImporter } from '../services/interop/AnnotationImporter';
import { AppSettings } from '../services/project/AppSettings';
import { ProjectDatabase } from '../services/project/ProjectDatabase';
import { openSlideLibraryStatus } from '../services/slides/OpenSlideReader';
import { SlideCatalog } from '../services/slides/SlideCatalog';
import { SlideLibrary } from '../services/slides/SlideLibrary';
import { TileCache } from '../services/slides/TileCache';
import { JobRunner } from '../services/jobs/JobRunner';

export type EventSink = <N extends EventName>(name: N, payload: EventPayload<N>) => void;

const TILE_CACHE_BYTES = 256 * 1024 * 1024;

/**
 * What one running app has open: its settings, at most one project and that project's
 * slide library, annotation store and annotation importer. Shared by the Electron and the browser-mode transports.
 */
export class Workspace {
  private project: ProjectDatabase | null = null;
  private library: SlideLibrary | null = null;
  private slideCatalog: SlideCatalog | null = null;
  private jobRunner: JobRunner | null = null;
  private store: AnnotationStore | null = null;
  private annotationImporter: AnnotationImporter | null = null;
  private stopForwardingAnnotationChanges: (() => void) | null = null;
  readonly tileCache = new TileCache(TILE_CACHE_BYTES);
  private readonly listeners = new Set<EventSink>();

  constructor(
    readonly settings: AppSettings,
    readonly mode: AppInfo['mode'],
    readonly version: string,
  ) {}

  onEvent(sink: EventSink): () => void {
    this.listeners.add(sink);
    return () => this.listeners.delete(sink);
  }

  emit<N extends EventName>(name: N, payload: EventPayload<N>): void {
    for (const sink of this.listeners) sink(name, payload);
  }

  info(): AppInfo {
    const openslide = openSlideLibraryStatus();
    return {
      version: this.version,
      language: this.settings.language,
      viewerRenderer: this.settings.viewerRenderer,
      annotatorName: this.settings.annotatorName,
      mode: this.mode,
      project: this.projectSummary(),
      recentProjects: this.settings.recentProjects,
      readers: [
        { kind: 'tiff', available: true, version: null, reason: null },
        { kind: 'openslide', available: openslide.available, version: openslide.version, reason: openslide.reason },
        { kind: 'image', available: true, version: null, reason: null },
      ],
      homeFolder: os.homedir(),
    };
  }

  /** A project that cannot be created or opened leaves the current one open. */
  async createProject(folder: string, name: string): Promise<ProjectSummary> {
    const project = ProjectDatabase.create(path.resolve(folder), name);
    await this.closeProject();
    return this.attach(project);
  }

  async openProject(folder: string): Promise<ProjectSummary> {
    const project = ProjectDatabase.open(path.resolve(folder));
    await this.closeProject();
    return this.attach(project);
  }

  async closeProject(): Promise<void> {
    if (!this.project) return;
    await this.jobRunner?.stopAll();
    await this.library?.close();
    this.stopForwardingAnnotationChanges?.();
    this.project.close();
    this.project = null;
    this.library = null;
    this.slideCatalog = null;
    this.jobRunner = null;
    this.store = null;
    this.annotationImporter = null;
    this.stopForwardingAnnotationChanges = null;
    this.emit('project.changed', null);
  }

  jobs(): JobRunner {
    if (!this.jobRunner) throw new UserFacingError('no-project', 'Open or create a project first.');
    return this.jobRunner;
  }

  slides(): SlideLibrary {
    if (!this.library) throw new UserFacingError('no-project', 'Open or create a project first.');
    return this.library;
  }

  annotations(): AnnotationStore {
    if (!this.store) throw new UserFacingError('no-project', 'Open or create a project first.');
    return this.store;
  }

  /** The open project's database, for services that keep their own tables (screening, review queries). */
  database(): ProjectDatabase {
    if (!this.project) throw new UserFacingError('no-project', 'Open or create a project first.');
    return this.project;
  }

  catalog(): SlideCatalog {
    if (!this.slideCatalog) throw new UserFacingError('no-project', 'Open or create a project first.');
    return this.slideCatalog;
  }

  importer(): AnnotationImporter {
    if (!this.annotationImporter) throw new UserFacingError('no-project', 'Open or create a project first.');
    return this.annotationImporter;
  }

  projectSummary(): ProjectSummary | null {
    if (!this.project || !this.library) return null;
    return {
      folder: this.project.folder,
      name: this.project.name,
      schemaVersion: this.project.schemaVersion,
      slideCount: this.library.list().length,
    };
  }

  private attach(project: ProjectDatabase): ProjectSummary {
    this.project = project;
    // One catalog for the library and the importer (the importer makes placeholder slides and tags slides).
    const catalog = new SlideCatalog(project.db);
    this.slideCatalog = catalog;
    this.library = new SlideLibrary(catalog, path.join(project.cacheFolder, 'thumbnails'), this.tileCache, project.projectKey);
    this.store = new AnnotationStore(project.db);
    this.annotationImporter = new AnnotationImporter(project.db, this.store, catalog);
    this.stopForwardingAnnotationChanges = this.store.onChange(({ slideId, annotationIds, origin }) =>
      this.emit('annotations.changed', { slideId, annotationIds, origin }),
    );
    this.jobRunner = new JobRunner(project.db, (job) => this.emit('jobs.changed', job));
    this.settings.rememberProject(project.folder, project.name);
    const summary = this.projectSummary()!;
    this.emit('project.changed', summary);
    return summary;
  }
}
