/**
 * Optical magnification equivalent to showing one level-0 pixel on `screenPixelsPerImagePixel`
 * screen pixels. Without an objective power, 0.25 µm/px is taken as 40×, the usual scanner
 * convention; without either, null.
 */
export function magnificationAt(
  screenPixelsPerImagePixel: number,
  objectivePower: number | null,
  mpp: number | null,
): number | null {
  const nativeMagnification = objectivePower ?? (mpp ? 10 / mpp : null);
  return nativeMagnification === null ? null : nativeMagnification * screenPixelsPerImagePixel;
}

/** The image zoom (screen px per level-0 px) that shows a slide at `magnification`. */
export function zoomForMagnification(magnification: number, objectivePower: number | null, mpp: number | null): number | null {
  const nativeMagnification = objectivePower ?? (mpp ? 10 / mpp : null);
  return nativeMagnification === null ? null : magnification / nativeMagnification;
}

export function formatMagnification(magnification: number): string {
  const rounded = magnification >= 10 ? Math.round(magnification) : Math.round(magnification * 10) / 10;
  return `${rounded}×`;
}

export interface ScaleBar {
  lengthMicrometres: number;
  lengthScreenPixels: number;
  label: string;
}

/**
 * The longest "round" length (1, 2 or 5 × 10^k µm) whose bar fits in `maxScreenPixels`,
 * for a view where one screen pixel spans `micrometresPerScreenPixel`.
 */
export function scaleBarFor(micrometresPerScreenPixel: number, maxScreenPixels = 160): ScaleBar | null {
  if (!(micrometresPerScreenPixel > 0) || !Number.isFinite(micrometresPerScreenPixel)) return null;
  const maxMicrometres = micrometresPerScreenPixel * maxScreenPixels;
  const exponent = Math.floor(Math.log10(maxMicrometres));
  let best = 10 ** exponent;
  for (const step of [2, 5]) {
    const candidate = step * 10 ** exponent;
    if (candidate <= maxMicrometres) best = candidate;
  }
  const lengthMicrometres = Number(best.toPrecision(3));
  const label = lengthMicrometres >= 1000 ? `${lengthMicrometres / 1000} mm` : `${lengthMicrometres} µm`;
  return { lengthMicrometres, lengthScreenPixels: lengthMicrometres / micrometresPerScreenPixel, label };
}

/** Keyboard zoom presets (key → magnification); 0 shows the whole slide. */
export const MAGNIFICATION_PRESETS: Readonly<Record<string, number>> = {
  '1': 1.25,
  '2': 5,
  '3': 10,
  '4': 20,
  '5': 40,
};

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
