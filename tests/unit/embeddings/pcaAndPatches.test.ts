import { describe, expect, it } from 'vitest';
import { IMAGENET_MEAN, modelKey, normaliseInto, patchParameters } from '../../../src-main/services/embeddings/patches';
import { pca2 } from '../../../src-main/services/embeddings/pca';
import type { ModelConfig } from '../../../src-main/contract/modelsSchemas';

function config(changes: Partial<ModelConfig>): ModelConfig {
  return {
    architecture: 'test',
    inputName: 'pixels',
    inputShape: [1, 3, 32, 32],
    imageSize: 32,
    patchSize: null,
    dim: null,
    depth: null,
    heads: null,
    mlp: null,
    mean: null,
    std: null,
    interpolation: null,
    umPerPixel: null,
    embeddingRule: null,
    embeddingSize: null,
    ...changes,
  };
}

describe('PCA', () => {
  it('finds the axes of an axis-aligned cross: variances 8/3 and 2/3, 80 % and 20 %', () => {
    const data = [
      [2, 0],
      [-2, 0],
      [0, 1],
      [0, -1],
    ].map((row) => Float32Array.from(row));
    const result = pca2(data, 2);
    expect([...result.components[0]].map((v) => +v.toFixed(9) + 0)).toEqual([1, 0]);
    expect([...result.components[1]].map((v) => +v.toFixed(9) + 0)).toEqual([0, 1]);
    expect(result.variances[0]).toBeCloseTo(8 / 3, 9);
    expect(result.variances[1]).toBeCloseTo(2 / 3, 9);
    expect(result.explained[0]).toBeCloseTo(0.8, 9);
    expect(result.explained[1]).toBeCloseTo(0.2, 9);
    const rounded = result.points.map(([x, y]) => [+x.toFixed(6) + 0, +y.toFixed(6) + 0]);
    expect(rounded).toEqual([
      [2, 0],
      [-2, 0],
      [0, 1],
      [0, -1],
    ]);
  });

  it('finds a diagonal first axis of shifted data: (1, 1)/√2, projections ±3√2, then (1, −1)/√2', () => {
    const data = [
      [13, 3],
      [7, -3],
      [11, -1],
      [9, 1],
    ].map((row) => Float32Array.from(row));
    const result = pca2(data, 2);
    const s = Math.SQRT1_2;
    expect(result.components[0][0]).toBeCloseTo(s, 9);
    expect(result.components[0][1]).toBeCloseTo(s, 9);
    expect(result.components[1][0]).toBeCloseTo(s, 9);
    expect(result.components[1][1]).toBeCloseTo(-s, 9);
    expect(result.points.map(([x]) => x)).toEqual([3 * Math.SQRT2, -3 * Math.SQRT2, 0, 0].map((v) => expect.closeTo(v, 9)));
    expect(result.points.map(([, y]) => y)).toEqual([0, 0, Math.SQRT2, -Math.SQRT2].map((v) => expect.closeTo(v, 9)));
  });

  it('gives no points for no vectors, and refuses vectors of the wrong width', () => {
    expect(pca2([], 4).points).toEqual([]);
    expect(() => pca2([new Float32Array(3), new Float32Array(4)], 3)).toThrow(/4 values, not 3/);
  });
});

describe('patch parameters and normalisation', () => {
  it('uses the model’s size, µm per pixel, interpolation and mean/std, with stated defaults', () => {
    const stated = patchParameters({ name: 'm', config: config({ umPerPixel: 0.25, interpolation: 'bilinear', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }) });
    expect(stated).toMatchObject({ width: 32, height: 32, umPerPixel: 0.25, interpolation: 'bilinear', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    const defaults = patchParameters({ name: 'm', config: config({}) });
    expect(defaults).toMatchObject({ umPerPixel: 0.5, interpolation: 'bicubic', mean: [...IMAGENET_MEAN] });
    expect(stated.key).not.toBe(defaults.key);
    expect(modelKey({ fileHash: 'abc', embeddingOutput: 'embedding' })).toBe('abc:embedding');
    expect(() => patchParameters({ name: 'grey', config: config({ inputShape: [1, 1, 32, 32] }) })).toThrow(/model "grey" takes input \[1,1,32,32\]/);
    // The PaddleOCR classifier takes 192 × 48 patches: not square, named apart in the cache.
    const wide = patchParameters({ name: 'ocr', config: config({ inputShape: [1, 3, 48, 192] }) });
    expect(wide).toMatchObject({ width: 192, height: 48 });
    expect(wide.key).toMatch(/^size=192x48;/);
  });

  it('writes (value / 255 − mean) / std into NCHW planes at the image index', () => {
    const size = 2;
    const rgb = Uint8Array.from([255, 0, 51, 0, 255, 102, 255, 255, 0, 0, 0, 255]);
    const target = new Float32Array(2 * 3 * size * size).fill(99);
    normaliseInto(target, 1, rgb, size, size, [0.5, 0.5, 0], [0.5, 0.25, 1]);
    expect([...target.subarray(0, 12)]).toEqual(new Array(12).fill(99));
    const planes = [...target.subarray(12)];
    expect(planes.slice(0, 4)).toEqual([1, -1, 1, -1]);
    expect(planes.slice(4, 8)).toEqual([-2, 2, 2, -2]);
    expect(planes.slice(8, 12).map((v) => +v.toFixed(6))).toEqual([0.2, 0.4, 0, 1]);
    expect(() => normaliseInto(target, 0, rgb.subarray(1), size, size, [0, 0, 0], [1, 1, 1])).toThrow(/has 12 bytes, not 11/);
  });
});
