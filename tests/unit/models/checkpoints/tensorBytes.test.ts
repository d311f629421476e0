import { describe, expect, it } from 'vitest';
import { isContiguous, materialiseView, viewExtent } from '../../../../src-main/services/models/checkpoints/tensorBytes';

/** The element of a view at a row-major position, by the definition of strides. */
function naiveView(source: Float32Array, shape: number[], stride: number[]): number[] {
  const count = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: count }, (_, flat) => {
    let rest = flat;
    let offset = 0;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      offset += (rest % shape[axis]!) * stride[axis]!;
      rest = Math.floor(rest / shape[axis]!);
    }
    return source[offset]!;
  });
}

describe('strided views', () => {
  const source = Float32Array.from({ length: 120 }, (_, i) => i);
  const views: [number[], number[]][] = [
    [[4, 3], [1, 4]],
    [[2, 3, 2], [40, 1, 3]],
    [[3, 2, 4], [30, 10, 1]],
    [[2, 5], [0, 1]],
    [[5], [7]],
    [[], []],
    [[2, 0, 3], [1, 1, 1]],
  ];
  it('copies every view in row-major order, whole rows or element by element', () => {
    for (const [shape, stride] of views) {
      const extent = viewExtent(shape, stride);
      const bytes = new Uint8Array(source.buffer, 0, Math.max(extent, 0) * 4);
      const copied = new Float32Array(materialiseView(bytes, 4, shape, stride).buffer);
      expect([...copied], `${shape} / ${stride}`).toEqual(naiveView(source, shape, stride));
    }
  });

  it('treats size-1 axes as contiguous whatever their stride', () => {
    expect(isContiguous([1, 4], [99, 1])).toBe(true);
    expect(isContiguous([2, 4], [4, 1])).toBe(true);
    expect(isContiguous([4, 2], [1, 4])).toBe(false);
    expect(isContiguous([0, 3], [7, 7])).toBe(true);
  });
});
