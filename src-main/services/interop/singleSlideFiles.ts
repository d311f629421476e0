import crypto from 'node:crypto';
import path from 'node:path';
import type { AnnotationBundle, BundleCell, CellShape, LevelZeroPoint } from './AnnotationBundle';
import { InteropError } from './InteropError';

/**
 * What QuPath GeoJSON and ASAP XML share: a file holds the objects of ONE image and does not
 * name it, and it has no per-annotator votes. Mitobench therefore decides:
 *
 * **Which slide.** In this order:
 * 1. the slide the caller chose (the Import panel's slide list; `slideFileName` when parsing);
 * 2. the slide a Mitobench export names inside the file (GeoJSON `mitobench.slide`, ASAP
 *    `<Mitobench Slide="…">`; QuPath and ASAP ignore both);
 * 3. the file's own name without the format's extension: `CMU-1.svs.geojson` → `CMU-1.svs`,
 *    `CMU-1.xml` → `CMU-1`. A name without an extension matches the one project slide whose
 *    name without extension is the same (`resolveSlideOfFile`).
 *
 * **Votes.** A plain file's class (QuPath classification, ASAP PartOfGroup) is the cell's stated
 * class, which the importer stores as the importing annotator's vote. A Mitobench export writes
 * the class the tools show (`shownClassOf`) AND every vote in its own property, which the tools
 * ignore and which a re-import reads back, so Mitobench → file → Mitobench loses nothing.
 */
export type SlideSource = 'caller' | 'file' | 'file name';

export interface SingleSlideParseOptions {
  /** The slide the objects belong to, chosen by the user; overrides what the file says. */
  slideFileName?: string;
}

export interface SingleSlideParse {
  bundle: AnnotationBundle;
  slideFrom: SlideSource;
}

/** The file's name without one of the format's extensions (longest first), e.g. 'CMU-1.svs'. */
export function slideNameFromFile(file: string, extensions: readonly string[]): string {
  const base = path.basename(file.replace(/\\/g, '/'));
  const lower = base.toLowerCase();
  const extension = [...extensions].sort((a, b) => b.length - a.length).find((candidate) => lower.endsWith(candidate));
  const stem = extension ? base.slice(0, base.length - extension.length) : base;
  return stem.length > 0 ? stem : base;
}

/** The one slide a single-image format writes: every written cell must lie on it. */
export function singleSlideIndex(bundle: AnnotationBundle, file: string, formatName: string): number | null {
  const used = new Set(bundle.cells.filter((cell) => !cell.deleted).map((cell) => cell.slideIndex));
  if (used.size > 1) {
    throw new InteropError(
      file,
      'slides',
      `${formatName} holds the objects of one image, but these cells lie on ${used.size} slides; write one file per slide`,
    );
  }
  if (used.size === 1) return [...used][0]!;
  return bundle.slides.length === 1 ? 0 : null;
}

/**
 * The class QuPath and ASAP show for a cell: the stated agreed class, else the class every
 * vote gives, else a strict majority of the votes; none when the votes tie.
 */
export function shownClassOf(cell: BundleCell): string | undefined {
  if (cell.agreedClass !== undefined) return cell.agreedClass;
  const counts = new Map<string, number>();
  for (const vote of cell.votes) if (vote.className !== null) counts.set(vote.className, (counts.get(vote.className) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  const [first, second] = ranked;
  return first && (!second || second[1] < first[1]) ? first[0] : undefined;
}

/** A UUID (version 8, "custom") that is the same for the same key, for objects a file gives no id. */
export function stableUuid(key: string): string {
  const hex = crypto.hash('sha256', key, 'hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Vertices standing in for a circle in formats without circles (the exact circle travels beside it). */
export const CIRCLE_VERTICES = 64;

export function circleOutline(shape: Extract<CellShape, { kind: 'circle' }>): LevelZeroPoint[] {
  return Array.from({ length: CIRCLE_VERTICES }, (_, index) => {
    const angle = (2 * Math.PI * index) / CIRCLE_VERTICES;
    return { x: shape.x + shape.radius * Math.cos(angle), y: shape.y + shape.radius * Math.sin(angle) };
  });
}

export function rectangleCorners(shape: Extract<CellShape, { kind: 'rectangle' }>): LevelZeroPoint[] {
  const left = Math.min(shape.x1, shape.x2);
  const right = Math.max(shape.x1, shape.x2);
  const top = Math.min(shape.y1, shape.y2);
  const bottom = Math.max(shape.y1, shape.y2);
  return [
    { x: left, y: top },
    { x: right, y: top },
    { x: right, y: bottom },
    { x: left, y: bottom },
  ];
}

/** Four corners of an axis-aligned rectangle (any start, either direction) as a rectangle; else null. */
export function rectangleFromCorners(points: readonly LevelZeroPoint[]): CellShape | null {
  if (points.length !== 4) return null;
  const xs = new Set(points.map((point) => point.x));
  const ys = new Set(points.map((point) => point.y));
  if (xs.size !== 2 || ys.size !== 2) return null;
  for (let index = 0; index < 4; index += 1) {
    const a = points[index]!;
    const b = points[(index + 1) % 4]!;
    if (a.x !== b.x && a.y !== b.y) return null; // a diagonal edge: not a rectangle outline
  }
  const [x1, x2] = [...xs].sort((a, b) => a - b) as [number, number];
  const [y1, y2] = [...ys].sort((a, b) => a - b) as [number, number];
  return { kind: 'rectangle', x1, y1, x2, y2 };
}

export interface ProjectSlideName {
  id: number;
  fileName: string;
}

export interface SlideChoice {
  from: SlideSource;
  /** The name the file's objects go to (a project slide's name when one matched). */
  fileName: string;
  /** The matched project slide; null when the import will add a "missing file" slide of that name. */
  slideId: number | null;
}

/**
 * Binds a single-image file's bundle to a project slide: the chosen one (`chosenSlideId`), else
 * the one whose name equals the bundle's slide name (ignoring case and folders), else the one
 * project slide whose name without extension equals it (`CMU-1` → `CMU-1.svs`). Returns the
 * bundle with its slide renamed to the project slide's name, so the importer matches it.
 */
export function resolveSlideOfFile(
  parsed: SingleSlideParse,
  projectSlides: readonly ProjectSlideName[],
  chosenSlideId?: number,
): { bundle: AnnotationBundle; choice: SlideChoice | null } {
  const { bundle } = parsed;
  const slide = bundle.slides[0];
  if (bundle.slides.length !== 1 || !slide) return { bundle, choice: null };
  const rename = (target: ProjectSlideName, from: SlideSource) => ({
    bundle: { ...bundle, slides: [{ ...slide, fileName: target.fileName }] },
    choice: { from, fileName: target.fileName, slideId: target.id },
  });
  if (chosenSlideId !== undefined) {
    const chosen = projectSlides.find((candidate) => candidate.id === chosenSlideId);
    if (!chosen) throw new InteropError(`slide ${chosenSlideId}`, '', 'is not a slide of this project');
    return rename(chosen, 'caller');
  }
  const wanted = baseName(slide.fileName).toLowerCase();
  const exact = projectSlides.find((candidate) => baseName(candidate.fileName).toLowerCase() === wanted);
  if (exact) return rename(exact, parsed.slideFrom);
  const byStem = projectSlides.filter((candidate) => stemOf(baseName(candidate.fileName)).toLowerCase() === wanted);
  if (byStem.length === 1) return rename(byStem[0]!, parsed.slideFrom);
  if (byStem.length > 1) {
    bundle.warnings.push(`several project slides are named "${slide.fileName}" without extension; choose the slide`);
  }
  return { bundle, choice: { from: parsed.slideFrom, fileName: slide.fileName, slideId: null } };
}

function baseName(fileName: string): string {
  return fileName.split(/[\\/]/).at(-1) || fileName;
}

function stemOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}
