import type { AnnotationGeometry, AnnotationInfo } from '../../../src-main/contract/schemas';

/** Level-0 radius of a cell marker: MIDOG's 50-px box around the centre. */
export const CELL_RADIUS_PX = 25;
export const MIN_MARKER_RADIUS_PX = 4;

/** Screen position of a level-0 point: screen = level0 * zoom + offset (no rotation in the viewer). */
export interface ImageToScreen {
  /** Screen pixels per level-0 pixel. */
  zoom: number;
  offsetX: number;
  offsetY: number;
}

/**
 * How cells are drawn: rings (class-coloured circles with a white halo) while they stay apart;
 * small filled squares once rings would pile up; one-pixel-ish dots written straight into
 * ImageData when there are too many for any path to stay within a frame.
 */
export type LevelOfDetail = 'rings' | 'squares' | 'dots';

/** At most this many rings (two strokes of one path per colour) per frame. */
export const MAX_RINGS = 3000;
/** At most this many squares (one fill of one path per colour) per frame. */
export const MAX_SQUARES = 12000;
/** Rings give way to squares when their discs would cover more than this share of the screen. */
export const MAX_RING_COVERAGE = 0.25;

/** The drawing for `visibleCells` cells of `radiusPx` screen pixels on a `width` × `height` screen. */
export function chooseLevelOfDetail(visibleCells: number, radiusPx: number, width: number, height: number): LevelOfDetail {
  const area = Math.max(1, width * height);
  const coverage = (visibleCells * Math.PI * radiusPx * radiusPx) / area;
  if (visibleCells <= MAX_RINGS && coverage <= MAX_RING_COVERAGE) return 'rings';
  if (visibleCells <= MAX_SQUARES) return 'squares';
  return 'dots';
}

/** What one frame drew (for tests and the benchmark). */
export interface FrameStats {
  levelOfDetail: LevelOfDetail;
  cellsDrawn: number;
  regionsDrawn: number;
  /** Stroke and fill calls (one or two per colour in use). */
  paintCalls: number;
  /** Milliseconds the draw took (filled in by the caller that times it). */
  drawMs?: number;
}

/** The subset of CanvasRenderingContext2D the overlay uses. */
export type OverlayContext = Pick<
  CanvasRenderingContext2D,
  | 'beginPath'
  | 'moveTo'
  | 'lineTo'
  | 'arc'
  | 'rect'
  | 'closePath'
  | 'stroke'
  | 'fill'
  | 'clearRect'
  | 'createImageData'
  | 'putImageData'
  | 'lineWidth'
  | 'strokeStyle'
  | 'fillStyle'
  | 'setLineDash'
>;

interface Region {
  geometry: AnnotationGeometry;
  colour: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

const HALO = 'rgba(255, 255, 255, 0.9)';

/** Point cells as parallel arrays (level-0 centres and a colour key per cell), as the viewer keeps them. */
export interface PointArrays {
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  keys: ArrayLike<number>;
}

/**
 * Every annotation in view on one 2-D canvas (a DOM node per cell would not scale to thousands;
 * the selection is drawn in the DOM above this layer). `setAnnotations` lays the cells out in
 * typed arrays grouped by colour, once per change of the cells in view; `draw` then runs each
 * frame without allocating per cell: cells off screen are skipped, each colour is one path.
 */
export class CellOverlay {
  private colours: string[] = [];
  private colourPixels = new Uint32Array(0);
  /** Cells grouped by colour: those of colour c are at [colourStart[c], colourStart[c + 1]). */
  private colourStart = new Int32Array(1);
  private cellX = new Float64Array(0);
  private cellY = new Float64Array(0);
  private regions: Region[] = [];
  private imageData: ImageData | null = null;
  private pixels: Uint32Array | null = null;

  get cellCount(): number {
    return this.cellX.length;
  }

  get regionCount(): number {
    return this.regions.length;
  }

  /** Full annotations, each coloured by `colourOf` (few cells: tests, small views). */
  setAnnotations(annotations: readonly AnnotationInfo[], colourOf: (annotation: AnnotationInfo) => string): void {
    const points = annotations.filter((annotation) => annotation.geometry.shape === 'point');
    const regions = annotations.filter((annotation) => annotation.geometry.shape !== 'point');
    const colourIds = new Map<string, number>();
    const keys = points.map((point) => {
      const colour = colourOf(point);
      if (!colourIds.has(colour)) colourIds.set(colour, colourIds.size);
      return colourIds.get(colour)!;
    });
    const colours = [...colourIds.keys()];
    const arrays = { xs: points.map((point) => point.centre.x), ys: points.map((point) => point.centre.y), keys };
    this.setCells(arrays, regions, (key) => colours[key]!, colourOf);
  }

  /**
   * Point cells straight from the viewer's arrays, coloured by key (`colourOfKey` is asked once
   * per distinct key), and the regions in full, coloured by `colourOfRegion`.
   */
  setCells(
    points: PointArrays,
    regionAnnotations: readonly AnnotationInfo[],
    colourOfKey: (key: number) => string,
    colourOfRegion: (annotation: AnnotationInfo) => string,
  ): void {
    const colourIndex = new Map<string, number>();
    const indexOf = (colour: string) => {
      let index = colourIndex.get(colour);
      if (index === undefined) {
        index = colourIndex.size;
        colourIndex.set(colour, index);
      }
      return index;
    };
    const count = points.xs.length;
    const keyColours = new Map<number, number>();
    const cellColours = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const key = points.keys[i]!;
      let colour = keyColours.get(key);
      if (colour === undefined) {
        colour = indexOf(colourOfKey(key));
        keyColours.set(key, colour);
      }
      cellColours[i] = colour;
    }
    const regions: Region[] = [];
    for (const annotation of regionAnnotations) {
      if (annotation.geometry.shape === 'point') continue;
      regions.push({ geometry: annotation.geometry, colour: indexOf(colourOfRegion(annotation)), ...boundsOfGeometry(annotation.geometry) });
    }
    this.colours = [...colourIndex.keys()];
    this.colourPixels = Uint32Array.from(this.colours, pixelOf);
    // Counting sort by colour.
    const start = new Int32Array(this.colours.length + 1);
    for (let i = 0; i < count; i++) start[cellColours[i]! + 1]! += 1;
    for (let c = 0; c < this.colours.length; c++) start[c + 1]! += start[c]!;
    const next = start.slice(0, this.colours.length);
    this.cellX = new Float64Array(count);
    this.cellY = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const slot = next[cellColours[i]!]!++;
      this.cellX[slot] = points.xs[i]!;
      this.cellY[slot] = points.ys[i]!;
    }
    this.colourStart = start;
    this.regions = regions;
  }

  /** Clears the canvas and draws the regions, then the cells at the level of detail that fits. */
  draw(context: OverlayContext, transform: ImageToScreen, width: number, height: number): FrameStats {
    const radius = Math.max(MIN_MARKER_RADIUS_PX, CELL_RADIUS_PX * transform.zoom);
    context.clearRect(0, 0, width, height);
    const visible = this.countVisible(transform, width, height, radius);
    const levelOfDetail = chooseLevelOfDetail(visible, radius, width, height);
    const stats: FrameStats = { levelOfDetail, cellsDrawn: 0, regionsDrawn: 0, paintCalls: 0 };
    // Dots replace the canvas's pixels, so they go first and the regions' outlines on top.
    if (levelOfDetail === 'dots') this.drawDots(context, transform, width, height, stats);
    this.drawRegions(context, transform, width, height, stats);
    if (levelOfDetail === 'rings') this.drawRings(context, transform, width, height, radius, stats);
    if (levelOfDetail === 'squares') this.drawSquares(context, transform, width, height, radius, stats);
    return stats;
  }

  private countVisible(transform: ImageToScreen, width: number, height: number, margin: number): number {
    const { zoom, offsetX, offsetY } = transform;
    const xs = this.cellX;
    const ys = this.cellY;
    let visible = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]! * zoom + offsetX;
      const y = ys[i]! * zoom + offsetY;
      if (x >= -margin && x <= width + margin && y >= -margin && y <= height + margin) visible++;
    }
    return visible;
  }

  private drawRings(context: OverlayContext, transform: ImageToScreen, width: number, height: number, radius: number, stats: FrameStats): void {
    for (let c = 0; c < this.colours.length; c++) {
      const drawn = this.traceCells(context, c, transform, width, height, radius, (x, y) => {
        context.moveTo(x + radius, y);
        context.arc(x, y, radius, 0, 2 * Math.PI);
      });
      if (drawn === 0) continue;
      // A white halo under the class colour keeps markers visible on any stain.
      context.lineWidth = 4;
      context.strokeStyle = HALO;
      context.stroke();
      context.lineWidth = 2;
      context.strokeStyle = this.colours[c]!;
      context.stroke();
      stats.cellsDrawn += drawn;
      stats.paintCalls += 2;
    }
  }

  private drawSquares(context: OverlayContext, transform: ImageToScreen, width: number, height: number, radius: number, stats: FrameStats): void {
    const side = Math.max(3, Math.min(8, radius));
    const half = side / 2;
    for (let c = 0; c < this.colours.length; c++) {
      const drawn = this.traceCells(context, c, transform, width, height, half, (x, y) => {
        context.rect(Math.round(x - half), Math.round(y - half), side, side);
      });
      if (drawn === 0) continue;
      context.fillStyle = this.colours[c]!;
      context.fill();
      stats.cellsDrawn += drawn;
      stats.paintCalls += 1;
    }
  }

  /**
   * Calls `trace` with the screen position of each cell of colour `c` within `margin` pixels of
   * the screen, after beginning a path; returns how many.
   */
  private traceCells(
    context: OverlayContext,
    c: number,
    { zoom, offsetX, offsetY }: ImageToScreen,
    width: number,
    height: number,
    margin: number,
    trace: (x: number, y: number) => void,
  ): number {
    const from = this.colourStart[c]!;
    const to = this.colourStart[c + 1]!;
    if (from === to) return 0;
    context.beginPath();
    let drawn = 0;
    for (let i = from; i < to; i++) {
      const x = this.cellX[i]! * zoom + offsetX;
      const y = this.cellY[i]! * zoom + offsetY;
      if (x < -margin || x > width + margin || y < -margin || y > height + margin) continue;
      trace(x, y);
      drawn++;
    }
    return drawn;
  }

  /** 3 × 3 pixel dots written into a reused ImageData: cost grows with cells, not with paths. */
  private drawDots(context: OverlayContext, transform: ImageToScreen, width: number, height: number, stats: FrameStats): void {
    const { zoom, offsetX, offsetY } = transform;
    if (!this.imageData || this.imageData.width !== width || this.imageData.height !== height) {
      this.imageData = context.createImageData(width, height);
      this.pixels = new Uint32Array(this.imageData.data.buffer);
    }
    const pixels = this.pixels!;
    pixels.fill(0);
    let drawn = 0;
    for (let c = 0; c < this.colours.length; c++) {
      const pixel = this.colourPixels[c]!;
      for (let i = this.colourStart[c]!; i < this.colourStart[c + 1]!; i++) {
        const x = Math.round(this.cellX[i]! * zoom + offsetX);
        const y = Math.round(this.cellY[i]! * zoom + offsetY);
        if (x < 1 || x >= width - 1 || y < 1 || y >= height - 1) continue;
        const row = (y - 1) * width + x;
        pixels[row - 1] = pixel;
        pixels[row] = pixel;
        pixels[row + 1] = pixel;
        pixels[row + width - 1] = pixel;
        pixels[row + width] = pixel;
        pixels[row + width + 1] = pixel;
        pixels[row + 2 * width - 1] = pixel;
        pixels[row + 2 * width] = pixel;
        pixels[row + 2 * width + 1] = pixel;
        drawn++;
      }
    }
    context.putImageData(this.imageData, 0, 0);
    stats.cellsDrawn += drawn;
    stats.paintCalls += 1;
  }

  private drawRegions(context: OverlayContext, transform: ImageToScreen, width: number, height: number, stats: FrameStats): void {
    if (this.regions.length === 0) return;
    const { zoom, offsetX, offsetY } = transform;
    for (let c = 0; c < this.colours.length; c++) {
      context.beginPath();
      let drawn = 0;
      for (const region of this.regions) {
        if (region.colour !== c) continue;
        if (
          region.maxX * zoom + offsetX < 0 ||
          region.minX * zoom + offsetX > width ||
          region.maxY * zoom + offsetY < 0 ||
          region.minY * zoom + offsetY > height
        ) {
          continue;
        }
        traceRegion(context, region.geometry, transform);
        drawn++;
      }
      if (drawn === 0) continue;
      context.setLineDash([]);
      context.lineWidth = 5;
      context.strokeStyle = HALO;
      context.stroke();
      context.setLineDash([10, 5]);
      context.lineWidth = 2.5;
      context.strokeStyle = this.colours[c]!;
      context.stroke();
      context.setLineDash([]);
      stats.regionsDrawn += drawn;
      stats.paintCalls += 2;
    }
  }
}

/** Adds a region's outline to the current path, in screen pixels. */
function traceRegion(context: OverlayContext, geometry: AnnotationGeometry, { zoom, offsetX, offsetY }: ImageToScreen): void {
  switch (geometry.shape) {
    case 'circle': {
      const x = geometry.x * zoom + offsetX;
      const y = geometry.y * zoom + offsetY;
      const radius = geometry.radius * zoom;
      context.moveTo(x + radius, y);
      context.arc(x, y, radius, 0, 2 * Math.PI);
      return;
    }
    case 'rectangle':
      context.rect(geometry.x * zoom + offsetX, geometry.y * zoom + offsetY, geometry.width * zoom, geometry.height * zoom);
      return;
    case 'polygon': {
      const points = geometry.points;
      context.moveTo(points[0]![0] * zoom + offsetX, points[0]![1] * zoom + offsetY);
      for (let i = 1; i < points.length; i++) context.lineTo(points[i]![0] * zoom + offsetX, points[i]![1] * zoom + offsetY);
      context.closePath();
      return;
    }
    case 'point':
      return;
  }
}

/** Level-0 bounds of a geometry. */
export function boundsOfGeometry(geometry: AnnotationGeometry): { minX: number; minY: number; maxX: number; maxY: number } {
  switch (geometry.shape) {
    case 'point':
      return { minX: geometry.x, minY: geometry.y, maxX: geometry.x, maxY: geometry.y };
    case 'circle':
      return { minX: geometry.x - geometry.radius, minY: geometry.y - geometry.radius, maxX: geometry.x + geometry.radius, maxY: geometry.y + geometry.radius };
    case 'rectangle':
      return { minX: geometry.x, minY: geometry.y, maxX: geometry.x + geometry.width, maxY: geometry.y + geometry.height };
    case 'polygon': {
      let minX = Infinity;
      let minY = Infinity;
      let maxX = -Infinity;
      let maxY = -Infinity;
      for (const [x, y] of geometry.points) {
        minX = Math.min(minX, x);
        minY = Math.min(minY, y);
        maxX = Math.max(maxX, x);
        maxY = Math.max(maxY, y);
      }
      return { minX, minY, maxX, maxY };
    }
  }
}

/** '#rrggbb' as an opaque ImageData pixel (RGBA bytes in memory, little-endian). */
export function pixelOf(colour: string): number {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  if (!match) return 0xff968e86; // '#868e96', the colour of a cell without a class
  const [r, g, b] = [match[1]!, match[2]!, match[3]!].map((hex) => parseInt(hex, 16)) as [number, number, number];
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}
