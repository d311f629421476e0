import fs from 'node:fs';
import type { Database } from 'better-sqlite3';
import { openSqliteFile } from '../../project/openSqliteFile';
import type { AnnotationBundle, BundleAnnotator, BundleCell, BundleClass, BundleSlide, CellShape } from '../AnnotationBundle';
import { guessAnnotatorKind } from '../annotatorKind';
import { InteropError } from '../InteropError';
import { optionalTables, slideRunnerAnnotationType, slideRunnerTables } from './slideRunnerSchema';
import type { SlideRunnerTable } from './slideRunnerSchema';

const SQLITE_MAGIC = 'SQLite format 3\0';

/** Reads a SlideRunner database file, opened read-only (never changed, never locked for writing). */
export function readSlideRunnerFile(filePath: string): AnnotationBundle {
  let header: Buffer;
  try {
    header = Buffer.alloc(SQLITE_MAGIC.length);
    const descriptor = fs.openSync(filePath, 'r');
    try {
      header = header.subarray(0, fs.readSync(descriptor, header, 0, header.length, 0));
    } finally {
      fs.closeSync(descriptor);
    }
  } catch (error) {
    throw new InteropError(filePath, '', `cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  checkMagic(header, filePath);
  return withDatabase(filePath, () => openSqliteFile(filePath, { readonly: true }));
}

/** Reads a SlideRunner database given as bytes (opened as an in-memory copy). `file` names it in errors. */
export function parseSlideRunner(content: Uint8Array, file: string): AnnotationBundle {
  checkMagic(content, file);
  return withDatabase(file, () => openSqliteFile(Buffer.from(content), { readonly: true }));
}

function checkMagic(bytes: Uint8Array, file: string): void {
  if (Buffer.from(bytes.subarray(0, SQLITE_MAGIC.length)).toString('latin1') !== SQLITE_MAGIC) {
    throw new InteropError(file, '', 'is not an SQLite database, so not a SlideRunner file (it lacks the SQLite header)');
  }
}

function withDatabase(file: string, open: () => Database): AnnotationBundle {
  let db: Database | undefined;
  try {
    db = open();
    return new SlideRunnerReader(db, file).read();
  } catch (error) {
    if (error instanceof InteropError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new InteropError(file, '', `cannot be read as an SQLite database (${message})`);
  } finally {
    db?.close();
  }
}

type Row = Record<string, unknown>;

class SlideRunnerReader {
  /** Actual column names (SQLite names are case-insensitive; old files may differ in case). */
  readonly #columns = new Map<SlideRunnerTable, Map<string, string>>();
  readonly #warnings: string[] = [];
  readonly #classes: BundleClass[] = [];
  readonly #classByUid = new Map<number, string>();
  readonly #annotators: BundleAnnotator[] = [];
  readonly #annotatorByUid = new Map<number, string>();

  constructor(
    readonly db: Database,
    readonly file: string,
  ) {}

  read(): AnnotationBundle {
    this.#checkLayout();
    this.#readClasses();
    this.#readPersons();
    const { slides, slideByUid } = this.#readSlides();
    const cells = this.#readAnnotations(slideByUid);
    return {
      sourceFormat: 'sliderunner-sqlite',
      classes: this.#classes,
      annotators: this.#annotators,
      slides,
      cells,
      warnings: this.#warnings,
    };
  }

  #fail(place: string, problem: string): never {
    throw new InteropError(this.file, place, problem);
  }

  #checkLayout(): void {
    const tables = (
      this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").all() as Row[]
    ).map((row) => String(row.name));
    const known = new Map(Object.keys(slideRunnerTables).map((name) => [name.toLowerCase(), name as SlideRunnerTable]));
    for (const table of tables) {
      if (!known.has(table.toLowerCase())) {
        this.#fail(table, 'this table is not part of any SlideRunner schema Mitobench knows; reading on would drop its contents');
      }
    }
    const present = new Set(tables.map((name) => known.get(name.toLowerCase())!));
    for (const [table, layout] of Object.entries(slideRunnerTables) as Array<[SlideRunnerTable, (typeof slideRunnerTables)[SlideRunnerTable]]>) {
      if (!present.has(table)) {
        if (optionalTables.includes(table)) continue;
        this.#fail(table, `this SlideRunner table is missing (the file has: ${tables.join(', ') || 'no tables'}); is it a SlideRunner database?`);
      }
      const columns = new Map(
        (this.db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as Row[]).map((row) => [
          String(row.name).toLowerCase(),
          String(row.name),
        ]),
      );
      const allowed = new Set<string>([...layout.required, ...layout.optional].map((name) => name.toLowerCase()));
      for (const column of columns.values()) {
        if (!allowed.has(column.toLowerCase())) {
          this.#fail(
            `${table}.${column}`,
            'this column is not part of any SlideRunner schema Mitobench knows; reading on would drop its contents',
          );
        }
      }
      for (const column of layout.required) {
        if (!columns.has(column.toLowerCase())) this.#fail(`${table}.${column}`, 'this SlideRunner column is missing');
      }
      this.#columns.set(table, columns);
    }
  }

  /** `column` as a select expression, or NULL AS column where this file's schema predates it. */
  #select(table: SlideRunnerTable, ...columns: string[]): string {
    const actual = this.#columns.get(table)!;
    return columns
      .map((column) => {
        const name = actual.get(column.toLowerCase());
        return name === undefined ? `NULL AS "${column}"` : `"${name}" AS "${column}"`;
      })
      .join(', ');
  }

  #rows(table: SlideRunnerTable, columns: string[], orderBy: string): Row[] {
    return this.db.prepare(`SELECT ${this.#select(table, ...columns)} FROM "${table}" ORDER BY ${orderBy}`).all() as Row[];
  }

  #readClasses(): void {
    const names = new Set<string>();
    for (const row of this.#rows('Classes', ['uid', 'name', 'color'], 'uid')) {
      const uid = Number(row.uid);
      this.#addClass(uid, uniqueName(textOrNull(row.name) ?? `class ${uid}`, `class ${uid}`, names));
      const colour = textOrNull(row.color);
      if (colour && /^#[0-9a-f]{6}$/i.test(colour)) this.#classes.at(-1)!.colour = colour.toLowerCase();
    }
  }

  #addClass(uid: number, name: string): string {
    this.#classes.push({ name, sourceId: uid });
    this.#classByUid.set(uid, name);
    return name;
  }

  #readPersons(): void {
    const names = new Set<string>();
    for (const row of this.#rows('Persons', ['uid', 'name'], 'uid')) {
      const uid = Number(row.uid);
      this.#addAnnotator(uid, uniqueName(textOrNull(row.name) ?? `person ${uid}`, `person ${uid}`, names));
    }
  }

  #addAnnotator(uid: number, name: string): string {
    this.#annotators.push({ name, kind: guessAnnotatorKind(name), sourceId: uid });
    this.#annotatorByUid.set(uid, name);
    return name;
  }

  #readSlides(): { slides: BundleSlide[]; slideByUid: Map<number, number> } {
    const slides: BundleSlide[] = [];
    const slideByUid = new Map<number, number>();
    for (const row of this.#rows('Slides', ['uid', 'filename', 'width', 'height', 'directory'], 'uid')) {
      const uid = Number(row.uid);
      const fileName = textOrNull(row.filename);
      if (!fileName) this.#fail(`Slides.filename (uid ${uid})`, 'the slide has no file name');
      const slide: BundleSlide = { fileName, tags: {}, sourceId: uid };
      const width = positiveNumberOrNull(row.width);
      const height = positiveNumberOrNull(row.height);
      const directory = textOrNull(row.directory);
      if (width !== null) slide.widthPx = width;
      if (height !== null) slide.heightPx = height;
      if (directory) slide.directory = directory;
      slideByUid.set(uid, slides.length);
      slides.push(slide);
    }
    return { slides, slideByUid };
  }

  #readAnnotations(slideByUid: Map<number, number>): BundleCell[] {
    const coordinates = groupByAnnotation(
      this.#rows('Annotations_coordinates', ['annoId', 'coordinateX', 'coordinateY', 'coordinateZ'], 'annoId, orderIdx, uid'),
    );
    const labels = groupByAnnotation(this.#rows('Annotations_label', ['annoId', 'uid', 'person', 'class'], 'annoId, uid'));
    const annotations = this.#rows('Annotations', ['uid', 'slide', 'type', 'agreedClass', 'guid', 'deleted', 'description'], 'uid');

    const cells: BundleCell[] = [];
    let imageLabels = 0;
    for (const row of annotations) {
      const uid = Number(row.uid);
      const type = Number(row.type);
      if (type === slideRunnerAnnotationType.imageLabel) {
        imageLabels += 1;
        continue;
      }
      const slideIndex = slideByUid.get(Number(row.slide));
      if (slideIndex === undefined) this.#fail(`Annotations.slide (uid ${uid})`, `slide ${String(row.slide)} is not in the Slides table`);
      const points = coordinates.get(uid) ?? [];
      const cell: BundleCell = { slideIndex, shape: this.#shape(uid, type, points), votes: [], sourceId: uid };
      for (const label of labels.get(uid) ?? []) {
        cell.votes.push({ annotator: this.#annotatorName(Number(label.person)), className: this.#className(label.class) });
      }
      const agreedClass = this.#className(row.agreedClass);
      if (agreedClass !== null) cell.agreedClass = agreedClass;
      const guid = textOrNull(row.guid);
      if (guid) cell.guid = guid;
      const description = textOrNull(row.description);
      if (description) cell.description = description;
      if (Number(row.deleted) === 1) cell.deleted = true;
      const zLevel = Number(points[0]?.coordinateZ ?? 0);
      if (zLevel !== 0) cell.zLevel = zLevel;
      cells.push(cell);
    }

    const annotationUids = new Set(annotations.map((row) => Number(row.uid)));
    const orphanLabels = [...labels].filter(([annoId]) => !annotationUids.has(annoId)).reduce((sum, [, rows]) => sum + rows.length, 0);
    if (imageLabels > 0) {
      this.#warnings.push(`${imageLabels} whole-image label(s) (Annotations.type 6) were skipped: Mitobench labels cells and regions`);
    }
    if (orphanLabels > 0) {
      this.#warnings.push(`${orphanLabels} row(s) of Annotations_label refer to no annotation and were skipped (SlideRunner ignores them too)`);
    }
    return cells;
  }

  #shape(uid: number, type: number, rows: Row[]): CellShape {
    const place = `Annotations_coordinates (annoId ${uid})`;
    const points = rows.map((row) => {
      const x = row.coordinateX;
      const y = row.coordinateY;
      if (typeof x !== 'number' || typeof y !== 'number') {
        this.#fail(place, `coordinates must be numbers, found (${String(x)}, ${String(y)})`);
      }
      return { x, y };
    });
    const need = (count: number, what: string): void => {
      if (points.length < count) this.#fail(place, `a ${what} needs ${count} coordinate row(s), found ${points.length}`);
    };
    switch (type) {
      case slideRunnerAnnotationType.spot:
      case slideRunnerAnnotationType.specialSpot:
        need(1, 'spot');
        return { kind: 'point', x: points[0]!.x, y: points[0]!.y };
      case slideRunnerAnnotationType.rectangle:
        need(2, 'rectangle');
        return { kind: 'rectangle', x1: points[0]!.x, y1: points[0]!.y, x2: points[1]!.x, y2: points[1]!.y };
      case slideRunnerAnnotationType.circle: {
        need(2, 'circle');
        const [a, b] = [points[0]!, points[1]!];
        return { kind: 'circle', x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, radius: Math.abs(b.x - a.x) / 2 };
      }
      case slideRunnerAnnotationType.polygon: {
        // Since schema version 1 SlideRunner closes polygons by repeating the first point.
        const first = points[0];
        const last = points.at(-1);
        const open = points.length > 1 && first && last && first.x === last.x && first.y === last.y ? points.slice(0, -1) : points;
        if (open.length < 3) this.#fail(place, `a polygon needs at least 3 points, found ${open.length}`);
        return { kind: 'polygon', points: open };
      }
      default:
        this.#fail(
          `Annotations.type (uid ${uid})`,
          `annotation type ${type} is unknown (SlideRunner uses 1 spot, 2 rectangle, 3 polygon, 4 special spot, 5 circle, 6 image label)`,
        );
    }
  }

  /** Class 0 (and NULL) is SlideRunner's "no class"; a class missing from Classes keeps its number. */
  #className(value: unknown): string | null {
    if (value === null || value === undefined || Number(value) === 0) return null;
    const uid = Number(value);
    const known = this.#classByUid.get(uid);
    if (known !== undefined) return known;
    this.#warnings.push(`class ${uid} is used but not in the Classes table; it was read as "unknown class ${uid}"`);
    return this.#addClass(uid, `unknown class ${uid}`);
  }

  #annotatorName(uid: number): string {
    const known = this.#annotatorByUid.get(uid);
    if (known !== undefined) return known;
    this.#warnings.push(`person ${uid} labelled cells but is not in the Persons table; read as "unknown person ${uid}"`);
    return this.#addAnnotator(uid, `unknown person ${uid}`);
  }
}

function groupByAnnotation(rows: Row[]): Map<number, Row[]> {
  const groups = new Map<number, Row[]>();
  for (const row of rows) {
    const annoId = Number(row.annoId);
    let group = groups.get(annoId);
    if (!group) groups.set(annoId, (group = []));
    group.push(row);
  }
  return groups;
}

function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function positiveNumberOrNull(value: unknown): number | null {
  return typeof value === 'number' && value > 0 ? value : null;
}

/** Two rows of one name stay two entries, told apart by their uid. */
function uniqueName(name: string, fallbackSuffix: string, taken: Set<string>): string {
  const unique = taken.has(name) ? `${name} (${fallbackSuffix})` : name;
  taken.add(unique);
  return unique;
}
