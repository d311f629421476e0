import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resamplePositionEmbedding } from '../../../../src-main/services/models/architecture/positionEmbedding';
import { SafetensorsFile } from '../../../../src-main/services/models/safetensors';
import { expectClose } from '../../graph/ortHarness';

/** torch `F.interpolate(bicubic, align_corners=False)` outputs, from tools/reference/vit/make_golden.py. */
const RESAMPLE = path.join(import.meta.dirname, 'golden', 'resample.safetensors');

/** [1, C, g, g] (NCHW) → [g², C] (token-major, as a position embedding is stored). */
function tokensOf(nchw: ArrayLike<number>, channels: number, grid: number): Float64Array {
  const out = new Float64Array(grid * grid * channels);
  for (let c = 0; c < channels; c++) for (let i = 0; i < grid * grid; i++) out[i * channels + c] = nchw[c * grid * grid + i]!;
  return out;
}

describe('position-embedding resampling', () => {
  for (const antialias of [true, false]) {
    for (const size of [7, 3]) {
      it(`matches torch bicubic 4×4 → ${size}×${size} ${antialias ? 'with' : 'without'} antialias`, async () => {
        const file = await SafetensorsFile.open(RESAMPLE);
        try {
          const input = tokensOf((await file.read('grid_4')) as Float32Array, 3, 4);
          const expected = tokensOf((await file.read(`grid_${size}_${antialias ? 'aa' : 'plain'}`)) as Float32Array, 3, size);
          expectClose(resamplePositionEmbedding(input, 3, 0, 4, size, { antialias }), expected, 1e-5, 0);
        } finally {
          await file.close();
        }
      });
    }
  }

  it('keeps the prefix entries and returns an unchanged grid as it is', () => {
    const values = Float64Array.from({ length: (2 + 9) * 2 }, (_, i) => i * 0.5 - 3);
    const same = resamplePositionEmbedding(values, 2, 2, 3, 3, { antialias: true });
    expect([...same]).toEqual([...values]);
    const larger = resamplePositionEmbedding(values, 2, 2, 3, 5, { antialias: true });
    expect(larger.length).toBe((2 + 25) * 2);
    expect([...larger.subarray(0, 4)]).toEqual([...values.subarray(0, 4)]);
  });

  it('refuses a length that does not fit prefix + grid²', () => {
    expect(() => resamplePositionEmbedding(new Float64Array(10), 2, 1, 3, 4, { antialias: false })).toThrow('expected (1 + 3²) × 2 = 20');
  });
});
