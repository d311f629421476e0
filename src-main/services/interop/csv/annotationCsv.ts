import type { AnnotationBundle, BundleAnnotator, BundleCell, BundleSlide } from '../AnnotationBundle';
import { guessAnnotatorKind } from '../annotatorKind';
import { checkBundle } from '../checkBundle';
import { InteropError } from '../InteropError';
import { textOf } from '../textContent';
import { csvLine, detectDelimiter, parseCsvRecords } from './csvText';
import type { CsvRecord } from './csvText';

/**
 * Cell lists as spreadsheets and scripts write them: a header line, then `x, y, label, slide`
 * and optionally `annotator`, one row per label. Rows at the same point of the same slide are
 * one cell. A row with an annotator is that annotator's vote (an empty label: marked without a
 * class); a row without one states the cell's class as the file gives it (the agreed class).
 */
const requiredColumns = ['x', 'y', 'label', 'slide'] as const;
const optionalColumns = ['annotator'] as const;
type Column = (typeof requiredColumns)[number] | (typeof optionalColumns)[number];

export function parseAnnotationCsv(content: string | Uint8Array, file: string): AnnotationBundle {
  const text = textOf(content, file);
  const records = parseCsvRecords(text, detectDelimiter(text), file).filter(
    (record) => !(record.fields.length === 1 && record.fields[0] === ''),
  );
  const [header, ...rows] = records;
  if (!header) throw new InteropError(file, 'line 1', `is empty; expected a header line "${requiredColumns.join(', ')}[, annotator]"`);
  const columnAt = readHeader(header, file);

  const builder = new CsvBundleBuilder(file);
  for (const row of rows) {
    if (row.fields.length !== header.fields.length) {
      throw new InteropError(file, `line ${row.line}`, `has ${row.fields.length} fields, the header has ${header.fields.length}`);
    }
    const value = (column: Column): string => {
      const at = columnAt.get(column);
      return at === undefined ? '' : row.fields[at]!;
    };
    builder.addRow(row.line, {
      x: coordinate(value('x'), `line ${row.line}, column x`, file),
      y: coordinate(value('y'), `line ${row.line}, column y`, file),
      label: value('label'),
      slide: value('slide'),
      annotator: value('annotator'),
    });
  }
  return builder.bundle();
}

function readHeader(header: CsvRecord, file: string): Map<Column, number> {
  const known: readonly string[] = [...requiredColumns, ...optionalColumns];
  const columnAt = new Map<Column, number>();
  header.fields.forEach((name, index) => {
    const column = name.trim().toLowerCase();
    if (!known.includes(column)) {
      throw new InteropError(
        file,
        `line ${header.line}`,
        `unknown column "${name}"; the header must name x, y, label, slide and optionally annotator`,
      );
    }
    if (columnAt.has(column as Column)) throw new InteropError(file, `line ${header.line}`, `column "${name}" appears twice`);
    columnAt.set(column as Column, index);
  });
  const missing = requiredColumns.filter((column) => !columnAt.has(column));
  if (missing.length > 0) {
    throw new InteropError(file, `line ${header.line}`, `the header lacks ${missing.join(', ')} (found: ${header.fields.join(', ')})`);
  }
  return columnAt;
}

function coordinate(text: string, place: string, file: string): number {
  const value = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) throw new InteropError(file, place, `"${text}" is not a number`);
  return value;
}

interface CsvRow {
  x: number;
  y: number;
  label: string;
  slide: string;
  annotator: string;
}

class CsvBundleBuilder {
  readonly #classes = new Set<string>();
  readonly #annotators = new Map<string, BundleAnnotator>();
  readonly #slideIndex = new Map<string, number>();
  readonly #slides: BundleSlide[] = [];
  readonly #cells = new Map<string, BundleCell>();

  constructor(readonly file: string) {}

  addRow(line: number, row: CsvRow): void {
    if (row.slide === '') throw new InteropError(this.file, `line ${line}, column slide`, 'the slide is empty');
    const cell = this.#cellAt(row);
    if (row.label !== '') this.#classes.add(row.label);
    if (row.annotator !== '') {
      if (!this.#annotators.has(row.annotator)) {
        this.#annotators.set(row.annotator, { name: row.annotator, kind: guessAnnotatorKind(row.annotator) });
      }
      cell.votes.push({ annotator: row.annotator, className: row.label === '' ? null : row.label });
    } else if (row.label !== '') {
      if (cell.agreedClass !== undefined && cell.agreedClass !== row.label) {
        throw new InteropError(
          this.file,
          `line ${line}`,
          `the cell at (${row.x}, ${row.y}) on "${row.slide}" already has the class "${cell.agreedClass}" from an earlier row without annotator`,
        );
      }
      cell.agreedClass = row.label;
    }
  }

  #cellAt(row: CsvRow): BundleCell {
    let slideIndex = this.#slideIndex.get(row.slide);
    if (slideIndex === undefined) {
      slideIndex = this.#slides.length;
      this.#slides.push({ fileName: row.slide, tags: {} });
      this.#slideIndex.set(row.slide, slideIndex);
    }
    const key = `${slideIndex}|${row.x}|${row.y}`;
    let cell = this.#cells.get(key);
    if (!cell) {
      cell = { slideIndex, shape: { kind: 'point', x: row.x, y: row.y }, votes: [] };
      this.#cells.set(key, cell);
    }
    return cell;
  }

  bundle(): AnnotationBundle {
    return {
      sourceFormat: 'csv',
      classes: [...this.#classes].map((name) => ({ name })),
      annotators: [...this.#annotators.values()],
      slides: this.#slides,
      cells: [...this.#cells.values()],
      warnings: [],
    };
  }
}

/**
 * Writes the bundle's cells as CSV: a row without annotator for a cell's agreed class (or for a
 * cell with no class and no votes), then one row per vote. Only points can be written; deleted
 * cells are left out. `file` names the target in errors.
 */
export function serializeAnnotationCsv(bundle: AnnotationBundle, file: string): string {
  checkBundle(bundle, file);
  const cells = bundle.cells.map((cell, index) => ({ cell, index })).filter(({ cell }) => !cell.deleted);
  const withAnnotator = cells.some(({ cell }) => cell.votes.length > 0);
  const lines = [csvLine(withAnnotator ? [...requiredColumns, 'annotator'] : [...requiredColumns])];
  const seen = new Map<string, number>();

  for (const { cell, index } of cells) {
    const { shape } = cell;
    if (shape.kind !== 'point') {
      throw new InteropError(file, `cells[${index}].shape`, `CSV holds cell centres; a ${shape.kind} cannot be written (export only points)`);
    }
    const slide = bundle.slides[cell.slideIndex]!.fileName;
    const key = `${slide}|${shape.x}|${shape.y}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new InteropError(
        file,
        `cells[${index}]`,
        `sits at the same point of "${slide}" as cells[${earlier}]; CSV rows at one point are one cell, so the two would merge`,
      );
    }
    seen.set(key, index);
    const row = (label: string, annotator: string): string =>
      csvLine(withAnnotator ? [String(shape.x), String(shape.y), label, slide, annotator] : [String(shape.x), String(shape.y), label, slide]);
    if (cell.agreedClass !== undefined || cell.votes.length === 0) lines.push(row(cell.agreedClass ?? '', ''));
    for (const vote of cell.votes) lines.push(row(vote.className ?? '', vote.annotator));
  }
  return lines.join('\r\n') + '\r\n';
}
