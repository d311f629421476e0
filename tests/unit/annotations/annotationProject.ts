import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AnnotationStore, type AnnotationStoreOptions } from '../../../src-main/services/annotations/AnnotationStore';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { slideRow } from '../../fixtures/slideRows';

/** A temporary project on disk with one slide row, opened as the app opens it. */
export class AnnotationProject {
  readonly folder: string;
  project: ProjectDatabase;
  store: AnnotationStore;
  readonly slideId: number;

  constructor(private readonly options: AnnotationStoreOptions = {}) {
    this.folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-annotations-'));
    this.project = ProjectDatabase.create(path.join(this.folder, 'project'), 'annotations test');
    this.slideId = new SlideCatalog(this.project.db).insert(slideRow());
    this.store = new AnnotationStore(this.project.db, options);
  }

  get projectFolder(): string {
    return path.join(this.folder, 'project');
  }

  addSlide(fileName: string): number {
    return new SlideCatalog(this.project.db).insert(slideRow(fileName));
  }

  /** Closes the database and opens it again, with a fresh store (nothing kept in memory). */
  reopen(): AnnotationStore {
    this.project.close();
    this.project = ProjectDatabase.open(this.projectFolder);
    this.store = new AnnotationStore(this.project.db, this.options);
    return this.store;
  }

  count(table: string): number {
    return (this.project.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  }

  dispose(): void {
    this.project.close();
    fs.rmSync(this.folder, { recursive: true, force: true });
  }
}

export const MITOTIC_FIGURE = 1;
export const IMPOSTER = 2;
