import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  areaMm2Of,
  containsPoint,
  countInRegionAnnotation,
  countInside,
  countInStandardArea,
  findHotspot,
  hotspotOnSlide,
  MitoticCounter,
  sourceFor,
  standardAreaSizePx,
  type CellPoint,
} from '../../../src-main/services/annotations/mitoticCount';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { slideRow } from '../../fixtures/slideRows';
import { AnnotationProject, IMPOSTER, MITOTIC_FIGURE } from './annotationProject';
import { seededRandom as random } from '../../../src-main/services/random/seededRandom';

describe('the standard area', () => {
  it('2.37 mm² at 4:3 on a 0.25 µm/px scan is 1777.6 × 1333.2 µm = 7110.6 × 5332.9 px', () => {
    const size = standardAreaSizePx(2.37, 0.25, 0.25);
    expect(size.width).toBeCloseTo(Math.sqrt(2.37e6 * (4 / 3)) / 0.25, 6);
    expect(size.width).toBeCloseTo(7110.555, 2);
    expect(size.height).toBeCloseTo(5332.917, 2);
    expect(size.width / size.height).toBeCloseTo(4 / 3, 12);
    expect(areaMm2Of({ shape: 'rectangle', x: 0, y: 0, ...size }, 0.25, 0.25)).toBeCloseTo(2.37, 12);
    // 1 mm² square on 0.5 × 0.25 µm/px pixels: 2000 × 4000 px.
    expect(standardAreaSizePx(1, 0.5, 0.25, 1)).toEqual({ width: 2000, height: 4000 });
  });

  it('measures circles and polygons in mm²', () => {
    expect(areaMm2Of({ shape: 'circle', x: 0, y: 0, radius: 1000 }, 1, 1)).toBeCloseTo(Math.PI, 12);
    expect(areaMm2Of({ shape: 'polygon', points: [[0, 0], [2000, 0], [0, 1000]] }, 1, 1)).toBeCloseTo(1, 12);
    expect(areaMm2Of({ shape: 'point', x: 0, y: 0 }, 1, 1)).toBeNull();
  });
});

describe('counting inside a region', () => {
  const cells: CellPoint[] = [
    { x: 0, y: 0 },
    { x: 10, y: 0 },
    { x: 5, y: 5 },
    { x: 10, y: 10 },
    { x: 20, y: 5 },
    { x: 3, y: 8 },
  ];

  it('rectangles and circles include their border', () => {
    expect(countInside(cells, { shape: 'rectangle', x: 0, y: 0, width: 10, height: 10 })).toBe(5);
    // Shifted right by half a pixel: (0,0) drops out; (10,0) and (10,10) are still on the border.
    expect(countInside(cells, { shape: 'rectangle', x: 0.5, y: 0, width: 10, height: 10 })).toBe(4);
    expect(countInside(cells, { shape: 'rectangle', x: 0.5, y: 0, width: 9, height: 10 })).toBe(2);
    expect(countInside(cells, { shape: 'circle', x: 5, y: 5, radius: 5 })).toBe(2);
    expect(countInside(cells, { shape: 'circle', x: 5, y: 5, radius: Math.hypot(5, 5) })).toBe(5);
  });

  it('a concave polygon counts by the even-odd rule', () => {
    // An L: the square 0..12 × 0..12 minus its top-right quarter 6..12 × 0..6.
    const l = { shape: 'polygon' as const, points: [[0, 0], [6, 0], [6, 6], [12, 6], [12, 12], [0, 12]] as [number, number][] };
    expect(containsPoint(l, 10, 2)).toBe(false);
    expect(containsPoint(l, 10, 10)).toBe(true);
    // (5,5) and (3,8) inside; (10,10) inside; (10,0), (20,5) outside; (0,0) is a vertex: either way.
    const strict = countInside(cells.filter((cell) => !(cell.x === 0 && cell.y === 0)), l);
    expect(strict).toBe(3);
  });
});

/** The largest count over every integer placement: exact for integer cells and sizes. */
function bruteForce(cells: CellPoint[], size: { width: number; height: number }, container: { x: number; y: number; width: number; height: number }): number {
  let best = 0;
  for (let x = container.x; x + size.width <= container.x + container.width; x++) {
    for (let y = container.y; y + size.height <= container.y + container.height; y++) {
      best = Math.max(best, countInside(cells, { shape: 'rectangle', x, y, ...size }));
    }
  }
  return best;
}


describe('findHotspot', () => {
  it('finds the hand-counted best window', () => {
    // A cluster of 4 within a 10 × 10 window, a pair elsewhere, a lone cell.
    const cells = [
      { x: 50, y: 50 },
      { x: 55, y: 52 },
      { x: 60, y: 60 },
      { x: 52, y: 58 },
      { x: 5, y: 5 },
      { x: 12, y: 8 },
      { x: 90, y: 10 },
    ];
    const spot = findHotspot(cells, { width: 10, height: 10 }, { x: 0, y: 0, width: 100, height: 100 });
    expect(spot.count).toBe(4);
    expect(spot.rect).toEqual({ x: 50, y: 50, width: 10, height: 10 });
    // The window never leaves the container: the best window for a cell at the corner is pushed inside.
    const corner = findHotspot([{ x: 99, y: 99 }, { x: 97, y: 95 }], { width: 10, height: 10 }, { x: 0, y: 0, width: 100, height: 100 });
    expect(corner).toEqual({ rect: { x: 90, y: 90, width: 10, height: 10 }, count: 2 });
  });

  it('gives an empty slide a zero count, and centres a window larger than its container', () => {
    expect(findHotspot([], { width: 10, height: 10 }, { x: 0, y: 0, width: 100, height: 100 }).count).toBe(0);
    const wide = findHotspot([{ x: 2, y: 50 }, { x: 18, y: 52 }], { width: 40, height: 10 }, { x: 0, y: 0, width: 20, height: 100 });
    expect(wide).toEqual({ rect: { x: -10, y: 50, width: 40, height: 10 }, count: 2 });
  });

  it('equals brute force over every placement on 200 random point sets', () => {
    const next = random(20260314);
    for (let trial = 0; trial < 200; trial++) {
      const container = { x: Math.floor(next() * 20), y: Math.floor(next() * 20), width: 30 + Math.floor(next() * 30), height: 30 + Math.floor(next() * 30) };
      const size = { width: 4 + Math.floor(next() * 16), height: 4 + Math.floor(next() * 16) };
      const clustered = next() < 0.5;
      const cells = Array.from({ length: Math.floor(next() * 40) }, () => {
        const spread = clustered ? 0.4 : 1;
        return {
          x: container.x + Math.floor((clustered ? 0.3 : 0) * container.width + next() * spread * container.width),
          y: container.y + Math.floor((clustered ? 0.3 : 0) * container.height + next() * spread * container.height),
        };
      });
      const spot = findHotspot(cells, size, container);
      const expected = bruteForce(cells, size, container);
      expect(spot.count, `trial ${trial}`).toBe(expected);
      expect(countInside(cells, { shape: 'rectangle', ...spot.rect }), `trial ${trial}: the window holds what it claims`).toBe(spot.count);
      expect(spot.rect.x).toBeGreaterThanOrEqual(container.x);
      expect(spot.rect.y).toBeGreaterThanOrEqual(container.y);
      expect(spot.rect.x + spot.rect.width).toBeLessThanOrEqual(container.x + container.width);
      expect(spot.rect.y + spot.rect.height).toBeLessThanOrEqual(container.y + container.height);
    }
  });

  it('equals brute force on real-valued cells too (against a fine grid, which can only do worse)', () => {
    const next = random(7);
    for (let trial = 0; trial < 50; trial++) {
      const cells = Array.from({ length: 25 }, () => ({ x: next() * 60, y: next() * 60 }));
      const size = { width: 12.5, height: 9.25 };
      const container = { x: 0, y: 0, width: 60, height: 60 };
      const spot = findHotspot(cells, size, container);
      let grid = 0;
      for (let x = 0; x + size.width <= 60; x += 0.25) for (let y = 0; y + size.height <= 60; y += 0.25) grid = Math.max(grid, countInside(cells, { shape: 'rectangle', x, y, ...size }));
      expect(spot.count).toBeGreaterThanOrEqual(grid);
      expect(countInside(cells, { shape: 'rectangle', ...spot.rect })).toBe(spot.count);
    }
  });
});

describe('sourceFor', () => {
  it('counts the consensus or a chosen annotator; blind viewers count their own votes only', () => {
    expect(sourceFor({ viewerId: 3, blind: false }, null)).toEqual({ kind: 'consensus' });
    expect(sourceFor({ viewerId: 3, blind: false }, 5)).toEqual({ kind: 'annotator', annotatorId: 5 });
    expect(sourceFor({ viewerId: 3, blind: true }, null)).toEqual({ kind: 'annotator', annotatorId: 3 });
    expect(() => sourceFor({ viewerId: 3, blind: true }, 5)).toThrow(/^annotatorId: in blind mode only your own votes/);
  });
});

describe('MitoticCounter over a project', () => {
  let lab: AnnotationProject;
  let sato: number;
  let ito: number;
  let model: number;
  beforeEach(() => {
    lab = new AnnotationProject();
    sato = lab.store.ensureAnnotator('Dr. Sato').id;
    ito = lab.store.ensureAnnotator('Dr. Ito').id;
    model = lab.store.ensureAnnotator('UNI probe', 'model').id;
  });
  afterEach(() => lab.dispose());

  const cell = (x: number, y: number, votes: { annotatorId: number; classId: number }[]) =>
    lab.store.importAnnotations(sato, [{ slideId: lab.slideId, geometry: { shape: 'point', x, y }, votes }]).annotationIds[0]!;

  it('counts agreed mitotic figures in a standard area at a point, by consensus or by one annotator', () => {
    // Around (10,000, 10,000); the 2.37 mm² area spans ±3555 × ±2666 px.
    cell(10_000, 10_000, [{ annotatorId: sato, classId: MITOTIC_FIGURE }]);
    cell(12_000, 11_000, [{ annotatorId: sato, classId: MITOTIC_FIGURE }, { annotatorId: ito, classId: MITOTIC_FIGURE }]);
    cell(8_000, 9_000, [{ annotatorId: sato, classId: MITOTIC_FIGURE }, { annotatorId: ito, classId: IMPOSTER }]); // disagreement
    cell(9_000, 9_000, [{ annotatorId: ito, classId: MITOTIC_FIGURE }, { annotatorId: model, classId: IMPOSTER }]); // a model never decides
    cell(11_000, 11_000, [{ annotatorId: sato, classId: IMPOSTER }]);
    cell(10_000, 13_000, [{ annotatorId: sato, classId: MITOTIC_FIGURE }]); // 3000 px below: outside (2666)
    cell(10_500, 10_500, []); // unlabelled
    const deleted = cell(10_100, 10_100, [{ annotatorId: sato, classId: MITOTIC_FIGURE }]);
    lab.store.delete(deleted, sato);
    lab.store.createAnnotation(lab.slideId, { shape: 'rectangle', x: 9000, y: 9000, width: 100, height: 100 }, sato, MITOTIC_FIGURE); // a region, not a cell

    const counter = new MitoticCounter(lab.project.db);
    const at = { slideId: lab.slideId, centre: { x: 10_000, y: 10_000 } };
    const consensus = countInStandardArea(counter, { ...at, source: { kind: 'consensus' } });
    expect(consensus.count).toBe(3);
    expect(consensus.areaMm2).toBe(2.37);
    expect(consensus.className).toBe('mitotic figure');
    expect(consensus.area).toMatchObject({ shape: 'rectangle' });
    expect(countInStandardArea(counter, { ...at, source: { kind: 'annotator', annotatorId: sato } }).count).toBe(3);
    expect(countInStandardArea(counter, { ...at, source: { kind: 'annotator', annotatorId: ito } }).count).toBe(2);
    expect(countInStandardArea(counter, { ...at, source: { kind: 'annotator', annotatorId: model } }).count).toBe(0);
    expect(countInStandardArea(counter, { ...at, source: { kind: 'consensus' }, classId: IMPOSTER }).count).toBe(1);
    // 0.5 mm² spans ±1633 × ±1225 px: (12,000, 11,000) drops out; (9,000, 9,000) stays.
    expect(countInStandardArea(counter, { ...at, source: { kind: 'consensus' }, areaMm2: 0.5 }).count).toBe(2);
  });

  it('counts inside region annotations and finds the hotspot, optionally within an ROI', () => {
    const mitosis = [{ annotatorId: sato, classId: MITOTIC_FIGURE }];
    // Two cells near the origin; five in a cluster around (50,000, 40,000); three far right.
    for (const [x, y] of [[1000, 1000], [2000, 2500]]) cell(x!, y!, mitosis);
    for (const [x, y] of [[50_000, 40_000], [51_000, 40_500], [52_000, 41_000], [53_000, 42_000], [54_000, 43_000]]) cell(x!, y!, mitosis);
    for (const [x, y] of [[90_000, 10_000], [91_000, 11_000], [92_000, 12_000]]) cell(x!, y!, mitosis);
    const counter = new MitoticCounter(lab.project.db);
    const source = { kind: 'consensus' as const };

    const circle = lab.store.createAnnotation(lab.slideId, { shape: 'circle', x: 52_000, y: 41_000, radius: 1500 }, sato).id;
    const inCircle = countInRegionAnnotation(counter, { slideId: lab.slideId, source, annotationId: circle });
    expect(inCircle.count).toBe(3);
    expect(inCircle.areaMm2).toBeCloseTo((Math.PI * 1500 ** 2 * 0.0625) / 1e6, 12);

    const hotspot = hotspotOnSlide(counter, { slideId: lab.slideId, source });
    expect(hotspot.count).toBe(5);
    expect(hotspot.cellsConsidered).toBe(10);
    expect(hotspot.area).toMatchObject({ shape: 'rectangle', x: 50_000, y: 40_000 });

    // Within a polygon around two of the right-hand cells only.
    const roi = lab.store.createAnnotation(lab.slideId, { shape: 'polygon', points: [[90_500, 5_000], [99_000, 5_000], [99_000, 20_000], [90_500, 20_000]] }, sato).id;
    const inRoi = hotspotOnSlide(counter, { slideId: lab.slideId, source, roiAnnotationId: roi });
    // (90,000, 10,000) lies left of the polygon: outside; (91,000, 11,000) and (92,000, 12,000) inside.
    expect(inRoi.cellsConsidered).toBe(2);
    expect(inRoi.count).toBe(2);
  });

  it('refuses clearly: no mpp, unknown class or annotator, a point as the area', () => {
    const counter = new MitoticCounter(lab.project.db);
    const bare = new SlideCatalog(lab.project.db).insert({ ...slideRow('crop.png'), mppX: null, mppY: null });
    const source = { kind: 'consensus' as const };
    expect(() => countInStandardArea(counter, { slideId: bare, source, centre: { x: 0, y: 0 } })).toThrow(
      /^slideId: crop\.png records no µm per pixel, so an area in mm² has no size on it/,
    );
    expect(() => hotspotOnSlide(counter, { slideId: bare, source })).toThrow(/no µm per pixel/);
    const box = lab.store.createAnnotation(bare, { shape: 'rectangle', x: 0, y: 0, width: 10, height: 10 }, sato).id;
    expect(countInRegionAnnotation(counter, { slideId: bare, source, annotationId: box })).toMatchObject({ count: 0, areaMm2: null });
    expect(() => countInStandardArea(counter, { slideId: lab.slideId, source, centre: { x: 0, y: 0 }, classId: 77 })).toThrow(/^classId: no class 77/);
    expect(() => countInStandardArea(counter, { slideId: lab.slideId, source: { kind: 'annotator', annotatorId: 77 }, centre: { x: 0, y: 0 } })).toThrow(
      /^annotatorId: no annotator 77/,
    );
    const point = cell(5, 5, []);
    expect(() => countInRegionAnnotation(counter, { slideId: lab.slideId, source, annotationId: point })).toThrow(/is a cell \(a point\), not a region/);
    lab.store.deleteClass(MITOTIC_FIGURE);
    expect(() => countInStandardArea(counter, { slideId: lab.slideId, source, centre: { x: 0, y: 0 } })).toThrow(/no class named "mitotic figure"/);
  });
});
