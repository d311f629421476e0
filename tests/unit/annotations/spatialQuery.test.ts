import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Geometry } from '../../../src-main/services/annotations/geometry';
import { AnnotationProject, IMPOSTER, MITOTIC_FIGURE } from './annotationProject';
import { seededRandom as random } from '../../../src-main/services/random/seededRandom';


const POINTS = 20_000;
const SLIDE = { width: 100_000, height: 80_000 };
type Rect = { x: number; y: number; width: number; height: number };

describe('viewport queries through the R*Tree', () => {
  const next = random(20250805);
  let fixture: AnnotationProject;
  let otherSlide: number;
  let anna: number;
  /** The truth the R*Tree is checked against: live points by id. */
  const points = new Map<number, { x: number; y: number }>();

  beforeAll(() => {
    fixture = new AnnotationProject();
    otherSlide = fixture.addSlide('case-2.svs');
    anna = fixture.store.ensureAnnotator('Anna').id;
    const coordinates = Array.from({ length: POINTS }, (_, index) => {
      // Half on whole pixels (as MIDOG stores them), half fractional, some far out where float32 rounds.
      const x = next() * SLIDE.width;
      const y = next() * SLIDE.height;
      return index % 2 === 0 ? { x: Math.round(x), y: Math.round(y) } : { x, y };
    });
    const started = performance.now();
    const { annotationIds } = fixture.store.importAnnotations(
      anna,
      coordinates.map((point, index) => ({
        slideId: fixture.slideId,
        geometry: { shape: 'point', ...point },
        votes: [{ annotatorId: anna, classId: index % 3 === 0 ? IMPOSTER : MITOTIC_FIGURE }],
      })),
    );
    console.log(`spatial query: imported ${POINTS} points in ${(performance.now() - started).toFixed(0)} ms`);
    annotationIds.forEach((id, index) => points.set(id, coordinates[index]!));
    // The same places on another slide must never show up.
    fixture.store.importAnnotations(
      anna,
      coordinates.slice(0, 2000).map((point) => ({ slideId: otherSlide, geometry: { shape: 'point', ...point } })),
    );
  });
  afterAll(() => fixture.dispose());

  function bruteForce(rect: Rect): number[] {
    return [...points]
      .filter(([, p]) => p.x >= rect.x && p.x <= rect.x + rect.width && p.y >= rect.y && p.y <= rect.y + rect.height)
      .map(([id]) => id)
      .sort((a, b) => a - b);
  }

  function query(rect: Rect): number[] {
    return fixture.store
      .queryRect(fixture.slideId, rect, { viewerId: anna })
      .map((annotation) => annotation.id)
      .sort((a, b) => a - b);
  }

  function randomRects(count: number): Rect[] {
    const ids = [...points.keys()];
    return Array.from({ length: count }, (_, index) => {
      const width = [0, 1, 50, 2000, 20_000][index % 5]!;
      const height = [0, 1, 50, 1200, 15_000][(index >> 1) % 5]!;
      if (index % 4 === 0) {
        // Edges exactly through a stored point: edges count as inside.
        const corner = points.get(ids[Math.floor(next() * ids.length)]!)!;
        return index % 8 === 0 ? { x: corner.x, y: corner.y, width, height } : { x: corner.x - width, y: corner.y - height, width, height };
      }
      return { x: next() * SLIDE.width - width / 2, y: next() * SLIDE.height - height / 2, width, height };
    });
  }

  it('finds exactly what a brute-force scan of 20,000 points finds', () => {
    const rects = randomRects(300);
    let total = 0;
    for (const rect of rects) {
      const expected = bruteForce(rect);
      total += expected.length;
      expect(query(rect), JSON.stringify(rect)).toEqual(expected);
    }
    expect(total).toBeGreaterThan(1000);
    expect(query({ x: 0, y: 0, width: SLIDE.width, height: SLIDE.height })).toHaveLength(POINTS);
  });

  it('stays in step after moves, deletions and their undo', () => {
    const ids = [...points.keys()];
    for (let index = 0; index < 300; index++) {
      const id = ids[index * 37]!;
      const to = { x: next() * SLIDE.width, y: next() * SLIDE.height };
      fixture.store.move(id, anna, { shape: 'point', ...to });
      points.set(id, to);
    }
    const deleted = ids.slice(5000, 5200);
    for (const id of deleted) {
      fixture.store.delete(id, anna);
      points.delete(id);
    }
    for (const id of deleted.slice(-50).reverse()) {
      fixture.store.undo(anna);
      points.set(id, points.get(id) ?? findOriginal(id));
    }
    for (const rect of randomRects(100)) expect(query(rect)).toEqual(bruteForce(rect));
  });

  function findOriginal(id: number): { x: number; y: number } {
    const geometry = fixture.store.get(id, { viewerId: anna })!.geometry as Extract<Geometry, { shape: 'point' }>;
    return { x: geometry.x, y: geometry.y };
  }

  it('finds regions by their bounds: circles, rectangles and polygons that reach into the viewport', () => {
    const { store } = fixture;
    const slideId = fixture.addSlide('regions.svs');
    const circle = store.createAnnotation(slideId, { shape: 'circle', x: 1000, y: 1000, radius: 100 }, anna).id;
    const rectangle = store.createAnnotation(slideId, { shape: 'rectangle', x: 5000, y: 5000, width: 3000, height: 10 }, anna).id;
    const polygon = store.createAnnotation(
      slideId,
      { shape: 'polygon', points: [[20_000, 20_000], [30_000, 20_000], [25_000, 28_000]] },
      anna,
    ).id;
    const ids = (rect: Rect) => store.queryRect(slideId, rect, { viewerId: anna }).map((annotation) => annotation.id);
    expect(ids({ x: 1095, y: 900, width: 10, height: 10 })).toEqual([circle]);
    expect(ids({ x: 1101, y: 900, width: 10, height: 10 })).toEqual([]);
    expect(ids({ x: 7999, y: 5005, width: 100, height: 100 })).toEqual([rectangle]);
    expect(ids({ x: 24_000, y: 27_900, width: 10, height: 10 })).toEqual([polygon]);
    expect(ids({ x: 0, y: 0, width: 40_000, height: 40_000 }).sort((a, b) => a - b)).toEqual([circle, rectangle, polygon]);
  });

  it('is quick enough to draw from (printed, not asserted)', () => {
    const samples: number[] = [];
    for (let index = 0; index < 200; index++) {
      const rect = { x: next() * (SLIDE.width - 2000), y: next() * (SLIDE.height - 1200), width: 2000, height: 1200 };
      const started = performance.now();
      query(rect);
      samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(3);
    console.log(`spatial query: 2000×1200 viewport over ${POINTS} points: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms`);
  });
});
