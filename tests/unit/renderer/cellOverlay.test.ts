import { describe, expect, it } from 'vitest';
import type { AnnotationGeometry, AnnotationInfo } from '../../../src-main/contract/schemas';
import {
  CellOverlay,
  chooseLevelOfDetail,
  MAX_RINGS,
  MAX_SQUARES,
  pixelOf,
  type OverlayContext,
} from '../../../src-renderer/lib/viewer/cellOverlay';

/** Records what the overlay asks of a 2-D context (Node has no canvas). */
class RecordingContext {
  calls: { name: string; style?: string }[] = [];
  arcs = 0;
  rects = 0;
  lineWidth = 1;
  strokeStyle = '';
  fillStyle = '';
  putPixels: Uint8ClampedArray | null = null;
  beginPath() { this.calls.push({ name: 'beginPath' }); }
  moveTo() {}
  lineTo() {}
  closePath() {}
  arc() { this.arcs++; }
  rect() { this.rects++; }
  stroke() { this.calls.push({ name: 'stroke', style: this.strokeStyle }); }
  fill() { this.calls.push({ name: 'fill', style: this.fillStyle }); }
  clearRect() { this.calls.push({ name: 'clearRect' }); }
  setLineDash() {}
  createImageData(width: number, height: number) {
    return { width, height, data: new Uint8ClampedArray(width * height * 4), colorSpace: 'srgb' } as unknown as ImageData;
  }
  putImageData(image: ImageData) {
    this.putPixels = image.data;
    this.calls.push({ name: 'putImageData' });
  }
  painted(name: 'stroke' | 'fill') {
    return this.calls.filter((call) => call.name === name);
  }
}

function annotation(id: number, geometry: AnnotationGeometry): AnnotationInfo {
  const centre = geometry.shape === 'point' || geometry.shape === 'circle' ? { x: geometry.x, y: geometry.y } : { x: 0, y: 0 };
  return { id, guid: `g${id}`, slideId: 1, geometry, centre, createdBy: 1, createdAt: '', deletedAt: null, votes: [], consensus: null };
}

const identity = { zoom: 1, offsetX: 0, offsetY: 0 };

describe('level of detail', () => {
  it('draws rings while they stay apart, squares once they pile up, dots when there are too many', () => {
    expect(chooseLevelOfDetail(50, 25, 1400, 900)).toBe('rings');
    // 2,000 rings of radius 25 would cover most of the screen.
    expect(chooseLevelOfDetail(2000, 25, 1400, 900)).toBe('squares');
    expect(chooseLevelOfDetail(MAX_RINGS + 1, 4, 1400, 900)).toBe('squares');
    expect(chooseLevelOfDetail(MAX_SQUARES + 1, 4, 1400, 900)).toBe('dots');
    expect(chooseLevelOfDetail(100_000, 4, 1400, 900)).toBe('dots');
  });
});

describe('the cell overlay', () => {
  const colours = ['#ff0000', '#00ff00', '#0000ff'];

  it('strokes each colour once (with its halo), whatever the number of cells, and skips cells off screen', () => {
    const overlay = new CellOverlay();
    const cells = Array.from({ length: 300 }, (_, i) => annotation(i + 1, { shape: 'point', x: 20 + (i % 30) * 40, y: 20 + Math.floor(i / 30) * 40 }));
    const offScreen = annotation(999, { shape: 'point', x: 50_000, y: 50_000 });
    overlay.setAnnotations([...cells, offScreen], (item) => colours[item.id % 3]!);
    const context = new RecordingContext();
    const stats = overlay.draw(context as unknown as OverlayContext, { zoom: 0.4, offsetX: 0, offsetY: 0 }, 1400, 900);
    expect(stats.levelOfDetail).toBe('rings');
    expect(stats.cellsDrawn).toBe(300);
    expect(context.arcs).toBe(300);
    // Halo + colour per colour: 6 strokes for 300 cells of 3 colours.
    expect(context.painted('stroke')).toHaveLength(6);
    expect(context.painted('stroke').filter((call) => call.style === '#ff0000')).toHaveLength(1);
  });

  it('fills one square path per colour when rings would overlap', () => {
    const overlay = new CellOverlay();
    const cells = Array.from({ length: 5000 }, (_, i) => annotation(i + 1, { shape: 'point', x: (i % 100) * 14, y: Math.floor(i / 100) * 18 }));
    overlay.setAnnotations(cells, (item) => colours[item.id % 2]!);
    const context = new RecordingContext();
    const stats = overlay.draw(context as unknown as OverlayContext, identity, 1400, 900);
    expect(stats.levelOfDetail).toBe('squares');
    expect(context.rects).toBe(5000);
    expect(context.painted('fill')).toHaveLength(2);
    expect(context.painted('stroke')).toHaveLength(0);
  });

  it('writes 100,000 cells as dots into one ImageData, in their class colour', () => {
    const overlay = new CellOverlay();
    const cells = Array.from({ length: 100_000 }, (_, i) => annotation(i + 1, { shape: 'point', x: 5 + (i % 400) * 3.4, y: 5 + Math.floor(i / 400) * 3.5 }));
    overlay.setAnnotations(cells, () => '#0000ff');
    const context = new RecordingContext();
    const stats = overlay.draw(context as unknown as OverlayContext, identity, 1400, 900);
    expect(stats.levelOfDetail).toBe('dots');
    expect(stats.paintCalls).toBe(1);
    expect(context.arcs + context.rects).toBe(0);
    const pixels = new Uint32Array(context.putPixels!.buffer);
    const at = (x: number, y: number) => pixels[y * 1400 + x];
    expect(at(5, 5)).toBe(pixelOf('#0000ff'));
    expect(at(0, 0)).toBe(0);
  });

  it('draws circles, rectangles and polygons as outlines, one path per colour', () => {
    const overlay = new CellOverlay();
    overlay.setAnnotations(
      [
        annotation(1, { shape: 'circle', x: 200, y: 200, radius: 50 }),
        annotation(2, { shape: 'rectangle', x: 400, y: 100, width: 100, height: 80 }),
        annotation(3, { shape: 'polygon', points: [[600, 100], [700, 120], [650, 200]] }),
        annotation(4, { shape: 'rectangle', x: 90_000, y: 0, width: 10, height: 10 }),
      ],
      () => '#123456',
    );
    const context = new RecordingContext();
    const stats = overlay.draw(context as unknown as OverlayContext, identity, 1400, 900);
    expect(stats.regionsDrawn).toBe(3);
    expect(context.arcs).toBe(1);
    expect(context.rects).toBe(1);
    expect(context.painted('stroke')).toHaveLength(2);
  });

  it('draws point cells straight from parallel arrays, asking the colour of each distinct key once', () => {
    const overlay = new CellOverlay();
    const count = 1000;
    const xs = Float64Array.from({ length: count }, (_, i) => 20 + (i % 40) * 30);
    const ys = Float64Array.from({ length: count }, (_, i) => 20 + Math.floor(i / 40) * 30);
    const keys = Int32Array.from({ length: count }, (_, i) => (i % 4) - 1);
    const asked: number[] = [];
    const colourOfKey = (key: number) => {
      asked.push(key);
      return key === -1 ? '#f59f00' : key === 0 ? '#868e96' : key === 1 ? '#ff0000' : '#00ff00';
    };
    const region = annotation(5000, { shape: 'rectangle', x: 100, y: 100, width: 200, height: 100 });
    overlay.setCells({ xs, ys, keys }, [region], colourOfKey, () => '#ff0000');
    expect(asked.sort()).toEqual([-1, 0, 1, 2]);
    expect(overlay.cellCount).toBe(count);
    expect(overlay.regionCount).toBe(1);
    const context = new RecordingContext();
    const stats = overlay.draw(context as unknown as OverlayContext, { zoom: 0.5, offsetX: 0, offsetY: 0 }, 1400, 900);
    expect(stats.levelOfDetail).toBe('squares');
    expect(stats.cellsDrawn).toBe(count);
    expect(stats.regionsDrawn).toBe(1);
    // One fill per key's colour; the region shares the red of key 1 (one halo and one colour stroke).
    expect(context.painted('fill').map((call) => call.style).sort()).toEqual(['#00ff00', '#868e96', '#f59f00', '#ff0000']);
    expect(context.painted('stroke').map((call) => call.style)).toEqual(['rgba(255, 255, 255, 0.9)', '#ff0000']);
  });

  it('turns colours into ImageData pixels (RGBA in memory)', () => {
    const bytes = new Uint8Array(new Uint32Array([pixelOf('#102030')]).buffer);
    expect([...bytes]).toEqual([0x10, 0x20, 0x30, 0xff]);
  });
});
