import { InvalidAnnotationInputError } from './errors';

/** Shapes in level-0 pixels of their slide. A point is a cell centre. */
export type Geometry =
  | { shape: 'point'; x: number; y: number }
  | { shape: 'circle'; x: number; y: number; radius: number }
  /** x, y: the top-left corner. */
  | { shape: 'rectangle'; x: number; y: number; width: number; height: number }
  /** Vertices in order; the ring closes itself (the first vertex is not repeated). */
  | { shape: 'polygon'; points: [number, number][] };

export type Shape = Geometry['shape'];

export const SHAPES: readonly Shape[] = ['point', 'circle', 'rectangle', 'polygon'];

/** An axis-aligned rectangle in level-0 pixels, e.g. a viewport; x, y: the top-left corner. */
export interface LevelZeroRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/**
 * Checks geometry that came from outside (renderer, import) and returns a clean copy with only
 * the fields of its shape. Throws InvalidAnnotationInputError naming the first bad field.
 */
export function validateGeometry(input: unknown, field = 'geometry'): Geometry {
  if (typeof input !== 'object' || input === null) throw invalid(field, 'must be an object with a shape');
  const value = input as Record<string, unknown>;
  switch (value.shape) {
    case 'point':
      return { shape: 'point', x: coordinate(value, 'x', field), y: coordinate(value, 'y', field) };
    case 'circle':
      return {
        shape: 'circle',
        x: coordinate(value, 'x', field),
        y: coordinate(value, 'y', field),
        radius: positive(value, 'radius', field),
      };
    case 'rectangle':
      return {
        shape: 'rectangle',
        x: coordinate(value, 'x', field),
        y: coordinate(value, 'y', field),
        width: positive(value, 'width', field),
        height: positive(value, 'height', field),
      };
    case 'polygon':
      return { shape: 'polygon', points: polygonPoints(value.points, `${field}.points`) };
    default:
      throw invalid(`${field}.shape`, `must be one of ${SHAPES.join(', ')} (got ${JSON.stringify(value.shape)})`);
  }
}

function polygonPoints(input: unknown, field: string): [number, number][] {
  if (!Array.isArray(input)) throw invalid(field, 'must be an array of [x, y] vertices');
  if (input.length < 3) throw invalid(field, `a polygon needs at least 3 vertices (got ${input.length})`);
  return input.map((vertex: unknown, index) => {
    if (!Array.isArray(vertex) || vertex.length !== 2) throw invalid(`${field}[${index}]`, 'must be an [x, y] pair');
    return [finite(vertex[0], `${field}[${index}][0]`), finite(vertex[1], `${field}[${index}][1]`)];
  });
}

function coordinate(value: Record<string, unknown>, key: string, field: string): number {
  return finite(value[key], `${field}.${key}`);
}

function positive(value: Record<string, unknown>, key: string, field: string): number {
  const number = finite(value[key], `${field}.${key}`);
  if (number <= 0) throw invalid(`${field}.${key}`, `must be greater than 0 (got ${number})`);
  return number;
}

function finite(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(field, `must be a finite number of level-0 pixels (got ${describe(value)})`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value);
}

function invalid(field: string, message: string): InvalidAnnotationInputError {
  return new InvalidAnnotationInputError(field, message);
}

export function boundsOf(geometry: Geometry): Bounds {
  switch (geometry.shape) {
    case 'point':
      return { minX: geometry.x, minY: geometry.y, maxX: geometry.x, maxY: geometry.y };
    case 'circle':
      return {
        minX: geometry.x - geometry.radius,
        minY: geometry.y - geometry.radius,
        maxX: geometry.x + geometry.radius,
        maxY: geometry.y + geometry.radius,
      };
    case 'rectangle':
      return { minX: geometry.x, minY: geometry.y, maxX: geometry.x + geometry.width, maxY: geometry.y + geometry.height };
    case 'polygon': {
      const xs = geometry.points.map(([x]) => x);
      const ys = geometry.points.map(([, y]) => y);
      return { minX: Math.min(...xs), minY: Math.min(...ys), maxX: Math.max(...xs), maxY: Math.max(...ys) };
    }
  }
}

/** The point a cell or region is found by: its centre (area centroid for a polygon). */
export function centreOf(geometry: Geometry): { x: number; y: number } {
  switch (geometry.shape) {
    case 'point':
    case 'circle':
      return { x: geometry.x, y: geometry.y };
    case 'rectangle':
      return { x: geometry.x + geometry.width / 2, y: geometry.y + geometry.height / 2 };
    case 'polygon':
      return polygonCentroid(geometry.points);
  }
}

function polygonCentroid(points: [number, number][]): { x: number; y: number } {
  let twiceArea = 0;
  let cx = 0;
  let cy = 0;
  points.forEach(([x0, y0], index) => {
    const [x1, y1] = points[(index + 1) % points.length]!;
    const cross = x0 * y1 - x1 * y0;
    twiceArea += cross;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
  });
  // A degenerate (zero-area) ring has no centroid: use the mean of its vertices.
  if (Math.abs(twiceArea) < 1e-9) {
    return {
      x: points.reduce((sum, [x]) => sum + x, 0) / points.length,
      y: points.reduce((sum, [, y]) => sum + y, 0) / points.length,
    };
  }
  return { x: cx / (3 * twiceArea), y: cy / (3 * twiceArea) };
}

/** Edges count as inside: a point on the viewport's border is in the viewport. */
export function intersects(bounds: Bounds, rect: LevelZeroRect): boolean {
  return bounds.maxX >= rect.x && bounds.minX <= rect.x + rect.width && bounds.maxY >= rect.y && bounds.minY <= rect.y + rect.height;
}

export function validateRect(input: unknown, field = 'rect'): LevelZeroRect {
  if (typeof input !== 'object' || input === null) throw invalid(field, 'must be an object {x, y, width, height}');
  const value = input as Record<string, unknown>;
  const rect = {
    x: coordinate(value, 'x', field),
    y: coordinate(value, 'y', field),
    width: finite(value.width, `${field}.width`),
    height: finite(value.height, `${field}.height`),
  };
  if (rect.width < 0) throw invalid(`${field}.width`, `must not be negative (got ${rect.width})`);
  if (rect.height < 0) throw invalid(`${field}.height`, `must not be negative (got ${rect.height})`);
  return rect;
}

export function geometriesEqual(a: Geometry, b: Geometry): boolean {
  if (a.shape === 'polygon' || b.shape === 'polygon') {
    if (a.shape !== 'polygon' || b.shape !== 'polygon' || a.points.length !== b.points.length) return false;
    return a.points.every(([x, y], index) => x === b.points[index]![0] && y === b.points[index]![1]);
  }
  const keys = Object.keys(a) as (keyof typeof a)[];
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === (b as typeof a)[key]);
}

/** The stored form: the shape has its own column, so geometry_json holds the other fields. */
export function geometryToJson(geometry: Geometry): string {
  return JSON.stringify(geometry, (key, value: unknown) => (key === 'shape' ? undefined : value));
}

export function geometryFromRow(shape: Shape, geometryJson: string): Geometry {
  return { shape, ...JSON.parse(geometryJson) } as Geometry;
}
