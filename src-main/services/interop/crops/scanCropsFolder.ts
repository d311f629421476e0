import fs from 'node:fs';
import path from 'node:path';
import { guessAnnotatorKind } from '../annotatorKind';
import { detectDelimiter, parseCsvRecords } from '../csv/csvText';
import { InteropError } from '../InteropError';
import { openSlideFile } from '../../slides/openSlideFile';
import { textOf } from '../textContent';

/**
 * A folder of labelled crops, as public patch datasets arrive, in one of two layouts:
 * - **class folders**: one sub-folder per class (its name is the class), images inside (any depth);
 * - **CSV**: images plus one CSV file in the folder with a header `file, label[, annotator]`
 *   (`file` relative to the folder, or absolute); when the folder has a CSV, it wins.
 * Images are PNG, JPEG or TIFF. Every image is decoded here, so an unreadable one is named
 * before anything is written.
 */
export const CROP_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff']);

export type CropsLayout = 'class-folders' | 'csv';

export interface Crop {
  /** Real absolute path (the slide catalog's identity for the file). */
  path: string;
  /** As the user sees it: relative to the crops folder. */
  relativePath: string;
  className: string;
  /** From the CSV's annotator column; null: the importing annotator. */
  annotator: string | null;
  widthPx: number;
  heightPx: number;
}

export interface UnreadableCrop {
  relativePath: string;
  reason: string;
}

export interface CropsScan {
  folder: string;
  layout: CropsLayout;
  /** The CSV read (relative to the folder) in the CSV layout. */
  csvFile: string | null;
  crops: Crop[];
  unreadable: UnreadableCrop[];
  /** Classes in order of first appearance, with their number of crops. */
  classes: Array<{ name: string; crops: number }>;
  /** Annotators the CSV names, with their kind guessed from the name. */
  annotators: Array<{ name: string; kind: 'person' | 'model'; crops: number }>;
  warnings: string[];
}

export interface ScanProgress {
  signal?: AbortSignal;
  progress?: (done: number, total: number, file: string) => void;
}

interface Candidate {
  path: string;
  relativePath: string;
  className: string;
  annotator: string | null;
}

export async function scanCropsFolder(folder: string, options: ScanProgress = {}): Promise<CropsScan> {
  const root = path.resolve(folder);
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(root, { withFileTypes: true });
  } catch (error) {
    throw new InteropError(root, '', `is not a readable folder (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const warnings: string[] = [];
  const csvFiles = entries.filter((entry) => entry.isFile() && entry.name.toLowerCase().endsWith('.csv')).map((entry) => entry.name).sort();
  let layout: CropsLayout;
  let csvFile: string | null = null;
  let candidates: Candidate[];
  if (csvFiles.length > 0) {
    layout = 'csv';
    csvFile = csvFiles[0]!;
    if (csvFiles.length > 1) warnings.push(`the folder has ${csvFiles.length} CSV files; labels are read from ${csvFile} only`);
    candidates = await candidatesFromCsv(root, csvFile);
  } else {
    layout = 'class-folders';
    candidates = await candidatesFromFolders(root, entries, warnings);
  }
  if (candidates.length === 0) {
    throw new InteropError(
      root,
      '',
      layout === 'csv'
        ? `${csvFile} lists no images`
        : 'holds no crops: expected one sub-folder per class with PNG, JPEG or TIFF images, or images with a CSV "file, label[, annotator]"',
    );
  }

  const crops: Crop[] = [];
  const unreadable: UnreadableCrop[] = [];
  const decoded = new Map<string, ReturnType<typeof decode>>();
  for (const [index, candidate] of candidates.entries()) {
    if (options.signal?.aborted) break;
    options.progress?.(index, candidates.length, candidate.relativePath);
    let decoding = decoded.get(candidate.path);
    if (!decoding) decoded.set(candidate.path, (decoding = decode(candidate.path)));
    const checked = await decoding;
    if (!('reason' in checked)) crops.push({ ...candidate, path: checked.realPath, widthPx: checked.width, heightPx: checked.height });
    else if (!unreadable.some((entry) => entry.relativePath === candidate.relativePath)) {
      unreadable.push({ relativePath: candidate.relativePath, reason: checked.reason });
    }
  }

  const classes = new Map<string, number>();
  const annotators = new Map<string, number>();
  for (const crop of candidates) {
    classes.set(crop.className, (classes.get(crop.className) ?? 0) + 1);
    if (crop.annotator !== null) annotators.set(crop.annotator, (annotators.get(crop.annotator) ?? 0) + 1);
  }
  return {
    folder: root,
    layout,
    csvFile,
    crops,
    unreadable,
    classes: [...classes].map(([name, count]) => ({ name, crops: count })),
    annotators: [...annotators].map(([name, count]) => ({ name, kind: guessAnnotatorKind(name), crops: count })),
    warnings,
  };
}

/** Decodes the whole image (a truncated file fails here, not in the viewer). */
async function decode(file: string): Promise<{ realPath: string; width: number; height: number } | { reason: string }> {
  try {
    const realPath = await fs.promises.realpath(file);
    // The slide service's own reader: what it cannot decode here, the viewer could not show.
    const reader = await openSlideFile(realPath);
    try {
      const { width, height } = reader.levels[0]!;
      await reader.readRegion(0, 0, 0, width, height);
      return { realPath, width, height };
    } finally {
      await reader.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { reason: 'file not found' };
    const message = error instanceof Error ? error.message.split('\n')[0]!.replace(`${file}: `, '') : String(error);
    return { reason: `not a readable PNG, JPEG or TIFF image (${message})` };
  }
}

async function candidatesFromFolders(root: string, entries: fs.Dirent[], warnings: string[]): Promise<Candidate[]> {
  const candidates: Candidate[] = [];
  const looseImages = entries.filter((entry) => entry.isFile() && isCropFile(entry.name)).length;
  if (looseImages > 0) warnings.push(`${looseImages} image(s) directly in the folder have no class folder and were skipped`);
  let otherFiles = 0;
  const folders = entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name).sort();
  for (const className of folders) {
    const walk = async (folder: string): Promise<void> => {
      const children = await fs.promises.readdir(folder, { withFileTypes: true });
      for (const child of children.sort((a, b) => a.name.localeCompare(b.name))) {
        if (child.name.startsWith('.')) continue;
        const full = path.join(folder, child.name);
        if (child.isDirectory()) await walk(full);
        else if (isCropFile(child.name)) candidates.push({ path: full, relativePath: path.relative(root, full), className, annotator: null });
        else otherFiles += 1;
      }
    };
    await walk(path.join(root, className));
  }
  if (otherFiles > 0) warnings.push(`${otherFiles} file(s) that are not PNG, JPEG or TIFF images were skipped`);
  return candidates;
}

async function candidatesFromCsv(root: string, csvFile: string): Promise<Candidate[]> {
  const csvPath = path.join(root, csvFile);
  const text = textOf(await fs.promises.readFile(csvPath), csvPath);
  const records = parseCsvRecords(text, detectDelimiter(text), csvPath).filter((record) => !(record.fields.length === 1 && record.fields[0] === ''));
  const [header, ...rows] = records;
  if (!header) throw new InteropError(csvPath, 'line 1', 'is empty; expected a header line "file, label[, annotator]"');
  const columns = header.fields.map((field) => field.trim().toLowerCase());
  const fileAt = columns.indexOf('file');
  const labelAt = columns.indexOf('label');
  const annotatorAt = columns.indexOf('annotator');
  if (fileAt === -1 || labelAt === -1) {
    throw new InteropError(csvPath, `line ${header.line}`, `the header must name file and label (and optionally annotator); found: ${header.fields.join(', ')}`);
  }
  return rows.map((row) => {
    if (row.fields.length !== header.fields.length) {
      throw new InteropError(csvPath, `line ${row.line}`, `has ${row.fields.length} fields, the header has ${header.fields.length}`);
    }
    const file = row.fields[fileAt]!;
    const label = row.fields[labelAt]!.trim();
    if (file === '') throw new InteropError(csvPath, `line ${row.line}, column file`, 'the file is empty');
    if (label === '') throw new InteropError(csvPath, `line ${row.line}, column label`, `the label of ${file} is empty`);
    const annotator = annotatorAt === -1 ? '' : row.fields[annotatorAt]!.trim();
    const full = path.resolve(root, file);
    return { path: full, relativePath: path.relative(root, full), className: label, annotator: annotator === '' ? null : annotator };
  });
}

function isCropFile(name: string): boolean {
  return CROP_EXTENSIONS.has(path.extname(name).toLowerCase());
}
