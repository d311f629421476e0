import crypto from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { SlideTag } from '../../contract/schemas';
import type { AnnotationStore, ImportedAnnotation } from '../annotations/AnnotationStore';
import { AnnotationError, InvalidAnnotationInputError, UnknownReferenceError } from '../annotations/errors';
import { validateGeometry, type Geometry } from '../annotations/geometry';
import type { AnnotationClass, Annotator, AnnotatorKind, Vote } from '../annotations/types';
import type { SlideCatalog, SlideRecord } from '../slides/SlideCatalog';
import type { AnnotationBundle, BundleCell, CellShape } from './AnnotationBundle';
import { checkBundle } from './checkBundle';
import { InteropError } from './InteropError';

/**
 * Brings an AnnotationBundle (any interchange format, already parsed) into the project:
 * `preview` says what an import would do without writing anything; `import` does it in one
 * transaction, so a failure anywhere leaves the project as it was.
 *
 * How the bundle meets the project:
 * - **Classes** match a live project class of the same name, ignoring case and surrounding
 *   spaces; the others are created (the bundle's colour, else the next unused palette colour;
 *   the next free number key, if any).
 * - **Annotators** match a project annotator of the same (trimmed) name, case-sensitively as the
 *   store's identity is; the existing annotator's kind wins over the file's (a warning says so).
 *   The others are created with the kind the file gives.
 * - **Slides** match a project slide by base file name, ignoring case (the bundle's folder part,
 *   `/` or `\`, is ignored; the lowest id wins when the project holds two slides of that name).
 *   Unmatched images become "missing file" placeholder slides (SlideCatalog.insertPlaceholder)
 *   with the size the file states, to be relinked to the image later. Bundle images of the same
 *   base name share one project slide.
 * - **Slide tags** merge: the bundle's keys overwrite, the slide's other tags are kept.
 * - **Cells** are imported through AnnotationStore.importAnnotations as one change of the actor
 *   (one undo removes them all), with their guid:
 *   - a cell without a guid but with a source id (MIDOG annotation id, old SlideRunner uid) gets
 *     a guid derived from format, slide name, source id and shape (see `derivedGuid`), so
 *     importing the same file twice recognises its cells; a cell without either gets a random one;
 *   - a cell whose guid the project already holds is **skipped** (reported as already present:
 *     nothing of it is changed, its votes included);
 *   - a cell deleted in the source (SlideRunner) is skipped and counted;
 *   - descriptions and frame numbers (zLevel) are not kept (the store has no place for them);
 *     a warning counts them.
 * - **Votes**: one per annotator and cell. An annotator who voted more than once on a cell
 *   keeps their last class (the real MIDOG SlideRunner database repeats a detector's votes).
 *   A vote with a null class ("marked without class", SlideRunner class 0) is not stored as a
 *   vote (a label needs a class): the cell is kept, and if that annotator is the cell's first
 *   voter they become its creator, so blind mode still shows it to them as their own candidate.
 *   The cell's creator is its first voter in the file's order (null-class votes included), else
 *   the actor.
 * - **Agreed class**: the store derives consensus from votes. A cell with no class vote but an
 *   agreed class (a CSV without annotator column) gets that class as the importing actor's vote,
 *   so no label is lost. When a cell has votes, its stated agreed class is not stored; a warning
 *   counts the cells whose votes do not agree on it (e.g. a 2:1 majority, which Mitobench shows
 *   as a disagreement with every vote).
 */

export interface ImportPreviewOptions {
  /** Names the source in error messages (the file's path); default "the imported file". */
  file?: string;
  /**
   * The user's choices in the preview: bundle class name → id of the live project class it
   * should map to (e.g. MIDOG's "not mitotic figure" → "non-mitotic figure (imposter)").
   */
  classMapping?: Record<string, number>;
  /** The user's correction of new annotators' kinds, by bundle annotator name. */
  annotatorKinds?: Record<string, AnnotatorKind>;
}

/** Give `import` the same options the preview was made with. */
export type ImportOptions = ImportPreviewOptions;

export interface ClassPreview {
  /** As the bundle names it. */
  name: string;
  /** Votes for this class that will be stored. */
  votes: number;
  /** Imported cells the file states as this class (its agreed class). */
  agreedCells: number;
  /** The live project class it maps to; null when it will be created. */
  projectClass: { id: number; name: string } | null;
  /** The existing class's colour, or the colour the new class will get. */
  colour: string;
}

export interface AnnotatorPreview {
  /** As the bundle names it. */
  name: string;
  /** The kind it has (existing) or will have (new) in the project. */
  kind: AnnotatorKind;
  kindInFile: AnnotatorKind;
  /** Null when it will be created. */
  annotatorId: number | null;
  /** Class votes that will be stored for it. */
  votes: number;
  /** Cells it marked without a class (not stored as votes). */
  marksWithoutClass: number;
}

export interface MatchedSlidePreview {
  fileName: string;
  slideId: number;
  /** The project slide's name (may differ in case or folder). */
  projectName: string;
  cells: number;
}

export interface UnmatchedSlidePreview {
  fileName: string;
  /** 0 when the file states no size. */
  width: number;
  height: number;
  cells: number;
}

export interface TagPreview {
  key: string;
  /** Distinct values with the number of project slides that get each. */
  values: Array<{ value: string; slides: number }>;
  /** Existing slides whose current, different value for this key will be overwritten. */
  overwrites: number;
}

export interface ImportCounts {
  /** Cells that will be (were) imported. */
  cells: number;
  /** Votes that will be (were) stored, agreed-class votes included. */
  votes: number;
  /** Null-class votes: the cell is kept, the vote is not stored. */
  votesWithoutClass: number;
  /** Further votes of an annotator on a cell they had voted on; the last class was kept. */
  repeatedVotes: number;
  /** Cells without class votes whose agreed class became the importing actor's vote. */
  agreedClassVotes: number;
  /** Cells whose stated agreed class their votes do not agree on (kept as votes only). */
  agreedClassNotKept: number;
  /** Cells skipped because the project already holds their guid. */
  alreadyPresent: number;
  /** Cells skipped because the source marks them deleted. */
  deletedInSource: number;
}

export interface ImportPreview extends ImportCounts {
  sourceFormat: AnnotationBundle['sourceFormat'];
  classes: ClassPreview[];
  annotators: AnnotatorPreview[];
  slides: { matched: MatchedSlidePreview[]; unmatched: UnmatchedSlidePreview[] };
  tags: TagPreview[];
  /** The bundle's own warnings, then the importer's. */
  warnings: string[];
}

export interface ImportReport extends ImportCounts {
  /** The history change holding the cells (undo removes them); null when no cell was imported. */
  changeId: number | null;
  /** Ids of the imported annotations, in the bundle's order of the imported cells. */
  annotationIds: number[];
  createdClasses: AnnotationClass[];
  createdAnnotators: Annotator[];
  /** "Missing file" slides made for unmatched images. */
  createdSlides: Array<{ slideId: number; fileName: string }>;
  matchedSlides: Array<{ fileName: string; slideId: number }>;
  /** Slides whose tags changed. */
  slidesTagged: number;
  warnings: string[];
  /** Wall time of the transaction. */
  durationMs: number;
}

/** Colours for created classes, after the defaults (#e6194b, #3cb4e6); Sasha Trubetskoy's distinct colours. */
const PALETTE = [
  '#3cb44b', '#ffe119', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe',
  '#008080', '#e6beff', '#9a6324', '#800000', '#aaffc3', '#808000', '#000075', '#808080',
];
const HOTKEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];
const MAX_NAME_LENGTH = 200;
const MAX_TAG_KEY_LENGTH = 100;
const MAX_TAG_VALUE_LENGTH = 500;

type ClassTarget =
  | { kind: 'existing'; projectClass: AnnotationClass }
  | { kind: 'new'; key: string; name: string; colour: string; hotkey: string | null };
type AnnotatorTarget = { kind: 'existing'; annotator: Annotator } | { kind: 'new'; name: string; annotatorKind: AnnotatorKind };
type SlideTarget = { kind: 'existing'; record: SlideRecord } | { kind: 'new'; key: string; fileName: string; width: number; height: number };

interface PlannedVote {
  /** Annotator key (trimmed name), or null for the importing actor. */
  annotator: string | null;
  classKey: string;
}

interface PlannedCell {
  cellIndex: number;
  slideKey: string;
  geometry: Geometry;
  guid: string;
  /** Annotator key of the creator, or null for the importing actor. */
  createdBy: string | null;
  votes: PlannedVote[];
}

interface Plan {
  file: string;
  classTargets: Map<string, ClassTarget>;
  annotatorTargets: Map<string, AnnotatorTarget>;
  slideTargets: Map<string, SlideTarget>;
  /** Per slide key: the merged tags to write, when they differ from the slide's present tags. */
  tagWrites: Map<string, SlideTag[]>;
  cells: PlannedCell[];
  counts: ImportCounts;
  preview: ImportPreview;
}

export class AnnotationImporter {
  private readonly takenGuids: Statement;

  constructor(
    private readonly db: Database,
    private readonly store: AnnotationStore,
    private readonly slides: SlideCatalog,
  ) {
    // Which of a JSON array of guids the project holds (deleted annotations included: a guid is never reused).
    this.takenGuids = db.prepare('SELECT a.guid FROM json_each(?) AS j JOIN annotations AS a ON a.guid = j.value');
  }

  /** What `import` would do now; writes nothing. Throws an InteropError naming the place when the bundle is not whole. */
  preview(bundle: AnnotationBundle, options: ImportPreviewOptions = {}): ImportPreview {
    // A read transaction: one consistent snapshot (and no per-statement locking); it takes no write lock.
    return this.db.transaction(() => this.plan(bundle, options.file ?? 'the imported file', options).preview).deferred();
  }

  /**
   * Imports the bundle as `actorId` in one IMMEDIATE transaction: classes, annotators, placeholder
   * slides, tags and cells all land, or nothing does. The AnnotationStore's and the catalog's own
   * transactions nest inside it as savepoints.
   */
  import(bundle: AnnotationBundle, actorId: number, options: ImportOptions = {}): ImportReport {
    const file = options.file ?? 'the imported file';
    const started = performance.now();
    const report = this.db
      .transaction((): Omit<ImportReport, 'durationMs'> => {
        if (!Number.isInteger(actorId) || !this.store.listAnnotators().some((annotator) => annotator.id === actorId)) {
          throw new UnknownReferenceError('actorId', 'annotator', actorId);
        }
        // Planned inside the transaction: what it reads cannot change before it writes.
        const plan = this.plan(bundle, file, options);
        return this.apply(plan, actorId);
      })
      .immediate();
    return { ...report, durationMs: performance.now() - started };
  }

  private apply(plan: Plan, actorId: number): Omit<ImportReport, 'durationMs'> {
    const createdClasses: AnnotationClass[] = [];
    const classIds = new Map<string, number>();
    for (const [key, target] of plan.classTargets) {
      if (target.kind === 'existing') {
        classIds.set(key, target.projectClass.id);
      } else {
        const created = this.store.createClass({ name: target.name, colour: target.colour, hotkey: target.hotkey });
        createdClasses.push(created);
        classIds.set(key, created.id);
      }
    }

    const createdAnnotators: Annotator[] = [];
    const annotatorIds = new Map<string, number>();
    for (const [key, target] of plan.annotatorTargets) {
      if (target.kind === 'existing') {
        annotatorIds.set(key, target.annotator.id);
      } else {
        const created = this.store.ensureAnnotator(target.name, target.annotatorKind);
        createdAnnotators.push(created);
        annotatorIds.set(key, created.id);
      }
    }

    const createdSlides: ImportReport['createdSlides'] = [];
    const matchedSlides: ImportReport['matchedSlides'] = [];
    const slideIds = new Map<string, number>();
    for (const [key, target] of plan.slideTargets) {
      if (target.kind === 'existing') {
        slideIds.set(key, target.record.id);
        matchedSlides.push({ fileName: target.record.fileName, slideId: target.record.id });
      } else {
        const slideId = this.slides.insertPlaceholder({ fileName: target.fileName, width: target.width, height: target.height });
        slideIds.set(key, slideId);
        createdSlides.push({ slideId, fileName: target.fileName });
      }
    }

    for (const [key, tags] of plan.tagWrites) this.slides.setTags(slideIds.get(key)!, tags);

    const annotatorId = (key: string | null): number => (key === null ? actorId : annotatorIds.get(key)!);
    const annotations: ImportedAnnotation[] = plan.cells.map((cell) => {
      const votes = new Map<number, number>();
      for (const vote of cell.votes) votes.set(annotatorId(vote.annotator), classIds.get(vote.classKey)!);
      return {
        slideId: slideIds.get(cell.slideKey)!,
        geometry: cell.geometry,
        guid: cell.guid,
        createdBy: annotatorId(cell.createdBy),
        votes: [...votes].map(([voter, classId]): Vote => ({ annotatorId: voter, classId })),
      };
    });
    // Last: nothing that can fail comes after it, so its change events describe a change that commits.
    const receipt = this.store.importAnnotations(actorId, annotations, plan.file);

    return {
      ...plan.counts,
      changeId: receipt.changeId,
      annotationIds: receipt.annotationIds,
      createdClasses,
      createdAnnotators,
      createdSlides,
      matchedSlides,
      slidesTagged: plan.tagWrites.size,
      warnings: plan.preview.warnings,
    };
  }

  private plan(bundle: AnnotationBundle, file: string, choices: ImportPreviewOptions): Plan {
    checkBundle(bundle, file);
    const warnings = [...bundle.warnings];
    const classes = this.planClasses(bundle, file, choices.classMapping ?? {});
    const annotators = this.planAnnotators(bundle, file, choices.annotatorKinds ?? {}, warnings);
    const slides = this.planSlides(bundle, warnings);

    const counts: ImportCounts = {
      cells: 0,
      votes: 0,
      votesWithoutClass: 0,
      repeatedVotes: 0,
      agreedClassVotes: 0,
      agreedClassNotKept: 0,
      alreadyPresent: 0,
      deletedInSource: 0,
    };
    const classVotes = new Map<string, number>();
    const agreedCells = new Map<string, number>();
    const annotatorVotes = new Map<string, { votes: number; marks: number }>();
    const slideCells = new Map<string, number>();
    const cells: PlannedCell[] = [];
    const guidsInFile = new Set<string>();
    const derivedGuidUses = new Map<string, number>();
    let duplicateGuids = 0;
    let droppedDescriptions = 0;
    let droppedFrames = 0;
    let degenerateShapes = 0;
    const isPerson = (key: string): boolean => {
      const target = annotators.targets.get(key)!;
      return (target.kind === 'existing' ? target.annotator.kind : target.annotatorKind) === 'person';
    };

    // Guids first, so the project is asked once which of them it holds.
    const guidOf: Array<string | null> = bundle.cells.map((cell) => {
      if (cell.deleted) return null;
      const slideKey = slides.keyOfIndex[cell.slideIndex]!;
      return cell.guid ?? (cell.sourceId === undefined ? crypto.randomUUID() : derivedGuid(bundle, slideKey, cell, derivedGuidUses));
    });
    const taken = new Set(this.takenGuids.pluck().all(JSON.stringify(guidOf.filter((guid) => guid !== null))) as string[]);

    bundle.cells.forEach((cell, cellIndex) => {
      const guid = guidOf[cellIndex]!;
      if (cell.deleted) {
        counts.deletedInSource += 1;
        return;
      }
      const slideKey = slides.keyOfIndex[cell.slideIndex]!;
      if (guidsInFile.has(guid)) {
        duplicateGuids += 1;
        return;
      }
      guidsInFile.add(guid);
      if (taken.has(guid)) {
        counts.alreadyPresent += 1;
        return;
      }

      // One vote per annotator: the last class wins; a null class only marks the cell.
      const byAnnotator = new Map<string, string | null>();
      let createdBy: string | null = null;
      for (const vote of cell.votes) {
        const key = annotators.keyOf.get(vote.annotator)!;
        createdBy ??= key;
        const classKey = vote.className === null ? null : classes.keyOf.get(vote.className)!;
        if (byAnnotator.has(key)) {
          counts.repeatedVotes += 1;
          if (classKey !== null) byAnnotator.set(key, classKey);
        } else {
          byAnnotator.set(key, classKey);
        }
      }
      const votes: PlannedVote[] = [];
      for (const [annotator, classKey] of byAnnotator) {
        const tally = annotatorVotes.get(annotator) ?? { votes: 0, marks: 0 };
        annotatorVotes.set(annotator, tally);
        if (classKey === null) {
          counts.votesWithoutClass += 1;
          tally.marks += 1;
        } else {
          votes.push({ annotator, classKey });
          tally.votes += 1;
        }
      }
      const agreedKey = cell.agreedClass === undefined ? undefined : classes.keyOf.get(cell.agreedClass)!;
      if (votes.length === 0 && agreedKey !== undefined) {
        votes.push({ annotator: null, classKey: agreedKey });
        counts.agreedClassVotes += 1;
      } else if (agreedKey !== undefined) {
        const personClasses = new Set(votes.filter((vote) => vote.annotator !== null && isPerson(vote.annotator)).map((vote) => vote.classKey));
        if (personClasses.size !== 1 || !personClasses.has(agreedKey)) counts.agreedClassNotKept += 1;
      }
      for (const vote of votes) classVotes.set(vote.classKey, (classVotes.get(vote.classKey) ?? 0) + 1);
      if (agreedKey !== undefined) agreedCells.set(agreedKey, (agreedCells.get(agreedKey) ?? 0) + 1);
      if (cell.description) droppedDescriptions += 1;
      if (cell.zLevel) droppedFrames += 1;

      const geometry = geometryOf(cell.shape);
      if (geometry.shape === 'point' && cell.shape.kind !== 'point') degenerateShapes += 1;
      try {
        validateGeometry(geometry, `cells[${cellIndex}].shape`);
      } catch (error) {
        if (error instanceof AnnotationError) throw new InteropError(file, error.field, error.message.slice(error.field.length + 2));
        throw error;
      }

      counts.cells += 1;
      counts.votes += votes.length;
      slideCells.set(slideKey, (slideCells.get(slideKey) ?? 0) + 1);
      cells.push({ cellIndex, slideKey, geometry, guid, createdBy, votes });
    });

    if (counts.alreadyPresent > 0) warnings.push(`${counts.alreadyPresent} cell(s) are already in the project (same guid) and will be skipped`);
    if (duplicateGuids > 0) warnings.push(`${duplicateGuids} cell(s) repeat the guid of an earlier cell in the file and will be skipped`);
    if (counts.deletedInSource > 0) warnings.push(`${counts.deletedInSource} cell(s) are marked deleted in the file and will be skipped`);
    if (counts.repeatedVotes > 0) warnings.push(`${counts.repeatedVotes} repeated vote(s) of an annotator on the same cell: each annotator's last class is kept`);
    if (counts.votesWithoutClass > 0) {
      warnings.push(`${counts.votesWithoutClass} vote(s) mark a cell without a class: the cells are kept, those votes are not stored`);
    }
    if (counts.agreedClassVotes > 0) {
      warnings.push(`${counts.agreedClassVotes} cell(s) have a class but no annotator's vote: the class becomes the importing annotator's vote`);
    }
    if (counts.agreedClassNotKept > 0) {
      warnings.push(
        `${counts.agreedClassNotKept} cell(s) state an agreed class their annotators do not all vote for (e.g. a majority of votes): ` +
          'every vote is kept and the consensus is derived from the votes, so they show as disagreements',
      );
    }
    if (degenerateShapes > 0) warnings.push(`${degenerateShapes} circle(s) or rectangle(s) of zero size were imported as points at their centre`);
    if (droppedDescriptions > 0) warnings.push(`${droppedDescriptions} cell description(s) are not kept`);
    if (droppedFrames > 0) warnings.push(`${droppedFrames} cell(s) lie on another frame or focal plane (z level); the z level is not kept`);

    const tagWrites = planTags(bundle, slides, warnings);
    const preview: ImportPreview = {
      sourceFormat: bundle.sourceFormat,
      ...counts,
      classes: bundle.classes.map((entry) => {
        const key = classes.keyOf.get(entry.name)!;
        const target = classes.targets.get(key)!;
        // A class named twice (differing in case) is counted once, under its first name.
        const first = classes.firstNameOf.get(key) === entry.name;
        return {
          name: entry.name,
          votes: first ? (classVotes.get(key) ?? 0) : 0,
          agreedCells: first ? (agreedCells.get(key) ?? 0) : 0,
          projectClass: target.kind === 'existing' ? { id: target.projectClass.id, name: target.projectClass.name } : null,
          colour: target.kind === 'existing' ? target.projectClass.colour : target.colour,
        };
      }),
      annotators: bundle.annotators.map((entry) => {
        const key = annotators.keyOf.get(entry.name)!;
        const target = annotators.targets.get(key)!;
        const first = annotators.firstNameOf.get(key) === entry.name;
        const tally = first ? (annotatorVotes.get(key) ?? { votes: 0, marks: 0 }) : { votes: 0, marks: 0 };
        return {
          name: entry.name,
          kind: target.kind === 'existing' ? target.annotator.kind : target.annotatorKind,
          kindInFile: entry.kind,
          annotatorId: target.kind === 'existing' ? target.annotator.id : null,
          votes: tally.votes,
          marksWithoutClass: tally.marks,
        };
      }),
      slides: {
        matched: [...slides.targets].flatMap(([key, target]) =>
          target.kind === 'existing'
            ? [{ fileName: slides.firstNameOf.get(key)!, slideId: target.record.id, projectName: target.record.fileName, cells: slideCells.get(key) ?? 0 }]
            : [],
        ),
        unmatched: [...slides.targets].flatMap(([key, target]) =>
          target.kind === 'new' ? [{ fileName: target.fileName, width: target.width, height: target.height, cells: slideCells.get(key) ?? 0 }] : [],
        ),
      },
      tags: tagPreview(bundle, slides, tagWrites),
      warnings,
    };
    return {
      file,
      classTargets: classes.targets,
      annotatorTargets: annotators.targets,
      slideTargets: slides.targets,
      tagWrites,
      cells,
      counts,
      preview,
    };
  }

  private planClasses(bundle: AnnotationBundle, file: string, mapping: Record<string, number>) {
    const live = this.store.listClasses();
    const byKey = new Map(live.map((entry) => [classKey(entry.name), entry]));
    const byId = new Map(live.map((entry) => [entry.id, entry]));
    for (const [name, classId] of Object.entries(mapping)) {
      if (!bundle.classes.some((entry) => entry.name === name)) {
        throw new InvalidAnnotationInputError(`classMapping[${JSON.stringify(name)}]`, 'the file has no class of that name');
      }
      if (!byId.has(classId)) throw new UnknownReferenceError(`classMapping[${JSON.stringify(name)}]`, 'class', classId);
    }
    const usedColours = new Set(live.map((entry) => entry.colour));
    const usedHotkeys = new Set(live.flatMap((entry) => (entry.hotkey === null ? [] : [entry.hotkey])));
    const targets = new Map<string, ClassTarget>();
    const keyOf = new Map<string, string>();
    const firstNameOf = new Map<string, string>();
    bundle.classes.forEach((entry, index) => {
      const name = entry.name.trim();
      if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
        throw new InteropError(file, `classes[${index}].name`, `a class name must have 1 to ${MAX_NAME_LENGTH} characters`);
      }
      const chosen = Object.hasOwn(mapping, entry.name) ? byId.get(mapping[entry.name]!) : undefined;
      // A class mapped by the user is keyed by its project id, so it can share a target with others.
      const key = chosen ? `#${chosen.id}` : classKey(name);
      keyOf.set(entry.name, key);
      if (targets.has(key)) return;
      firstNameOf.set(key, entry.name);
      const existing = chosen ?? byKey.get(key);
      if (existing) {
        targets.set(key, { kind: 'existing', projectClass: existing });
        return;
      }
      const given = entry.colour !== undefined && /^#[0-9a-f]{6}$/i.test(entry.colour) ? entry.colour.toLowerCase() : undefined;
      const colour = given ?? PALETTE.find((candidate) => !usedColours.has(candidate)) ?? colourFromName(name);
      usedColours.add(colour);
      const hotkey = HOTKEYS.find((candidate) => !usedHotkeys.has(candidate)) ?? null;
      if (hotkey !== null) usedHotkeys.add(hotkey);
      targets.set(key, { kind: 'new', key, name, colour, hotkey });
    });
    return { targets, keyOf, firstNameOf };
  }

  private planAnnotators(bundle: AnnotationBundle, file: string, kinds: Record<string, AnnotatorKind>, warnings: string[]) {
    const byName = new Map(this.store.listAnnotators().map((annotator) => [annotator.name, annotator]));
    const targets = new Map<string, AnnotatorTarget>();
    const keyOf = new Map<string, string>();
    const firstNameOf = new Map<string, string>();
    bundle.annotators.forEach((entry, index) => {
      const key = entry.name.trim();
      if (key.length === 0 || key.length > MAX_NAME_LENGTH) {
        throw new InteropError(file, `annotators[${index}].name`, `an annotator name must have 1 to ${MAX_NAME_LENGTH} characters`);
      }
      const kind = Object.hasOwn(kinds, entry.name) ? kinds[entry.name] : entry.kind;
      if (kind !== 'person' && kind !== 'model') {
        throw new InteropError(file, `annotators[${index}].kind`, `must be 'person' or 'model' (got ${JSON.stringify(kind)})`);
      }
      keyOf.set(entry.name, key);
      if (targets.has(key)) return;
      firstNameOf.set(key, entry.name);
      const existing = byName.get(key);
      if (existing) {
        if (existing.kind !== kind) {
          warnings.push(`"${key}" is a ${existing.kind} in this project but a ${kind} in the file; kept as a ${existing.kind}`);
        }
        targets.set(key, { kind: 'existing', annotator: existing });
      } else {
        targets.set(key, { kind: 'new', name: key, annotatorKind: kind });
      }
    });
    return { targets, keyOf, firstNameOf };
  }

  private planSlides(bundle: AnnotationBundle, warnings: string[]): SlidePlan {
    const byKey = new Map<string, SlideRecord>();
    const ambiguous = new Set<string>();
    for (const record of this.slides.list()) {
      const key = slideKey(record.fileName);
      if (byKey.has(key)) ambiguous.add(key);
      else byKey.set(key, record);
    }
    const targets = new Map<string, SlideTarget>();
    const firstNameOf = new Map<string, string>();
    const keyOfIndex: string[] = [];
    const sharedNames = new Set<string>();
    for (const slide of bundle.slides) {
      const fileName = baseName(slide.fileName);
      const key = slideKey(fileName);
      keyOfIndex.push(key);
      if (targets.has(key)) {
        sharedNames.add(fileName);
        continue;
      }
      firstNameOf.set(key, slide.fileName);
      const existing = byKey.get(key);
      if (existing) {
        if (ambiguous.has(key)) warnings.push(`the project has several slides named "${fileName}"; cells go to the first (slide ${existing.id})`);
        targets.set(key, { kind: 'existing', record: existing });
      } else {
        targets.set(key, { kind: 'new', key, fileName, width: size(slide.widthPx), height: size(slide.heightPx) });
      }
    }
    if (sharedNames.size > 0) {
      warnings.push(`several images of the file share a name and go to one slide each name: ${[...sharedNames].join(', ')}`);
    }
    return { targets, firstNameOf, keyOfIndex };
  }
}

interface SlidePlan {
  targets: Map<string, SlideTarget>;
  firstNameOf: Map<string, string>;
  /** Bundle slide index → slide key. */
  keyOfIndex: string[];
}

/** Merged tags per slide key, only for slides whose tags change. */
function planTags(bundle: AnnotationBundle, slides: SlidePlan, warnings: string[]): Map<string, SlideTag[]> {
  const wanted = new Map<string, Map<string, string>>();
  const skipped = new Set<string>();
  bundle.slides.forEach((slide, index) => {
    const key = slides.keyOfIndex[index]!;
    for (const [rawKey, rawValue] of Object.entries(slide.tags)) {
      const tagKey = rawKey.trim();
      const value = String(rawValue).trim();
      if (tagKey.length === 0 || tagKey.length > MAX_TAG_KEY_LENGTH || value.length > MAX_TAG_VALUE_LENGTH) {
        skipped.add(rawKey);
        continue;
      }
      const tags = wanted.get(key) ?? new Map<string, string>();
      tags.set(tagKey, value);
      wanted.set(key, tags);
    }
  });
  if (skipped.size > 0) {
    warnings.push(`slide tags with an empty or over-long key or value were not set: ${[...skipped].map((key) => JSON.stringify(key)).join(', ')}`);
  }
  const writes = new Map<string, SlideTag[]>();
  for (const [key, tags] of wanted) {
    const target = slides.targets.get(key)!;
    const present = target.kind === 'existing' ? target.record.tags : [];
    const merged = new Map(present.map((tag) => [tag.key, tag.value]));
    let changed = false;
    for (const [tagKey, value] of tags) {
      if (merged.get(tagKey) !== value) changed = true;
      merged.set(tagKey, value);
    }
    if (changed) writes.set(key, [...merged].map(([tagKey, value]) => ({ key: tagKey, value })));
  }
  return writes;
}

function tagPreview(bundle: AnnotationBundle, slides: SlidePlan, writes: Map<string, SlideTag[]>): TagPreview[] {
  const byKey = new Map<string, { values: Map<string, number>; overwrites: number }>();
  for (const [slide, tags] of writes) {
    const target = slides.targets.get(slide)!;
    const present = new Map((target.kind === 'existing' ? target.record.tags : []).map((tag) => [tag.key, tag.value]));
    const fromBundle = new Set<string>();
    bundle.slides.forEach((entry, index) => {
      if (slides.keyOfIndex[index] === slide) for (const tagKey of Object.keys(entry.tags)) fromBundle.add(tagKey.trim());
    });
    for (const tag of tags) {
      if (!fromBundle.has(tag.key)) continue;
      const entry = byKey.get(tag.key) ?? { values: new Map<string, number>(), overwrites: 0 };
      byKey.set(tag.key, entry);
      entry.values.set(tag.value, (entry.values.get(tag.value) ?? 0) + 1);
      const before = present.get(tag.key);
      if (before !== undefined && before !== tag.value) entry.overwrites += 1;
    }
  }
  return [...byKey]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, entry]) => ({
      key,
      values: [...entry.values].sort(([a], [b]) => a.localeCompare(b)).map(([value, count]) => ({ value, slides: count })),
      overwrites: entry.overwrites,
    }));
}

function classKey(name: string): string {
  return name.trim().toLowerCase();
}

/** The file name without any folder part, '/' or '\' (SlideRunner files come from Windows too). */
function baseName(fileName: string): string {
  const parts = fileName.split(/[\\/]/);
  const last = parts.at(-1) ?? '';
  return last.length > 0 ? last : fileName;
}

function slideKey(fileName: string): string {
  return baseName(fileName).toLowerCase();
}

function size(value: number | undefined): number {
  return value !== undefined && Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/** The store's geometry; a zero-size circle or rectangle (which the store refuses) becomes a point at its centre. */
function geometryOf(shape: CellShape): Geometry {
  switch (shape.kind) {
    case 'point':
      return { shape: 'point', x: shape.x, y: shape.y };
    case 'circle':
      if (shape.radius === 0) return { shape: 'point', x: shape.x, y: shape.y };
      return { shape: 'circle', x: shape.x, y: shape.y, radius: shape.radius };
    case 'rectangle': {
      const width = Math.abs(shape.x2 - shape.x1);
      const height = Math.abs(shape.y2 - shape.y1);
      if (width === 0 || height === 0) return { shape: 'point', x: (shape.x1 + shape.x2) / 2, y: (shape.y1 + shape.y2) / 2 };
      return { shape: 'rectangle', x: Math.min(shape.x1, shape.x2), y: Math.min(shape.y1, shape.y2), width, height };
    }
    case 'polygon':
      return { shape: 'polygon', points: shape.points.map((point) => [point.x, point.y]) };
  }
}

/**
 * A guid for a cell that has none, the same each time the same file is imported: a UUID
 * (version 8, "custom") made from the format, the slide's base name (lower case), the cell's
 * source id and its shape. The n-th repeat of one key in a file adds n, so two such cells stay two.
 */
function derivedGuid(bundle: AnnotationBundle, slide: string, cell: BundleCell, uses: Map<string, number>): string {
  const key = `${bundle.sourceFormat}\n${slide}\n${cell.sourceId}\n${JSON.stringify(cell.shape)}`;
  const seen = uses.get(key) ?? 0;
  uses.set(key, seen + 1);
  const hex = crypto.hash('sha256', seen === 0 ? key : `${key}\n${seen}`, 'hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function colourFromName(name: string): string {
  return `#${crypto.createHash('sha256').update(name).digest('hex').slice(0, 6)}`;
}
