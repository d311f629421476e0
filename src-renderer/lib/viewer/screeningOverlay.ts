import type { AnnotationGeometry } from '../../../src-main/contract/schemas';

/** Level-0 pixels to overlay pixels: screen = level0 × zoom + offset. */
export interface LevelZeroToScreen {
  zoom: number;
  offsetX: number;
  offsetY: number;
}

export interface ScreenRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Field {
  index: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

const VISITED_FILL = 'rgba(47, 158, 68, 0.16)';
const UNVISITED_FILL = 'rgba(240, 140, 0, 0.14)';
const GRID_STROKE = 'rgba(30, 36, 48, 0.35)';
const CURRENT_STROKE = '#1c7ed6';
const COUNT_STROKE = '#c2255c';

export function toScreen(rect: { x: number; y: number; width: number; height: number }, transform: LevelZeroToScreen): ScreenRect {
  return {
    x: rect.x * transform.zoom + transform.offsetX,
    y: rect.y * transform.zoom + transform.offsetY,
    width: rect.width * transform.zoom,
    height: rect.height * transform.zoom,
  };
}

function onScreen(rect: ScreenRect, width: number, height: number): boolean {
  return rect.x + rect.width >= 0 && rect.y + rect.height >= 0 && rect.x <= width && rect.y <= height;
}

/**
 * The screening grid: visited fields tinted green, unvisited amber, the current field outlined
 * (not tinted, so the field being looked at keeps its colours).
 */
export function drawFields(
  context: CanvasRenderingContext2D,
  fields: readonly Field[],
  visited: ReadonlySet<number>,
  currentIndex: number,
  transform: LevelZeroToScreen,
): void {
  const { width, height } = context.canvas;
  context.lineWidth = 1;
  context.strokeStyle = GRID_STROKE;
  for (const field of fields) {
    const rect = toScreen(field, transform);
    if (!onScreen(rect, width, height)) continue;
    if (field.index !== currentIndex) {
      context.fillStyle = visited.has(field.index) ? VISITED_FILL : UNVISITED_FILL;
      context.fillRect(rect.x, rect.y, rect.width, rect.height);
    }
    if (rect.width > 4) context.strokeRect(rect.x + 0.5, rect.y + 0.5, rect.width - 1, rect.height - 1);
  }
  const current = fields[currentIndex];
  if (current) {
    const rect = toScreen(current, transform);
    context.lineWidth = 3;
    context.strokeStyle = CURRENT_STROKE;
    context.strokeRect(rect.x + 1.5, rect.y + 1.5, Math.max(rect.width - 3, 1), Math.max(rect.height - 3, 1));
  }
}

export function tracePath(context: CanvasRenderingContext2D, geometry: AnnotationGeometry, transform: LevelZeroToScreen): void {
  const at = (x: number, y: number): [number, number] => [x * transform.zoom + transform.offsetX, y * transform.zoom + transform.offsetY];
  context.beginPath();
  switch (geometry.shape) {
    case 'point':
      break;
    case 'rectangle': {
      const rect = toScreen(geometry, transform);
      context.rect(rect.x, rect.y, rect.width, rect.height);
      break;
    }
    case 'circle': {
      const [x, y] = at(geometry.x, geometry.y);
      context.arc(x, y, geometry.radius * transform.zoom, 0, 2 * Math.PI);
      break;
    }
    case 'polygon':
      geometry.points.forEach(([px, py], index) => {
        const [x, y] = at(px, py);
        if (index === 0) context.moveTo(x, y);
        else context.lineTo(x, y);
      });
      context.closePath();
      break;
  }
}

/** A region (screening ROI): dashed outline. */
export function drawRegion(context: CanvasRenderingContext2D, geometry: AnnotationGeometry, transform: LevelZeroToScreen): void {
  context.save();
  context.setLineDash([8, 6]);
  context.lineWidth = 2;
  context.strokeStyle = CURRENT_STROKE;
  tracePath(context, geometry, transform);
  context.stroke();
  context.restore();
}

/**
 * The counting area with its label (count and area) above its top-right corner, away from the
 * viewer's toolbars at the top left.
 */
export function drawCountArea(context: CanvasRenderingContext2D, geometry: AnnotationGeometry, label: string, transform: LevelZeroToScreen): void {
  context.save();
  context.lineWidth = 3;
  context.strokeStyle = COUNT_STROKE;
  tracePath(context, geometry, transform);
  context.stroke();
  const bounds = boundsOnScreen(geometry, transform);
  context.font = '600 14px system-ui, sans-serif';
  const textWidth = context.measureText(label).width;
  const x = Math.min(Math.max(bounds.x + bounds.width - textWidth - 10, 4), context.canvas.width - textWidth - 14);
  const y = Math.max(bounds.y - 24, 4);
  context.fillStyle = 'rgba(255, 255, 255, 0.92)';
  context.fillRect(x, y, textWidth + 10, 20);
  context.fillStyle = COUNT_STROKE;
  context.fillText(label, x + 5, y + 15);
  context.restore();
}

function boundsOnScreen(geometry: AnnotationGeometry, transform: LevelZeroToScreen): ScreenRect {
  switch (geometry.shape) {
    case 'point':
      return toScreen({ x: geometry.x, y: geometry.y, width: 0, height: 0 }, transform);
    case 'rectangle':
      return toScreen(geometry, transform);
    case 'circle':
      return toScreen({ x: geometry.x - geometry.radius, y: geometry.y - geometry.radius, width: 2 * geometry.radius, height: 2 * geometry.radius }, transform);
    case 'polygon': {
      const xs = geometry.points.map(([x]) => x);
      const ys = geometry.points.map(([, y]) => y);
      const minX = Math.min(...xs);
      const minY = Math.min(...ys);
      return toScreen({ x: minX, y: minY, width: Math.max(...xs) - minX, height: Math.max(...ys) - minY }, transform);
    }
  }
}
