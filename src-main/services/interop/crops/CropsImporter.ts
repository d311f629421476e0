import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { AddSlidesResult } from '../../../contract/schemas';
import type { AnnotationStore, ImportedAnnotation } from '../../annotations/AnnotationStore';
import type { AnnotationClass, Annotator } from '../../annotations/types';
import { InteropError } from '../InteropError';
import { stableUuid } from '../singleSlideFiles';
import { scanCropsFolder, type Crop, type CropsScan, type ScanProgress } from './scanCropsFolder';

/**
 * Imports a folder of labelled crops (see scanCropsFolder): each crop becomes a small image
 * slide with one point cell at its centre carrying the crop's class as a vote (of the CSV's
 * annotator, else the importing annotator).
 *
 * All or nothing, in three steps:
 * 1. every image is decoded first; if any cannot be read, the import stops naming them and
 *    nothing is written (no slide, no class, no cell);
 * 2. the crops are added as slides (SlideLibrary.add, as any image is);
 * 3. classes, annotators and cells are written in one transaction.
 * If step 2 or 3 fails or the job is cancelled, the slides step 2 added are removed again, so
 * the project is as before (a crop already in the project stays, as it was).
 *
 * A crop's cell has a guid derived from the image's path, so importing the same folder again
 * adds nothing twice.
 */
export interface CropSlides {
  add(paths: string[], progress?: (done: number, total: number, file: string) => void, signal?: AbortSignal): Promise<AddSlidesResult>;
  remove(slideId: number): Promise<void>;
}

export interface CropSlideLookup {
  findByPath(slidePath: string): { id: number; width: number; height: number } | null;
}

export interface CropsPreview {
  folder: string;
  layout: CropsScan['layout'];
  csvFile: string | null;
  images: number;
  classes: Array<{ name: string; crops: number; projectClassId: number | null }>;
  annotators: Array<{ name: string; crops: number; annotatorId: number | null }>;
  /** Crops labelled without annotator: their vote is the importing annotator's. */
  cropsWithoutAnnotator: number;
  unreadable: CropsScan['unreadable'];
  /** Crops whose image is already a slide of the project (their cell is kept if present). */
  alreadySlides: number;
  warnings: string[];
}

export interface CropsReport {
  folder: string;
  cancelled: boolean;
  slidesAdded: number;
  /** The slides of the imported cells (added now or before). */
  slideIds: number[];
  cells: number;
  /** Crops whose cell the project already holds (imported before). */
  alreadyPresent: number;
  createdClasses: AnnotationClass[];
  createdAnnotators: Annotator[];
  changeId: number | null;
}

const PALETTE = ['#3cb44b', '#ffe119', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe', '#008080', '#e6beff', '#9a6324', '#800000'];
const HOTKEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];

export class CropsImporter {
  constructor(
    private readonly db: Database,
    private readonly store: AnnotationStore,
    private readonly slides: CropSlides,
    private readonly lookup: CropSlideLookup,
  ) {}

  async preview(folder: string, progress: ScanProgress = {}): Promise<CropsPreview> {
    const scan = await scanCropsFolder(folder, progress);
    const classes = new Map(this.store.listClasses().map((entry) => [classKey(entry.name), entry.id]));
    const annotators = new Map(this.store.listAnnotators().map((entry) => [entry.name, entry.id]));
    return {
      folder: scan.folder,
      layout: scan.layout,
      csvFile: scan.csvFile,
      images: groupByImage(scan.crops).size + scan.unreadable.length,
      classes: scan.classes.map((entry) => ({ ...entry, projectClassId: classes.get(classKey(entry.name)) ?? null })),
      annotators: scan.annotators.map((entry) => ({ name: entry.name, crops: entry.crops, annotatorId: annotators.get(entry.name) ?? null })),
      cropsWithoutAnnotator: scan.crops.filter((crop) => crop.annotator === null).length,
      unreadable: scan.unreadable,
      alreadySlides: scan.crops.filter((crop) => this.lookup.findByPath(crop.path) !== null).length,
      warnings: scan.warnings,
    };
  }

  async import(folder: string, actorId: number, job: { signal: AbortSignal; progress: (done: number, total: number | null, message?: string) => void }): Promise<CropsReport> {
    const report: CropsReport = {
      folder: path.resolve(folder),
      cancelled: false,
      slidesAdded: 0,
      slideIds: [],
      cells: 0,
      alreadyPresent: 0,
      createdClasses: [],
      createdAnnotators: [],
      changeId: null,
    };
    if (!this.store.listAnnotators().some((annotator) => annotator.id === actorId)) {
      throw new InteropError(report.folder, '', `annotator ${actorId} is not in this project`);
    }
    // Step 1: read everything (first half of the progress bar).
    const scan = await scanCropsFolder(folder, {
      signal: job.signal,
      progress: (done, total, file) => job.progress(done, total * 2, file),
    });
    if (job.signal.aborted) return { ...report, cancelled: true };
    if (scan.unreadable.length > 0) {
      const named = scan.unreadable.slice(0, 5).map((entry) => `${entry.relativePath} (${entry.reason})`).join('; ');
      const more = scan.unreadable.length > 5 ? ` and ${scan.unreadable.length - 5} more` : '';
      throw new InteropError(scan.folder, '', `${scan.unreadable.length} image(s) cannot be read: ${named}${more}; nothing was imported`);
    }

    // Step 2: the slides (second half).
    const total = groupByImage(scan.crops).size;
    const added = await this.slides.add(
      [...groupByImage(scan.crops).keys()],
      (done, _count, file) => job.progress(total + done, total * 2, file),
      job.signal,
    );
    const addedIds = added.added.map((slide) => slide.id);
    const undoSlides = async () => {
      for (const slideId of addedIds) await this.slides.remove(slideId);
    };
    if (added.cancelled || job.signal.aborted) {
      await undoSlides();
      return { ...report, cancelled: true };
    }
    if (added.failed.length > 0) {
      await undoSlides();
      const named = added.failed.slice(0, 5).map((entry) => entry.message).join('; ');
      throw new InteropError(scan.folder, '', `${added.failed.length} image(s) could not be added as slides: ${named}; nothing was imported`);
    }

    // Step 3: one transaction.
    try {
      const written = this.db.transaction(() => this.writeCells(scan, actorId)).immediate();
      return { ...report, ...written, slidesAdded: addedIds.length };
    } catch (error) {
      await undoSlides();
      throw error;
    }
  }

  private writeCells(scan: CropsScan, actorId: number): Omit<CropsReport, 'folder' | 'cancelled' | 'slidesAdded'> {
    const slideIds: number[] = [];
    const createdClasses: AnnotationClass[] = [];
    const live = this.store.listClasses();
    const classIds = new Map(live.map((entry) => [classKey(entry.name), entry.id]));
    const usedColours = new Set(live.map((entry) => entry.colour));
    const usedHotkeys = new Set(live.flatMap((entry) => (entry.hotkey === null ? [] : [entry.hotkey])));
    for (const { name } of scan.classes) {
      const key = classKey(name);
      if (classIds.has(key)) continue;
      const colour = PALETTE.find((candidate) => !usedColours.has(candidate)) ?? '#808080';
      usedColours.add(colour);
      const hotkey = HOTKEYS.find((candidate) => !usedHotkeys.has(candidate)) ?? null;
      if (hotkey !== null) usedHotkeys.add(hotkey);
      const created = this.store.createClass({ name: name.trim(), colour, hotkey });
      createdClasses.push(created);
      classIds.set(key, created.id);
    }

    const createdAnnotators: Annotator[] = [];
    const annotatorIds = new Map(this.store.listAnnotators().map((entry) => [entry.name, entry.id]));
    for (const { name, kind } of scan.annotators) {
      if (annotatorIds.has(name)) continue;
      const created = this.store.ensureAnnotator(name, kind);
      createdAnnotators.push(created);
      annotatorIds.set(name, created.id);
    }

    const taken = this.db.prepare('SELECT 1 FROM annotations WHERE guid = ?');
    let alreadyPresent = 0;
    const annotations: ImportedAnnotation[] = [];
    for (const [cropPath, labels] of groupByImage(scan.crops)) {
      const guid = stableUuid(`crop\n${cropPath}`);
      if (taken.get(guid)) {
        alreadyPresent += 1;
        continue;
      }
      const slide = this.lookup.findByPath(cropPath);
      if (!slide) throw new InteropError(cropPath, '', 'was not added as a slide');
      slideIds.push(slide.id);
      // One vote per annotator: a later row of the same annotator for the same image wins.
      const votes = new Map<number, number>();
      for (const label of labels) {
        const voter = label.annotator === null ? actorId : annotatorIds.get(label.annotator)!;
        votes.set(voter, classIds.get(classKey(label.className))!);
      }
      const firstVoter = votes.keys().next().value!;
      annotations.push({
        slideId: slide.id,
        geometry: { shape: 'point', x: slide.width / 2, y: slide.height / 2 },
        guid,
        createdBy: firstVoter,
        votes: [...votes].map(([annotatorId, classId]) => ({ annotatorId, classId })),
      });
    }
    const receipt = this.store.importAnnotations(actorId, annotations, scan.folder);
    return { cells: annotations.length, slideIds, alreadyPresent, createdClasses, createdAnnotators, changeId: receipt.changeId };
  }
}

function classKey(name: string): string {
  return name.trim().toLowerCase();
}

/** Rows of a CSV may label one image several times (one row per annotator): one cell per image. */
export function groupByImage(crops: readonly Crop[]): Map<string, Crop[]> {
  const byPath = new Map<string, Crop[]>();
  for (const crop of crops) byPath.set(crop.path, [...(byPath.get(crop.path) ?? []), crop]);
  return byPath;
}
