import type { AnnotationGeometry } from '../../../src-main/contract/schemas';

/** A level-0 point. */
export interface Point {
  x: number;
  y: number;
}

/** What a hit test needs of an annotation: its id, shape and centre. */
export interface Hittable {
  id: number;
  geometry: AnnotationGeometry;
  centre: Point;
}

/** The editing tools of the viewer. */
export type Tool = 'point' | 'select' | 'circle' | 'rectangle' | 'polygon';

export const TOOLS: readonly Tool[] = ['point', 'select', 'circle', 'rectangle', 'polygon'];

/** Tool keys (letters); a class whose hotkey is the same letter wins over the tool. */
export const TOOL_KEYS: Readonly<Record<Tool, string>> = {
  point: 'p',
  select: 'v',
  circle: 'c',
  rectangle: 'r',
  polygon: 'g',
};

export function toolForKey(key: string): Tool | null {
  const lower = key.toLowerCase();
  return TOOLS.find((tool) => TOOL_KEYS[tool] === lower) ?? null;
}

/** True when the point is inside the polygon (even-odd rule; the ring closes itself). */
export function pointInPolygon(x: number, y: number, points: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i]!;
    const [xj, yj] = points[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Distance from a point to the segment a–b. */
function segmentDistance(x: number, y: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const lengthSquared = dx * dx + dy * dy;
  const t = lengthSquared === 0 ? 0 : Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / lengthSquared));
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}

/**
 * How far (level-0 pixels) a point is from a shape: 0 inside a region, the distance to the
 * centre for a point (a cell).
 */
export function distanceToShape(geometry: AnnotationGeometry, x: number, y: number): number {
  switch (geometry.shape) {
    case 'point':
      return Math.hypot(geometry.x - x, geometry.y - y);
    case 'circle':
      return Math.max(0, Math.hypot(geometry.x - x, geometry.y - y) - geometry.radius);
    case 'rectangle': {
      const dx = Math.max(geometry.x - x, 0, x - (geometry.x + geometry.width));
      const dy = Math.max(geometry.y - y, 0, y - (geometry.y + geometry.height));
      return Math.hypot(dx, dy);
    }
    case 'polygon': {
      if (pointInPolygon(x, y, geometry.points)) return 0;
      let best = Infinity;
      const points = geometry.points;
      for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
        best = Math.min(best, segmentDistance(x, y, points[j]![0], points[j]![1], points[i]![0], points[i]![1]));
      }
      return best;
    }
  }
}

/** Area in level-0 pixels² (for preferring the smallest region under a click). */
function areaOf(geometry: AnnotationGeometry): number {
  switch (geometry.shape) {
    case 'point':
      return 0;
    case 'circle':
      return Math.PI * geometry.radius * geometry.radius;
    case 'rectangle':
      return geometry.width * geometry.height;
    case 'polygon': {
      let twice = 0;
      const points = geometry.points;
      for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
        twice += points[j]![0] * points[i]![1] - points[i]![0] * points[j]![1];
      }
      return Math.abs(twice) / 2;
    }
  }
}

/**
 * The annotation a click at (x, y) means: the nearest cell within `reachPx` of its centre, else
 * the smallest region the click is inside (or within `reachPx` of its outline); null when none.
 * Cells win over regions because cells lie inside regions.
 */
export function hitTest<T extends Hittable>(annotations: readonly T[], x: number, y: number, reachPx: number): T | null {
  let cell: T | null = null;
  let cellDistance = reachPx;
  let region: T | null = null;
  let regionArea = Infinity;
  for (const annotation of annotations) {
    const distance = distanceToShape(annotation.geometry, x, y);
    if (distance > reachPx) continue;
    if (annotation.geometry.shape === 'point') {
      if (distance <= cellDistance) {
        cell = annotation;
        cellDistance = distance;
      }
    } else {
      const area = areaOf(annotation.geometry);
      if (area < regionArea) {
        region = annotation;
        regionArea = area;
      }
    }
  }
  return cell ?? region;
}

/** The same shape moved by (dx, dy) level-0 pixels. */
export function translateGeometry(geometry: AnnotationGeometry, dx: number, dy: number): AnnotationGeometry {
  switch (geometry.shape) {
    case 'point':
      return { shape: 'point', x: round(geometry.x + dx), y: round(geometry.y + dy) };
    case 'circle':
      return { shape: 'circle', x: round(geometry.x + dx), y: round(geometry.y + dy), radius: geometry.radius };
    case 'rectangle':
      return { shape: 'rectangle', x: round(geometry.x + dx), y: round(geometry.y + dy), width: geometry.width, height: geometry.height };
    case 'polygon':
      return { shape: 'polygon', points: geometry.points.map(([x, y]) => [round(x + dx), round(y + dy)] as [number, number]) };
  }
}

/** A tenth of a level-0 pixel is finer than any scanner resolves. */
export function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The rectangle spanned by a drag from `a` to `b` (either direction); null when it has no area. */
export function rectangleFromDrag(a: Point, b: Point): AnnotationGeometry | null {
  const x = round(Math.min(a.x, b.x));
  const y = round(Math.min(a.y, b.y));
  const width = round(Math.abs(a.x - b.x));
  const height = round(Math.abs(a.y - b.y));
  return width > 0 && height > 0 ? { shape: 'rectangle', x, y, width, height } : null;
}

/** The circle centred where a drag started, its edge where the drag is; null when it has no radius. */
export function circleFromDrag(centre: Point, edge: Point): AnnotationGeometry | null {
  const radius = round(Math.hypot(edge.x - centre.x, edge.y - centre.y));
  return radius > 0 ? { shape: 'circle', x: round(centre.x), y: round(centre.y), radius } : null;
}

/**
 * The polygon of clicked vertices, without repeats closer than `mergePx` to the vertex before
 * (a double-click to close adds the last vertex twice); null when fewer than 3 vertices remain.
 */
export function polygonFromVertices(vertices: readonly Point[], mergePx: number): AnnotationGeometry | null {
  const points: [number, number][] = [];
  for (const vertex of vertices) {
    const last = points.at(-1);
    if (last && Math.hypot(last[0] - vertex.x, last[1] - vertex.y) <= mergePx) continue;
    points.push([round(vertex.x), round(vertex.y)]);
  }
  const first = points[0];
  const last = points.at(-1);
  if (points.length > 3 && first && last && Math.hypot(first[0] - last[0], first[1] - last[1]) <= mergePx) points.pop();
  return points.length >= 3 ? { shape: 'polygon', points } : null;
}
