import { boundsOf, type Geometry, type LevelZeroRect } from '../annotations/geometry';
import { ScreeningError } from './ScreeningError';

/** One field of a screening plan, in level-0 pixels; `index` is its place in the walking order. */
export interface ScreeningField {
  index: number;
  row: number;
  column: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FieldPlan {
  columns: number;
  rows: number;
  /** Walking order: row 0 left to right, row 1 right to left, and so on (serpentine). */
  fields: ScreeningField[];
}

/** A screening region: a rectangle, circle or polygon annotation. Points are not regions. */
export type RegionGeometry = Exclude<Geometry, { shape: 'point' }>;

/** More fields than this means the field size is far too small for the region (a typo, not a plan). */
export const MAX_FIELDS = 250_000;

/**
 * The rectangle to cut into fields: the whole slide, or the ROI's bounds clipped to the slide.
 * Throws ScreeningError when the ROI does not overlap the slide.
 */
export function screeningRegion(slide: { width: number; height: number }, roi: RegionGeometry | null): LevelZeroRect {
  if (roi === null) return { x: 0, y: 0, width: slide.width, height: slide.height };
  const bounds = boundsOf(roi);
  const minX = Math.max(0, bounds.minX);
  const minY = Math.max(0, bounds.minY);
  const maxX = Math.min(slide.width, bounds.maxX);
  const maxY = Math.min(slide.height, bounds.maxY);
  if (maxX <= minX || maxY <= minY) {
    throw new ScreeningError('invalid-argument', 'roiAnnotationId', 'the region lies outside the slide');
  }
  return { x: minX, y: minY, width: maxX - minX, height: maxY - minY };
}

/**
 * Cuts `region` into fields of `fieldWidth` × `fieldHeight` level-0 pixels in serpentine order.
 *
 * Every field has the full field size, so the viewer keeps one magnification throughout:
 * - the last column (row) is shifted back to end at the region's right (bottom) edge, overlapping
 *   its neighbour, instead of reaching past the region;
 * - a region narrower (lower) than one field gets one column (row) centred on it.
 * With a circle or polygon ROI, fields whose overlap with it has no area are left out; the
 * indices count the remaining fields only.
 */
export function planFields(region: LevelZeroRect, fieldWidth: number, fieldHeight: number, roi: RegionGeometry | null = null): FieldPlan {
  if (!(fieldWidth > 0) || !(fieldHeight > 0) || !Number.isFinite(fieldWidth) || !Number.isFinite(fieldHeight)) {
    throw new ScreeningError('invalid-argument', 'fieldSpec', `a field must have a positive size (got ${fieldWidth} × ${fieldHeight} pixels)`);
  }
  const xs = axisStarts(region.x, region.width, fieldWidth);
  const ys = axisStarts(region.y, region.height, fieldHeight);
  if (xs.length * ys.length > MAX_FIELDS) {
    throw new ScreeningError(
      'invalid-argument',
      'fieldSpec',
      `fields of ${Math.round(fieldWidth)} × ${Math.round(fieldHeight)} pixels would cut the region into ${xs.length * ys.length} fields (at most ${MAX_FIELDS}); choose a lower magnification or a larger field`,
    );
  }
  const fields: ScreeningField[] = [];
  ys.forEach((y, row) => {
    const columns = row % 2 === 0 ? xs.map((_, column) => column) : xs.map((_, column) => xs.length - 1 - column);
    for (const column of columns) {
      const rect = { x: xs[column]!, y, width: fieldWidth, height: fieldHeight };
      if (roi !== null && !overlapsWithArea(roi, rect)) continue;
      fields.push({ index: fields.length, row, column, ...rect });
    }
  });
  return { columns: xs.length, rows: ys.length, fields };
}

/** Start coordinates of the fields along one axis (see planFields for the edge rule). */
export function axisStarts(start: number, length: number, size: number): number[] {
  if (length <= size) return [start + (length - size) / 2];
  // The small tolerance keeps an exact multiple (e.g. 1000 / 250) from gaining a sliver field.
  const count = Math.ceil(length / size - 1e-9);
  return Array.from({ length: count }, (_, index) => (index === count - 1 ? start + length - size : start + index * size));
}

/** Whether the field and the region share some area (touching along an edge or at a corner is not enough). */
export function overlapsWithArea(region: RegionGeometry, rect: LevelZeroRect): boolean {
  switch (region.shape) {
    case 'rectangle':
      return overlapLength(region.x, region.width, rect.x, rect.width) > 0 && overlapLength(region.y, region.height, rect.y, rect.height) > 0;
    case 'circle': {
      const nearestX = Math.min(Math.max(region.x, rect.x), rect.x + rect.width);
      const nearestY = Math.min(Math.max(region.y, rect.y), rect.y + rect.height);
      return Math.hypot(region.x - nearestX, region.y - nearestY) < region.radius;
    }
    case 'polygon':
      return Math.abs(signedArea(clipToRect(region.points, rect))) > 1e-9 * rect.width * rect.height;
  }
}

function overlapLength(startA: number, lengthA: number, startB: number, lengthB: number): number {
  return Math.min(startA + lengthA, startB + lengthB) - Math.max(startA, startB);
}

/**
 * Sutherland–Hodgman clipping of a polygon (convex or not) by an axis-aligned rectangle. For a
 * concave polygon the result may contain zero-width bridges, which do not change its area.
 */
export function clipToRect(points: readonly [number, number][], rect: LevelZeroRect): [number, number][] {
  const right = rect.x + rect.width;
  const bottom = rect.y + rect.height;
  const edges: { inside: (p: [number, number]) => boolean; cut: (a: [number, number], b: [number, number]) => [number, number] }[] = [
    { inside: ([x]) => x >= rect.x, cut: (a, b) => atX(a, b, rect.x) },
    { inside: ([x]) => x <= right, cut: (a, b) => atX(a, b, right) },
    { inside: ([, y]) => y >= rect.y, cut: (a, b) => atY(a, b, rect.y) },
    { inside: ([, y]) => y <= bottom, cut: (a, b) => atY(a, b, bottom) },
  ];
  let ring: [number, number][] = [...points];
  for (const edge of edges) {
    if (ring.length === 0) break;
    const next: [number, number][] = [];
    ring.forEach((current, index) => {
      const previous = ring[(index + ring.length - 1) % ring.length]!;
      const currentIn = edge.inside(current);
      if (currentIn !== edge.inside(previous)) next.push(edge.cut(previous, current));
      if (currentIn) next.push(current);
    });
    ring = next;
  }
  return ring;
}

function atX(a: [number, number], b: [number, number], x: number): [number, number] {
  const t = (x - a[0]) / (b[0] - a[0]);
  return [x, a[1] + t * (b[1] - a[1])];
}

function atY(a: [number, number], b: [number, number], y: number): [number, number] {
  const t = (y - a[1]) / (b[1] - a[1]);
  return [a[0] + t * (b[0] - a[0]), y];
}

/** Shoelace formula: positive for counter-clockwise rings in x-right, y-up axes. */
export function signedArea(points: readonly [number, number][]): number {
  let twice = 0;
  points.forEach(([x0, y0], index) => {
    const [x1, y1] = points[(index + 1) % points.length]!;
    twice += x0 * y1 - x1 * y0;
  });
  return twice / 2;
}

export interface Coverage {
  visited: number;
  total: number;
  /** visited / total, 0 for an empty plan. */
  fraction: number;
}

export function coverageOf(visitedIndices: Iterable<number>, total: number): Coverage {
  let visited = 0;
  for (const index of new Set(visitedIndices)) if (index >= 0 && index < total) visited += 1;
  return { visited, total, fraction: total === 0 ? 0 : visited / total };
}
