import type { Database } from 'better-sqlite3';
import { InvalidAnnotationInputError, UnknownReferenceError } from './errors';
import { boundsOf, geometryFromRow, type Geometry, type LevelZeroRect, type Shape } from './geometry';

/**
 * The mitotic count: how many mitotic figures lie in an area, and where a standard area holds the
 * most of them (the hotspot). Pure functions plus MitoticCounter, a small query over the project
 * database (annotations, labels, annotators of migration 003).
 */

/** The usual reference area: 2.37 mm², about ten high-power fields of a 0.55 mm field number. */
export const STANDARD_AREA_MM2 = 2.37;
/** width / height of the standard area. */
export const STANDARD_ASPECT = 4 / 3;
export const MITOTIC_FIGURE_CLASS_NAME = 'mitotic figure';

export interface CellPoint {
  x: number;
  y: number;
}

export interface AreaSizePx {
  width: number;
  height: number;
}

/** The standard rectangle's size in level-0 pixels: areaMm2 at width:height = aspect, through the slide's µm per pixel. */
export function standardAreaSizePx(areaMm2: number, mppX: number, mppY: number, aspect = STANDARD_ASPECT): AreaSizePx {
  const areaUm2 = areaMm2 * 1e6;
  return { width: Math.sqrt(areaUm2 * aspect) / mppX, height: Math.sqrt(areaUm2 / aspect) / mppY };
}

/** A rectangle of `size` centred on `centre`. */
export function rectCentredOn(centre: CellPoint, size: AreaSizePx): LevelZeroRect {
  return { x: centre.x - size.width / 2, y: centre.y - size.height / 2, width: size.width, height: size.height };
}

/** Area of a region in mm², or null for a point. */
export function areaMm2Of(geometry: Geometry, mppX: number, mppY: number): number | null {
  const squareUmPerPixel = mppX * mppY;
  switch (geometry.shape) {
    case 'point':
      return null;
    case 'rectangle':
      return (geometry.width * geometry.height * squareUmPerPixel) / 1e6;
    case 'circle':
      return (Math.PI * geometry.radius ** 2 * squareUmPerPixel) / 1e6;
    case 'polygon': {
      let twice = 0;
      geometry.points.forEach(([x0, y0], index) => {
        const [x1, y1] = geometry.points[(index + 1) % geometry.points.length]!;
        twice += x0 * y1 - x1 * y0;
      });
      return (Math.abs(twice / 2) * squareUmPerPixel) / 1e6;
    }
  }
}

/**
 * Whether a cell centre lies in a region. Rectangles and circles include their border; a
 * polygon uses the even-odd rule, and a centre exactly on a polygon's edge may fall either way.
 */
export function containsPoint(region: Geometry, x: number, y: number): boolean {
  switch (region.shape) {
    case 'point':
      return false;
    case 'rectangle':
      return x >= region.x && x <= region.x + region.width && y >= region.y && y <= region.y + region.height;
    case 'circle':
      return (x - region.x) ** 2 + (y - region.y) ** 2 <= region.radius ** 2;
    case 'polygon': {
      let inside = false;
      const points = region.points;
      for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
        const [xi, yi] = points[i]!;
        const [xj, yj] = points[j]!;
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
      return inside;
    }
  }
}

export function countInside(cells: readonly CellPoint[], region: Geometry): number {
  let count = 0;
  for (const cell of cells) if (containsPoint(region, cell.x, cell.y)) count += 1;
  return count;
}

export interface Hotspot {
  rect: LevelZeroRect;
  count: number;
}

/**
 * The placement of a `size` rectangle (border included) inside `container` that holds the most
 * cells. Exact: the answer is the maximum over every real-valued placement.
 *
 * Why the candidates suffice: take an optimal window and the cells S it holds. Moving its left
 * edge to min(leftmost x of S, right end of the container − width) keeps S inside (the edge only
 * moves right, and not past S's leftmost cell) and keeps the window in the container; the same
 * holds for the top edge. So some optimal window has its left edge at a cell's x (or the
 * container's last position) and its top edge at a cell's y (or the last position): for each
 * candidate left edge the cells of that vertical strip are swept by y with two pointers.
 * O(n · k log k) for n cells and k cells per strip. Ties go to the smallest left, then top, edge.
 * A container narrower (lower) than the window allows one position on that axis: centred.
 * Only cells inside the container are counted.
 */
export function findHotspot(cells: readonly CellPoint[], size: AreaSizePx, container: LevelZeroRect): Hotspot {
  const inContainer = cells.filter((cell) => containsPoint({ shape: 'rectangle', ...container }, cell.x, cell.y));
  const lastX = container.x + container.width - size.width;
  const lastY = container.y + container.height - size.height;
  const xFits = lastX >= container.x;
  const yFits = lastY >= container.y;
  const centredX = container.x + (container.width - size.width) / 2;
  const centredY = container.y + (container.height - size.height) / 2;
  const byX = [...inContainer].sort((a, b) => a.x - b.x);
  const lefts = xFits ? unique(byX.map((cell) => Math.min(cell.x, lastX))) : [centredX];
  let best: Hotspot = { rect: { x: xFits ? container.x : centredX, y: yFits ? container.y : centredY, ...size }, count: 0 };
  let from = 0;
  let to = 0;
  for (const left of lefts) {
    const right = left + size.width;
    while (from < byX.length && byX[from]!.x < left) from += 1;
    to = Math.max(to, from);
    while (to < byX.length && byX[to]!.x <= right) to += 1;
    const ys = byX.slice(from, to).map((cell) => cell.y).sort((a, b) => a - b);
    const tops = yFits ? ys.map((y) => Math.min(y, lastY)) : [centredY];
    let low = 0;
    let high = 0;
    for (const top of tops) {
      const bottom = top + size.height;
      while (low < ys.length && ys[low]! < top) low += 1;
      high = Math.max(high, low);
      while (high < ys.length && ys[high]! <= bottom) high += 1;
      const count = high - low;
      if (count > best.count) best = { rect: { x: left, y: top, ...size }, count };
    }
  }
  return best;
}

function unique(sorted: number[]): number[] {
  return sorted.filter((value, index) => index === 0 || value !== sorted[index - 1]);
}

/** Whose labels decide that a cell is a mitotic figure. */
export type CountSource = { kind: 'consensus' } | { kind: 'annotator'; annotatorId: number };

/**
 * The source a viewer may count with. Blind mode shows only one's own votes, so it counts only
 * those: asking a blind viewer for the consensus or another person's votes is refused.
 */
export function sourceFor(viewer: { viewerId: number; blind: boolean }, annotatorId: number | null | undefined): CountSource {
  if (viewer.blind) {
    if (annotatorId !== undefined && annotatorId !== null && annotatorId !== viewer.viewerId) {
      throw new InvalidAnnotationInputError('annotatorId', 'in blind mode only your own votes can be counted');
    }
    return { kind: 'annotator', annotatorId: viewer.viewerId };
  }
  return annotatorId === undefined || annotatorId === null ? { kind: 'consensus' } : { kind: 'annotator', annotatorId };
}

export interface SlideScale {
  id: number;
  name: string;
  width: number;
  height: number;
  mppX: number | null;
  mppY: number | null;
}

const CELLS_SQL = `
  SELECT a.centre_x AS x, a.centre_y AS y
  FROM annotation_bounds b JOIN annotations a ON a.id = b.id
  WHERE b.min_slide <= @slideId AND b.max_slide >= @slideId
    AND b.min_x <= @maxX AND b.max_x >= @minX AND b.min_y <= @maxY AND b.max_y >= @minY
    AND a.slide_id = @slideId AND a.deleted_at IS NULL AND a.shape = 'point'`;

/**
 * Reads cell centres and the slide facts a count needs. Consensus here is consensusOf's rule
 * (consensus.ts): people's votes only, all for the one class; a model's vote never decides.
 */
export class MitoticCounter {
  private readonly statements;

  constructor(db: Database) {
    this.statements = {
      consensusCells: db.prepare(`${CELLS_SQL}
        AND EXISTS (SELECT 1 FROM labels l JOIN annotators n ON n.id = l.annotator_id
                    WHERE l.annotation_id = a.id AND n.kind = 'person' AND l.class_id = @classId)
        AND NOT EXISTS (SELECT 1 FROM labels l JOIN annotators n ON n.id = l.annotator_id
                    WHERE l.annotation_id = a.id AND n.kind = 'person' AND l.class_id <> @classId)`),
      annotatorCells: db.prepare(`${CELLS_SQL}
        AND EXISTS (SELECT 1 FROM labels l WHERE l.annotation_id = a.id AND l.annotator_id = @annotatorId AND l.class_id = @classId)`),
      slide: db.prepare('SELECT id, file_name AS name, width, height, mpp_x AS mppX, mpp_y AS mppY FROM slides WHERE id = ? AND deleted_at IS NULL'),
      classById: db.prepare('SELECT id, name FROM classes WHERE id = ?'),
      classByName: db.prepare('SELECT id, name FROM classes WHERE name = ? AND deleted_at IS NULL'),
      annotator: db.prepare('SELECT 1 FROM annotators WHERE id = ?'),
      annotation: db.prepare('SELECT slide_id, shape, geometry_json FROM annotations WHERE id = ? AND deleted_at IS NULL'),
    };
  }

  /** Centres of the cells counted as `classId` by `source` whose centre lies in `window` (borders included). */
  cells(slideId: number, source: CountSource, classId: number, window: LevelZeroRect): CellPoint[] {
    if (source.kind === 'annotator' && !this.statements.annotator.get(source.annotatorId)) {
      throw new UnknownReferenceError('annotatorId', 'annotator', source.annotatorId);
    }
    const params = { slideId, classId, minX: window.x, minY: window.y, maxX: window.x + window.width, maxY: window.y + window.height };
    const rows = (
      source.kind === 'consensus'
        ? this.statements.consensusCells.all(params)
        : this.statements.annotatorCells.all({ ...params, annotatorId: source.annotatorId })
    ) as CellPoint[];
    // The R*Tree keeps 32-bit bounds rounded outwards: refine exactly.
    return rows.filter((cell) => containsPoint({ shape: 'rectangle', ...window }, cell.x, cell.y));
  }

  slide(slideId: number): SlideScale {
    const slide = this.statements.slide.get(slideId) as SlideScale | undefined;
    if (!slide) throw new UnknownReferenceError('slideId', 'slide', slideId);
    return slide;
  }

  /** The slide's µm per pixel; refuses a slide without it, since a standard area then has no size. */
  requireMpp(slide: SlideScale): { mppX: number; mppY: number } {
    const mppX = slide.mppX;
    const mppY = slide.mppY ?? slide.mppX;
    if (!mppX || !mppY) {
      throw new InvalidAnnotationInputError(
        'slideId',
        `${slide.name} records no µm per pixel, so an area in mm² has no size on it; count in a region annotation instead`,
      );
    }
    return { mppX, mppY };
  }

  /** The class to count: the one named, else the live class called "mitotic figure". */
  countedClass(classId: number | null | undefined): { id: number; name: string } {
    if (classId !== undefined && classId !== null) {
      const found = this.statements.classById.get(classId) as { id: number; name: string } | undefined;
      if (!found) throw new UnknownReferenceError('classId', 'class', classId);
      return found;
    }
    const byName = this.statements.classByName.get(MITOTIC_FIGURE_CLASS_NAME) as { id: number; name: string } | undefined;
    if (!byName) throw new InvalidAnnotationInputError('classId', `this project has no class named "${MITOTIC_FIGURE_CLASS_NAME}"; choose the class to count`);
    return byName;
  }

  /** A live rectangle, circle or polygon annotation of the slide, as a counting area or ROI. */
  region(annotationId: number, slideId: number, field: string): Geometry {
    const row = this.statements.annotation.get(annotationId) as { slide_id: number; shape: Shape; geometry_json: string } | undefined;
    if (!row) throw new UnknownReferenceError(field, 'annotation', annotationId);
    if (row.slide_id !== slideId) throw new InvalidAnnotationInputError(field, `annotation ${annotationId} lies on slide ${row.slide_id}, not on slide ${slideId}`);
    if (row.shape === 'point') throw new InvalidAnnotationInputError(field, `annotation ${annotationId} is a cell (a point), not a region`);
    return geometryFromRow(row.shape, row.geometry_json);
  }
}

export interface CountRequest {
  slideId: number;
  source: CountSource;
  classId?: number | null;
}

export interface CountResult {
  area: Geometry;
  /** Null when the slide has no µm per pixel (a region annotation can still be counted). */
  areaMm2: number | null;
  count: number;
  classId: number;
  className: string;
  source: CountSource;
}

/** The count in a standard rectangle centred on a point (needs the slide's µm per pixel). */
export function countInStandardArea(
  counter: MitoticCounter,
  request: CountRequest & { centre: CellPoint; areaMm2?: number; aspect?: number },
): CountResult {
  const slide = counter.slide(request.slideId);
  const countedClass = counter.countedClass(request.classId);
  const { mppX, mppY } = counter.requireMpp(slide);
  const areaMm2 = request.areaMm2 ?? STANDARD_AREA_MM2;
  const rect = rectCentredOn(request.centre, standardAreaSizePx(areaMm2, mppX, mppY, request.aspect));
  const cells = counter.cells(slide.id, request.source, countedClass.id, rect);
  return { area: { shape: 'rectangle', ...rect }, areaMm2, count: cells.length, classId: countedClass.id, className: countedClass.name, source: request.source };
}

/** The count inside a rectangle, circle or polygon annotation of the slide. */
export function countInRegionAnnotation(counter: MitoticCounter, request: CountRequest & { annotationId: number }): CountResult {
  const slide = counter.slide(request.slideId);
  const countedClass = counter.countedClass(request.classId);
  const region = counter.region(request.annotationId, slide.id, 'area.annotationId');
  const bounds = boundsOf(region);
  const window = { x: bounds.minX, y: bounds.minY, width: bounds.maxX - bounds.minX, height: bounds.maxY - bounds.minY };
  const count = countInside(counter.cells(slide.id, request.source, countedClass.id, window), region);
  const scale = slide.mppX ? { mppX: slide.mppX, mppY: slide.mppY ?? slide.mppX } : null;
  return {
    area: region,
    areaMm2: scale ? areaMm2Of(region, scale.mppX, scale.mppY) : null,
    count,
    classId: countedClass.id,
    className: countedClass.name,
    source: request.source,
  };
}

/**
 * The hotspot: the standard rectangle with the most cells, within the slide or within an ROI's
 * bounds (clipped to the slide), counting only cells inside the ROI (see findHotspot).
 */
export function hotspotOnSlide(
  counter: MitoticCounter,
  request: CountRequest & { areaMm2?: number; aspect?: number; roiAnnotationId?: number | null },
): CountResult & { cellsConsidered: number } {
  const slide = counter.slide(request.slideId);
  const countedClass = counter.countedClass(request.classId);
  const { mppX, mppY } = counter.requireMpp(slide);
  const areaMm2 = request.areaMm2 ?? STANDARD_AREA_MM2;
  const size = standardAreaSizePx(areaMm2, mppX, mppY, request.aspect);
  const roi = request.roiAnnotationId ? counter.region(request.roiAnnotationId, slide.id, 'roiAnnotationId') : null;
  const container = containerFor(slide, roi);
  let cells = counter.cells(slide.id, request.source, countedClass.id, container);
  if (roi) cells = cells.filter((cell) => containsPoint(roi, cell.x, cell.y));
  const best = findHotspot(cells, size, container);
  return {
    area: { shape: 'rectangle', ...best.rect },
    areaMm2,
    count: best.count,
    classId: countedClass.id,
    className: countedClass.name,
    source: request.source,
    cellsConsidered: cells.length,
  };
}

function containerFor(slide: SlideScale, roi: Geometry | null): LevelZeroRect {
  if (!roi) return { x: 0, y: 0, width: slide.width, height: slide.height };
  const bounds = boundsOf(roi);
  const minX = Math.max(0, bounds.minX);
  const minY = Math.max(0, bounds.minY);
  const maxX = Math.min(slide.width, bounds.maxX);
  const maxY = Math.min(slide.height, bounds.maxY);
  if (maxX <= minX || maxY <= minY) throw new InvalidAnnotationInputError('roiAnnotationId', 'the region lies outside the slide');
  return { x: minX, y: minY, width: maxX - minX, height: maxY - minY };
}
