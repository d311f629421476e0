import { describe, expect, it } from 'vitest';
import type { AnnotationGeometry } from '../../../src-main/contract/schemas';
import {
  circleFromDrag,
  distanceToShape,
  hitTest,
  pointInPolygon,
  polygonFromVertices,
  rectangleFromDrag,
  toolForKey,
  translateGeometry,
} from '../../../src-renderer/lib/viewer/shapes';

const annotation = (id: number, geometry: AnnotationGeometry) => ({ id, geometry, centre: { x: 0, y: 0 } });

describe('hit testing', () => {
  const square: [number, number][] = [[0, 0], [100, 0], [100, 100], [0, 100]];
  const concave: [number, number][] = [[0, 0], [100, 0], [100, 100], [50, 40], [0, 100]];

  it('knows inside from outside of a polygon, concave ones included', () => {
    expect(pointInPolygon(50, 50, square)).toBe(true);
    expect(pointInPolygon(150, 50, square)).toBe(false);
    expect(pointInPolygon(50, 20, concave)).toBe(true);
    // Inside the notch of the concave polygon: outside.
    expect(pointInPolygon(50, 80, concave)).toBe(false);
  });

  it('measures the distance to each shape: 0 inside a region, to the centre for a cell', () => {
    expect(distanceToShape({ shape: 'point', x: 10, y: 10 }, 13, 14)).toBe(5);
    expect(distanceToShape({ shape: 'circle', x: 0, y: 0, radius: 10 }, 3, 4)).toBe(0);
    expect(distanceToShape({ shape: 'circle', x: 0, y: 0, radius: 10 }, 30, 40)).toBe(40);
    expect(distanceToShape({ shape: 'rectangle', x: 0, y: 0, width: 10, height: 10 }, 13, 14)).toBe(5);
    expect(distanceToShape({ shape: 'polygon', points: square }, 50, 50)).toBe(0);
    expect(distanceToShape({ shape: 'polygon', points: square }, 50, 110)).toBe(10);
  });

  it('prefers a cell within reach over the region it lies in, and the smaller of two regions', () => {
    const big = annotation(1, { shape: 'rectangle', x: 0, y: 0, width: 1000, height: 1000 });
    const small = annotation(2, { shape: 'circle', x: 500, y: 500, radius: 100 });
    const cell = annotation(3, { shape: 'point', x: 520, y: 500 });
    const farCell = annotation(4, { shape: 'point', x: 900, y: 900 });
    const all = [big, small, cell, farCell];
    expect(hitTest(all, 510, 500, 25)?.id).toBe(3);
    expect(hitTest(all, 450, 450, 25)?.id).toBe(2);
    expect(hitTest(all, 100, 100, 25)?.id).toBe(1);
    expect(hitTest(all, 2000, 2000, 25)).toBeNull();
    // Of two cells within reach, the nearer.
    expect(hitTest([cell, annotation(5, { shape: 'point', x: 505, y: 500 })], 503, 500, 25)?.id).toBe(5);
  });
});

describe('shapes from the pointer', () => {
  it('spans a rectangle from a drag in any direction, and refuses one without area', () => {
    expect(rectangleFromDrag({ x: 100, y: 80 }, { x: 40, y: 20 })).toEqual({ shape: 'rectangle', x: 40, y: 20, width: 60, height: 60 });
    expect(rectangleFromDrag({ x: 10, y: 10 }, { x: 10, y: 50 })).toBeNull();
  });

  it('centres a circle where the drag began', () => {
    expect(circleFromDrag({ x: 10, y: 10 }, { x: 13, y: 14 })).toEqual({ shape: 'circle', x: 10, y: 10, radius: 5 });
    expect(circleFromDrag({ x: 10, y: 10 }, { x: 10, y: 10 })).toBeNull();
  });

  it('closes a polygon without the repeated vertex of a double-click, and needs 3 vertices', () => {
    const clicks = [{ x: 0, y: 0 }, { x: 100, y: 0 }, { x: 100, y: 100 }, { x: 100.5, y: 100.2 }];
    expect(polygonFromVertices(clicks, 2)).toEqual({ shape: 'polygon', points: [[0, 0], [100, 0], [100, 100]] });
    // A last click on the first vertex closes the ring rather than repeating it.
    expect(polygonFromVertices([...clicks.slice(0, 3), { x: 0, y: 50 }, { x: 1, y: 0 }], 2)).toEqual({
      shape: 'polygon',
      points: [[0, 0], [100, 0], [100, 100], [0, 50]],
    });
    expect(polygonFromVertices([{ x: 0, y: 0 }, { x: 50, y: 50 }, { x: 50.5, y: 50 }], 2)).toBeNull();
  });

  it('moves every shape by the same offset, keeping its size', () => {
    expect(translateGeometry({ shape: 'point', x: 1, y: 2 }, 10, 20)).toEqual({ shape: 'point', x: 11, y: 22 });
    expect(translateGeometry({ shape: 'circle', x: 1, y: 2, radius: 5 }, -1, -2)).toEqual({ shape: 'circle', x: 0, y: 0, radius: 5 });
    expect(translateGeometry({ shape: 'rectangle', x: 0, y: 0, width: 4, height: 3 }, 0.25, 0)).toEqual({ shape: 'rectangle', x: 0.3, y: 0, width: 4, height: 3 });
    expect(translateGeometry({ shape: 'polygon', points: [[0, 0], [1, 0], [0, 1]] }, 5, 5)).toEqual({ shape: 'polygon', points: [[5, 5], [6, 5], [5, 6]] });
  });

  it('maps tool keys, in either case, and nothing else', () => {
    expect(toolForKey('v')).toBe('select');
    expect(toolForKey('R')).toBe('rectangle');
    expect(toolForKey('g')).toBe('polygon');
    expect(toolForKey('x')).toBeNull();
  });
});
