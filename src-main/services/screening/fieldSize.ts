import { ScreeningError } from './ScreeningError';

/**
 * How big one screening field is:
 * - 'magnification': what the viewer shows at that magnification in a viewport of the given
 *   screen size (the viewer's convention: the objective power, else 10 / mpp, is the native
 *   magnification at one screen pixel per level-0 pixel);
 * - 'micrometres': a field of that size on the tissue (needs the slide's µm per pixel);
 * - 'pixels': level-0 pixels, for slides that carry neither an objective power nor a pixel size.
 */
export type FieldSpec =
  | { kind: 'magnification'; magnification: number; viewportWidthPx: number; viewportHeightPx: number }
  | { kind: 'micrometres'; widthUm: number; heightUm: number }
  | { kind: 'pixels'; widthPx: number; heightPx: number };

export interface SlideScale {
  name: string;
  mppX: number | null;
  mppY: number | null;
  objectivePower: number | null;
}

export interface FieldSizePx {
  width: number;
  height: number;
}

/** The field's size in level-0 pixels; throws ScreeningError when the slide lacks the scale it needs. */
export function fieldSizePx(spec: FieldSpec, slide: SlideScale): FieldSizePx {
  switch (spec.kind) {
    case 'magnification': {
      const native = slide.objectivePower ?? (slide.mppX ? 10 / slide.mppX : null);
      if (native === null) {
        throw new ScreeningError(
          'invalid-argument',
          'fieldSpec.magnification',
          `${slide.name} records neither an objective power nor µm per pixel, so ${spec.magnification}× has no size on it; screen with fields the size of the current view (level-0 pixels) instead`,
        );
      }
      const levelZeroPerScreenPixel = native / spec.magnification;
      return { width: spec.viewportWidthPx * levelZeroPerScreenPixel, height: spec.viewportHeightPx * levelZeroPerScreenPixel };
    }
    case 'micrometres': {
      const mppX = slide.mppX;
      const mppY = slide.mppY ?? slide.mppX;
      if (!mppX || !mppY) {
        throw new ScreeningError(
          'invalid-argument',
          'fieldSpec.widthUm',
          `${slide.name} records no µm per pixel, so a field of ${spec.widthUm} × ${spec.heightUm} µm has no size on it; screen with fields the size of the current view (level-0 pixels) instead`,
        );
      }
      return { width: spec.widthUm / mppX, height: spec.heightUm / mppY };
    }
    case 'pixels':
      return { width: spec.widthPx, height: spec.heightPx };
  }
}
