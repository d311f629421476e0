import { describe, expect, it } from 'vitest';
import {
  axisStarts,
  clipToRect,
  coverageOf,
  overlapsWithArea,
  planFields,
  screeningRegion,
  signedArea,
} from '../../../src-main/services/screening/fieldPlan';
import { fieldSizePx } from '../../../src-main/services/screening/fieldSize';
import { ScreeningError } from '../../../src-main/services/screening/ScreeningError';

const order = (plan: ReturnType<typeof planFields>) => plan.fields.map((field) => [field.row, field.column]);

describe('planFields', () => {
  it('walks a 3 × 2 grid in serpentine order, each field next to the one before', () => {
    const plan = planFields({ x: 0, y: 0, width: 300, height: 200 }, 100, 100);
    expect(plan.columns).toBe(3);
    expect(plan.rows).toBe(2);
    expect(order(plan)).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 2],
      [1, 1],
      [1, 0],
    ]);
    expect(plan.fields.map((field) => [field.x, field.y])).toEqual([
      [0, 0],
      [100, 0],
      [200, 0],
      [200, 100],
      [100, 100],
      [0, 100],
    ]);
    expect(plan.fields.map((field) => field.index)).toEqual([0, 1, 2, 3, 4, 5]);
    for (let i = 1; i < plan.fields.length; i++) {
      const [a, b] = [plan.fields[i - 1]!, plan.fields[i]!];
      expect(Math.abs(a.row - b.row) + Math.abs(a.column - b.column)).toBe(1);
    }
  });

  it('keeps edge fields full-size, shifted back to end at the region edge', () => {
    const plan = planFields({ x: 10, y: 20, width: 250, height: 120 }, 100, 100);
    expect(plan.columns).toBe(3);
    expect(plan.rows).toBe(2);
    expect(plan.fields.slice(0, 3).map((field) => field.x)).toEqual([10, 110, 160]);
    expect(plan.fields.map((field) => field.y)).toEqual([20, 20, 20, 40, 40, 40]);
    for (const field of plan.fields) {
      expect([field.width, field.height]).toEqual([100, 100]);
      expect(field.x + field.width).toBeLessThanOrEqual(260);
      expect(field.y + field.height).toBeLessThanOrEqual(140);
    }
  });

  it('an exact multiple gains no sliver field; a region smaller than a field is one centred field', () => {
    expect(axisStarts(0, 1000, 250)).toEqual([0, 250, 500, 750]);
    expect(axisStarts(0, 0.3 * 3, 0.3)).toHaveLength(3);
    expect(axisStarts(100, 40, 100)).toEqual([70]);
    const plan = planFields({ x: 0, y: 0, width: 50, height: 30 }, 100, 100);
    expect(plan.fields).toEqual([{ index: 0, row: 0, column: 0, x: -25, y: -35, width: 100, height: 100 }]);
  });

  it('skips the fields entirely outside a polygon ROI and numbers the rest in walking order', () => {
    // A triangle over the top-left half of a 400 × 400 region cut into 100 px fields.
    const triangle = { shape: 'polygon' as const, points: [[0, 0], [400, 0], [0, 400]] as [number, number][] };
    const plan = planFields({ x: 0, y: 0, width: 400, height: 400 }, 100, 100, triangle);
    // Row r keeps the columns c with c + r < 4 (fields on the diagonal only touch it at a corner: skipped).
    expect(order(plan)).toEqual([
      [0, 0], [0, 1], [0, 2], [0, 3],
      [1, 2], [1, 1], [1, 0],
      [2, 0], [2, 1],
      [3, 0],
    ]);
    expect(plan.fields.map((field) => field.index)).toEqual([...Array(10).keys()]);
  });

  it('keeps a field that a concave polygon only grazes with area, and drops one it merely touches', () => {
    // A U shape: two arms joined at the bottom; the gap between the arms is x 100..200, y 0..200.
    const u = {
      shape: 'polygon' as const,
      points: [[0, 0], [100, 0], [100, 200], [200, 200], [200, 0], [300, 0], [300, 300], [0, 300]] as [number, number][],
    };
    expect(overlapsWithArea(u, { x: 110, y: 10, width: 80, height: 80 })).toBe(false);
    expect(overlapsWithArea(u, { x: 100, y: 0, width: 100, height: 200 })).toBe(false);
    expect(overlapsWithArea(u, { x: 190, y: 0, width: 20, height: 20 })).toBe(true);
    expect(Math.abs(signedArea(clipToRect(u.points, { x: 50, y: 150, width: 200, height: 100 })))).toBeCloseTo(200 * 100 - 100 * 50);
  });

  it('clips circles with area only', () => {
    const circle = { shape: 'circle' as const, x: 0, y: 0, radius: 10 };
    expect(overlapsWithArea(circle, { x: 10, y: -5, width: 5, height: 5 })).toBe(false);
    expect(overlapsWithArea(circle, { x: 9, y: -5, width: 5, height: 5 })).toBe(true);
    expect(overlapsWithArea(circle, { x: 8, y: 8, width: 5, height: 5 })).toBe(false);
  });

  it('refuses a field size that would make an absurd number of fields', () => {
    expect(() => planFields({ x: 0, y: 0, width: 100_000, height: 100_000 }, 10, 10)).toThrow(/lower magnification/);
  });
});

describe('screeningRegion', () => {
  it('is the slide, or the ROI bounds clipped to the slide', () => {
    expect(screeningRegion({ width: 500, height: 400 }, null)).toEqual({ x: 0, y: 0, width: 500, height: 400 });
    expect(screeningRegion({ width: 500, height: 400 }, { shape: 'rectangle', x: -50, y: 100, width: 200, height: 400 })).toEqual({
      x: 0,
      y: 100,
      width: 150,
      height: 300,
    });
    expect(() => screeningRegion({ width: 500, height: 400 }, { shape: 'circle', x: 900, y: 900, radius: 10 })).toThrow(ScreeningError);
  });
});

describe('fieldSizePx', () => {
  const slide = { name: 'a.svs', mppX: 0.25, mppY: 0.5, objectivePower: 40 };

  it('is the viewer area at that magnification: 10× on a 40× scan is 4 level-0 px per screen px', () => {
    expect(fieldSizePx({ kind: 'magnification', magnification: 10, viewportWidthPx: 800, viewportHeightPx: 600 }, slide)).toEqual({ width: 3200, height: 2400 });
    // Without an objective power, 10 / mpp is the native magnification (as in the viewer).
    const noObjective = { ...slide, objectivePower: null };
    expect(fieldSizePx({ kind: 'magnification', magnification: 20, viewportWidthPx: 100, viewportHeightPx: 100 }, noObjective)).toEqual({ width: 200, height: 200 });
  });

  it('turns µm into pixels with each axis its own mpp, and refuses a slide without mpp', () => {
    expect(fieldSizePx({ kind: 'micrometres', widthUm: 500, heightUm: 400 }, slide)).toEqual({ width: 2000, height: 800 });
    const bare = { name: 'crop.png', mppX: null, mppY: null, objectivePower: null };
    expect(() => fieldSizePx({ kind: 'micrometres', widthUm: 500, heightUm: 400 }, bare)).toThrow(/crop\.png records no µm per pixel/);
    expect(() => fieldSizePx({ kind: 'magnification', magnification: 40, viewportWidthPx: 1, viewportHeightPx: 1 }, bare)).toThrow(/current view/);
    expect(fieldSizePx({ kind: 'pixels', widthPx: 640, heightPx: 480 }, bare)).toEqual({ width: 640, height: 480 });
  });
});

describe('coverageOf', () => {
  it('counts each visited field once and ignores indices outside the plan', () => {
    expect(coverageOf([0, 2, 2, 7], 4)).toEqual({ visited: 2, total: 4, fraction: 0.5 });
    expect(coverageOf([], 0)).toEqual({ visited: 0, total: 0, fraction: 0 });
  });
});
