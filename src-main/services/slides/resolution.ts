const MICROMETRES_PER_INCH = 25_400;
const MICROMETRES_PER_CENTIMETRE = 10_000;

export type ResolutionUnit = 'inch' | 'centimetre';

/**
 * Micrometres per pixel from a resolution in pixels per inch or per centimetre, as TIFF tags
 * and image headers store it. 72 dpi and libvips' 1 pixel/mm are what writers put there when
 * the source had no resolution, so they mean "unknown" (null), as does anything non-positive.
 * Every reader uses this, so a slide has the same scale whichever reader opens it.
 */
export function micrometresPerPixel(pixelsPerUnit: number | null | undefined, unit: ResolutionUnit | null): number | null {
  if (unit === null || !pixelsPerUnit || !Number.isFinite(pixelsPerUnit) || pixelsPerUnit <= 0) return null;
  const micrometresPerUnit = unit === 'inch' ? MICROMETRES_PER_INCH : MICROMETRES_PER_CENTIMETRE;
  const pixelsPerMillimetre = (pixelsPerUnit * 1000) / micrometresPerUnit;
  const isOnePixelPerMillimetre = Math.abs(pixelsPerMillimetre - 1) < 1e-6;
  const isSeventyTwoDpi = Math.abs(pixelsPerMillimetre - 72 / 25.4) < 1e-6;
  if (isOnePixelPerMillimetre || isSeventyTwoDpi) return null;
  return micrometresPerUnit / pixelsPerUnit;
}

/** TIFF's ResolutionUnit tag: 2 = inch, 3 = centimetre, anything else has no physical unit. */
export function tiffResolutionUnit(tagValue: number): ResolutionUnit | null {
  return tagValue === 2 ? 'inch' : tagValue === 3 ? 'centimetre' : null;
}
