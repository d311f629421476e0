import type { AnnotationInfo } from '../../../src-main/contract/schemas';

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
 * Draws every annotation in view on one 2-D canvas (a DOM node per cell would not scale to
 * thousands). The selection is not drawn here: it lives in the DOM above this layer.
 */
export function drawAnnotations(
  context: CanvasRenderingContext2D,
  annotations: readonly AnnotationInfo[],
  transform: ImageToScreen,
  colourOf: (annotation: AnnotationInfo) => string,
): void {
  const { zoom, offsetX, offsetY } = transform;
  const radius = Math.max(MIN_MARKER_RADIUS_PX, CELL_RADIUS_PX * zoom);
  for (const annotation of annotations) {
    const x = annotation.centre.x * zoom + offsetX;
    const y = annotation.centre.y * zoom + offsetY;
    context.beginPath();
    context.arc(x, y, radius, 0, 2 * Math.PI);
    // A white halo under the class colour keeps markers visible on any stain.
    context.lineWidth = 4;
    context.strokeStyle = 'rgba(255, 255, 255, 0.9)';
    context.stroke();
    context.lineWidth = 2;
    context.strokeStyle = colourOf(annotation);
    context.stroke();
  }
}
