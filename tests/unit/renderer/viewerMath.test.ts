import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatMagnification,
  magnificationAt,
  scaleBarFor,
  zoomForMagnification,
} from '../../../src-renderer/lib/viewer/viewerMath';

describe('magnification', () => {
  it('is the objective power at one screen pixel per slide pixel', () => {
    expect(magnificationAt(1, 40, 0.25)).toBe(40);
    expect(magnificationAt(0.5, 20, 0.5)).toBe(10);
  });
  it('falls back to the 0.25 µm/px = 40× convention without an objective power', () => {
    expect(magnificationAt(1, null, 0.25)).toBeCloseTo(40);
    expect(magnificationAt(1, null, null)).toBeNull();
  });
  it('round-trips through the zoom of a preset', () => {
    const zoom = zoomForMagnification(10, 20, 0.499)!;
    expect(magnificationAt(zoom, 20, 0.499)).toBeCloseTo(10);
  });
  it('prints whole numbers above 10× and one decimal below', () => {
    expect(formatMagnification(39.6)).toBe('40×');
    expect(formatMagnification(1.25)).toBe('1.3×');
  });
});

describe('scale bar', () => {
  it('picks the longest 1-2-5 length that fits', () => {
    // 0.5 µm per screen pixel, 160 px max → 80 µm available → 50 µm bar of 100 px.
    expect(scaleBarFor(0.5)).toEqual({ lengthMicrometres: 50, lengthScreenPixels: 100, label: '50 µm' });
  });
  it('switches to millimetres', () => {
    expect(scaleBarFor(20)?.label).toBe('2 mm');
  });
  it('refuses a view without a scale', () => {
    expect(scaleBarFor(Number.NaN)).toBeNull();
    expect(scaleBarFor(0)).toBeNull();
  });
});

describe('file sizes', () => {
  it('reads like a file manager', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1_938_955)).toBe('1.8 MB');
  });
});
