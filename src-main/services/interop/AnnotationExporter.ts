import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { UserFacingError } from '../../contract/errors';
import type { AnnotationStore } from '../annotations/AnnotationStore';
import type { Geometry } from '../annotations/geometry';
import type { Annotation, AnnotationClass, Annotator } from '../annotations/types';
import type { SlideCatalog, SlideRecord } from '../slides/SlideCatalog';
import type { AnnotationBundle, BundleCell, BundleClass, BundleSlide, BundleVote, CellShape } from './AnnotationBundle';
import { annotationFormats, formatForFile, type AnnotationFormat } from './annotationFormats';
import { writeFileAtomically } from './atomicFile';
import { InteropError } from './InteropError';

/**
 * Writes the project's annotations to a file in an interchange format: builds an
 * AnnotationBundle from the project, serializes it with the format's adapter from the registry
 * (annotationFormats, so every registered format can be chosen) and writes it atomically.
 *
 * What the bundle holds (see AnnotationImporter for the way back):
 * - **Slides**: the chosen live slides (default: all), with file name, folder, size and tags
 *   (MIDOG's `tumor_type` is the `tumour` tag, as the MIDOG import writes it). Slides without
 *   cells are included.
 * - **Cells**: every live annotation of those slides, with its guid and its id as source id.
 * - **Votes**: every annotator's vote. The cell's creator comes first; a creator without a class
 *   vote is written as "marked without class", so the importer makes them the creator again
 *   (blind mode shows the cell to them). The other votes follow by annotator id.
 * - **Agreed class**: the class every person voted for, else the class a strict majority of the
 *   people voted for (how MIDOG and SlideRunner state agreement); none on a tie or without
 *   people's votes. Models' votes never decide, as in the project's consensus.
 * - **Classes**: every live class, plus deleted classes that still have votes among the cells.
 * - **Annotators**: those who vote on or created an exported cell, with their kind.
 *
 * Nothing is written when anything fails: the target is checked first (an existing file is
 * replaced only with `overwrite`), and the file appears whole or not at all.
 */

export interface ExportOptions {
  /** Where to write; relative paths resolve against the working directory. */
  path: string;
  /** A registered format id; default: the format the file's extension suggests. */
  formatId?: string;
  /** Only these slides (project slide ids); default every live slide. */
  slideIds?: readonly number[];
  /** Replace an existing file; without it an existing file is an error and stays as it was. */
  overwrite?: boolean;
}

export interface ExportReport {
  /** The absolute path written. */
  path: string;
  /** The format's id. */
  format: string;
  cells: number;
  /** Class votes written (marks without class not counted). */
  votes: number;
  slides: number;
  bytes: number;
  ms: number;
}

export interface ExporterOptions {
  /** Files an export must never replace (the open project's database and its journal files). */
  protectedFiles?: readonly string[];
}

/** A bundle made from the project, with each cell's annotation for error messages. */
export interface ProjectBundle {
  bundle: AnnotationBundle;
  /** Per bundle cell: the annotation it came from. */
  sources: Array<{ annotationId: number; slideName: string; x: number; y: number }>;
  votes: number;
}

export class AnnotationExporter {
  private readonly protectedFiles: Set<string>;

  constructor(
    private readonly db: Database,
    private readonly store: AnnotationStore,
    private readonly slides: SlideCatalog,
    options: ExporterOptions = {},
  ) {
    this.protectedFiles = new Set(
      (options.protectedFiles ?? []).flatMap((file) => [file, `${file}-wal`, `${file}-shm`, `${file}-journal`].map((entry) => path.resolve(entry))),
    );
  }

  /** Builds the bundle, serializes it and writes the file. Throws UserFacingError or InteropError naming the file. */
  export(options: ExportOptions): ExportReport {
    const started = performance.now();
    const file = path.resolve(options.path);
    const format = exportFormatFor(file, options.formatId);
    this.checkTarget(file, options.overwrite === true);

    const built = this.bundle(options.slideIds, format.id, file);
    let content: string | Uint8Array;
    try {
      content = format.serialize(built.bundle, file);
    } catch (error) {
      throw readablePlace(error, built);
    }
    try {
      writeFileAtomically(file, content);
    } catch (error) {
      throw new UserFacingError('unwritable', `${file}: cannot be written (${messageOf(error)})`, file);
    }
    return {
      path: file,
      format: format.id,
      cells: built.bundle.cells.length,
      votes: built.votes,
      slides: built.bundle.slides.length,
      bytes: typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength,
      ms: performance.now() - started,
    };
  }

  /**
   * The bundle of the chosen slides (default all), read in one snapshot. `file` names the
   * export in errors (an unknown slide id).
   */
  bundle(slideIds: readonly number[] | undefined, sourceFormat: AnnotationBundle['sourceFormat'], file = 'the export'): ProjectBundle {
    return this.db.transaction(() => this.build(slideIds, sourceFormat, file)).deferred();
  }

  private build(slideIds: readonly number[] | undefined, sourceFormat: AnnotationBundle['sourceFormat'], file: string): ProjectBundle {
    const records = this.chosenSlides(slideIds, file);
    const annotators = this.store.listAnnotators();
    const annotatorById = new Map(annotators.map((annotator) => [annotator.id, annotator]));
    const classById = new Map(this.store.listClasses({ includeDeleted: true }).map((entry) => [entry.id, entry]));
    // Every live annotation can be seen by any annotator when not blind; with no annotator there are no annotations.
    const viewer = annotators[0];

    const slides: BundleSlide[] = [];
    const cells: BundleCell[] = [];
    const sources: ProjectBundle['sources'] = [];
    const usedAnnotators = new Set<number>();
    const usedClasses = new Set<number>();
    let votes = 0;

    for (const record of records) {
      const slideIndex = slides.length;
      slides.push(bundleSlide(record));
      if (!viewer) continue;
      for (const annotation of this.store.listForSlide(record.id, { viewerId: viewer.id })) {
        const cellVotes = votesOf(annotation, annotatorById, classById);
        for (const vote of annotation.votes) usedClasses.add(vote.classId);
        usedAnnotators.add(annotation.createdBy);
        for (const vote of annotation.votes) usedAnnotators.add(vote.annotatorId);
        votes += annotation.votes.length;
        const cell: BundleCell = { slideIndex, shape: shapeOf(annotation.geometry), votes: cellVotes, guid: annotation.guid, sourceId: annotation.id };
        const agreed = agreedClassOf(annotation);
        if (agreed !== null) cell.agreedClass = classById.get(agreed)!.name;
        cells.push(cell);
        sources.push({ annotationId: annotation.id, slideName: record.fileName, x: annotation.centre.x, y: annotation.centre.y });
      }
    }

    const classes = bundleClasses([...classById.values()], usedClasses);
    // A deleted class renamed to keep names unique: its votes and agreed cells follow the new name.
    const renamed = new Map(classes.filter((entry) => entry.renamedFrom !== undefined).map((entry) => [entry.renamedFrom!, entry.name]));
    if (renamed.size > 0) {
      for (const cell of cells) {
        if (cell.agreedClass !== undefined) cell.agreedClass = renamed.get(cell.agreedClass) ?? cell.agreedClass;
        for (const vote of cell.votes) if (vote.className !== null) vote.className = renamed.get(vote.className) ?? vote.className;
      }
    }

    const bundle: AnnotationBundle = {
      sourceFormat,
      classes: classes.map(({ name, colour, sourceId }) => ({ name, colour, sourceId })),
      annotators: annotators
        .filter((annotator) => usedAnnotators.has(annotator.id))
        .map((annotator) => ({ name: annotator.name, kind: annotator.kind, sourceId: annotator.id })),
      slides,
      cells,
      warnings: [],
    };
    return { bundle, sources, votes };
  }

  private chosenSlides(slideIds: readonly number[] | undefined, file: string): SlideRecord[] {
    const live = this.slides.list();
    if (slideIds === undefined) return live;
    const byId = new Map(live.map((record) => [record.id, record]));
    const chosen: SlideRecord[] = [];
    for (const id of new Set(slideIds)) {
      const record = byId.get(id);
      if (!record) throw new UserFacingError('not-found', `${file}: slide ${id} is not in this project (or was removed); nothing was written`, file);
      chosen.push(record);
    }
    return chosen.sort((a, b) => a.id - b.id);
  }

  private checkTarget(file: string, overwrite: boolean): void {
    if (this.protectedFiles.has(file)) {
      throw new UserFacingError('invalid-argument', `${file}: is the open project's own database; choose another file`, file);
    }
    const folder = path.dirname(file);
    let folderStat: fs.Stats;
    try {
      folderStat = fs.statSync(folder);
    } catch {
      throw new UserFacingError('unwritable', `${file}: cannot be written: the folder ${folder} does not exist`, file);
    }
    if (!folderStat.isDirectory()) {
      throw new UserFacingError('unwritable', `${file}: cannot be written: ${folder} is not a folder`, file);
    }
    const existing = fs.statSync(file, { throwIfNoEntry: false });
    if (existing?.isDirectory()) throw new UserFacingError('invalid-argument', `${file}: is a folder; give a file name`, file);
    if (existing && !overwrite) {
      throw new UserFacingError('file-exists', `${file}: already exists; choose another name or allow overwriting it`, file);
    }
  }
}

/** The formats that can write files, in the registry's order. */
export function exportFormats(): AnnotationFormat[] {
  return annotationFormats.filter((format) => typeof format.serialize === 'function');
}

/** The format named by id, else the one the file's extension suggests; a UserFacingError naming the file otherwise. */
export function exportFormatFor(file: string, formatId: string | undefined): AnnotationFormat {
  const writable = exportFormats();
  if (formatId !== undefined) {
    const format = writable.find((candidate) => candidate.id === formatId);
    if (format) return format;
    throw new UserFacingError(
      'invalid-argument',
      `${file}: unknown export format "${formatId}" (known: ${writable.map((candidate) => candidate.id).join(', ')})`,
      file,
    );
  }
  const guessed = formatForFile(file);
  if (guessed && writable.includes(guessed)) return guessed;
  const extensions = writable.map((candidate) => `${candidate.fileExtensions.join('/')} (${candidate.id})`).join(', ');
  throw new UserFacingError('invalid-argument', `${file}: the file name does not say which format to write (${extensions}); choose the format`, file);
}

function bundleSlide(record: SlideRecord): BundleSlide {
  const slide: BundleSlide = { fileName: record.fileName, tags: Object.fromEntries(record.tags.map((tag) => [tag.key, tag.value])), sourceId: record.id };
  // Placeholders ("missing file" slides) have no path yet.
  if (record.path) slide.directory = path.dirname(record.path);
  if (record.width > 0) slide.widthPx = record.width;
  if (record.height > 0) slide.heightPx = record.height;
  return slide;
}

/** The creator's vote (or mark without class) first, then the others by annotator id. */
function votesOf(annotation: Annotation, annotators: Map<number, Annotator>, classes: Map<number, AnnotationClass>): BundleVote[] {
  const nameOf = (annotatorId: number) => annotators.get(annotatorId)!.name;
  const creatorVote = annotation.votes.find((vote) => vote.annotatorId === annotation.createdBy);
  const votes: BundleVote[] = [
    { annotator: nameOf(annotation.createdBy), className: creatorVote ? classes.get(creatorVote.classId)!.name : null },
  ];
  for (const vote of annotation.votes) {
    if (vote.annotatorId !== annotation.createdBy) votes.push({ annotator: nameOf(vote.annotatorId), className: classes.get(vote.classId)!.name });
  }
  return votes;
}

/** The agreed class id: unanimous, else a strict majority of the people's votes; null on a tie or without them. */
function agreedClassOf(annotation: Annotation): number | null {
  const consensus = annotation.consensus;
  if (consensus?.status === 'agreed') return consensus.classId;
  if (consensus?.status !== 'disagreement') return null;
  const counts = new Map<number, number>();
  for (const vote of annotation.votes) {
    if (vote.annotatorKind === 'person') counts.set(vote.classId, (counts.get(vote.classId) ?? 0) + 1);
  }
  const [first, second] = [...counts].sort((a, b) => b[1] - a[1]);
  return first && (!second || first[1] > second[1]) ? first[0] : null;
}

interface ExportedClass extends BundleClass {
  renamedFrom?: string;
}

/** Live classes, then deleted ones that still have votes; a deleted class whose name is taken gets " (deleted)". */
function bundleClasses(all: AnnotationClass[], used: Set<number>): ExportedClass[] {
  const live = all.filter((entry) => entry.deletedAt === null);
  const deleted = all.filter((entry) => entry.deletedAt !== null && used.has(entry.id));
  const taken = new Set(live.map((entry) => entry.name.trim().toLowerCase()));
  const result: ExportedClass[] = live.map((entry) => ({ name: entry.name, colour: entry.colour, sourceId: entry.id }));
  for (const entry of deleted) {
    let name = entry.name;
    for (let attempt = 1; taken.has(name.trim().toLowerCase()); attempt += 1) {
      name = attempt === 1 ? `${entry.name} (deleted)` : `${entry.name} (deleted ${attempt})`;
    }
    taken.add(name.trim().toLowerCase());
    result.push(name === entry.name ? { name, colour: entry.colour, sourceId: entry.id } : { name, colour: entry.colour, sourceId: entry.id, renamedFrom: entry.name });
  }
  return result;
}

function shapeOf(geometry: Geometry): CellShape {
  switch (geometry.shape) {
    case 'point':
      return { kind: 'point', x: geometry.x, y: geometry.y };
    case 'circle':
      return { kind: 'circle', x: geometry.x, y: geometry.y, radius: geometry.radius };
    case 'rectangle':
      return { kind: 'rectangle', x1: geometry.x, y1: geometry.y, x2: geometry.x + geometry.width, y2: geometry.y + geometry.height };
    case 'polygon':
      return { kind: 'polygon', points: geometry.points.map(([x, y]) => ({ x, y })) };
  }
}

/**
 * A serializer names places in the bundle (`cells[12].shape`); the user knows cells by slide and
 * position, so the place is rewritten as "cell 345 at (1200, 830) on "case-1.svs"".
 */
function readablePlace(error: unknown, built: ProjectBundle): unknown {
  if (!(error instanceof InteropError)) return error;
  const cell = /^cells\[(\d+)\](.*)$/.exec(error.place);
  if (cell) {
    const source = built.sources[Number(cell[1])];
    if (source) {
      const where = `cell ${source.annotationId} at (${round(source.x)}, ${round(source.y)}) on "${source.slideName}"`;
      return new InteropError(error.file, `${where}${cell[2] ? ` (${cell[2].replace(/^\./, '')})` : ''}`, error.problem);
    }
  }
  const slide = /^slides\[(\d+)\](.*)$/.exec(error.place);
  if (slide) {
    const entry = built.bundle.slides[Number(slide[1])];
    if (entry) return new InteropError(error.file, `slide "${entry.fileName}"${slide[2] ? ` (${slide[2].replace(/^\./, '')})` : ''}`, error.problem);
  }
  return error;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
