/**
 * Resampling of a ViT's absolute position embedding to another patch grid, computed as PyTorch's
 * `F.interpolate(mode='bicubic', align_corners=False)` does (MODELS.md, semantics 6–8):
 * - with `antialias: true` (timm `resample_abs_pos_embed`, HF Dinov2WithRegisters): the
 *   PIL-style kernel with a = −0.5, stretched by in/out when downsampling, taps outside the
 *   grid dropped and the weights renormalised;
 * - with `antialias: false` (HF ViTModel, HF Dinov2Model): cubic convolution with a = −0.75,
 *   four taps, edge indices clamped.
 * Prefix entries (class token, registers) are copied unchanged. Computed in float64.
 */
export interface PositionResampling {
  readonly antialias: boolean;
}

interface Taps {
  readonly first: number;
  readonly weights: Float64Array;
}

function cubicKernel(x: number, a: number): number {
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

/** Source indices and weights of each output index along one axis, without antialiasing. */
function plainTaps(inSize: number, outSize: number): Taps[] {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, i) => {
    const source = scale * (i + 0.5) - 0.5;
    const floor = Math.floor(source);
    const t = source - floor;
    // Indices floor−1 … floor+2, clamped to the edge: expressed as a dense weight row.
    const weights = new Float64Array(inSize);
    for (let k = -1; k <= 2; k++) {
      const index = Math.min(Math.max(floor + k, 0), inSize - 1);
      weights[index]! += cubicKernel(t - k, -0.75);
    }
    return { first: 0, weights };
  });
}

/** PIL-style antialiased taps, as ATen's `_compute_indices_min_size_weights_aa` builds them. */
function antialiasedTaps(inSize: number, outSize: number): Taps[] {
  const scale = inSize / outSize;
  const support = scale >= 1 ? 2 * scale : 2;
  const inverse = scale >= 1 ? 1 / scale : 1;
  return Array.from({ length: outSize }, (_, i) => {
    const center = scale * (i + 0.5);
    const first = Math.max(Math.trunc(center - support + 0.5), 0);
    const last = Math.min(Math.trunc(center + support + 0.5), inSize);
    const weights = new Float64Array(last - first);
    let total = 0;
    for (let j = 0; j < weights.length; j++) {
      weights[j] = cubicKernel((j + first - center + 0.5) * inverse, -0.5);
      total += weights[j]!;
    }
    if (total !== 0) for (let j = 0; j < weights.length; j++) weights[j]! /= total;
    return { first, weights };
  });
}

function axisTaps(inSize: number, outSize: number, resampling: PositionResampling): Taps[] {
  return resampling.antialias ? antialiasedTaps(inSize, outSize) : plainTaps(inSize, outSize);
}

/**
 * `values` holds [prefixTokens + inGrid², dim] row-major (the leading 1 of [1, L, D] dropped);
 * the result holds [prefixTokens + outGrid², dim]. Square grids only.
 */
export function resamplePositionEmbedding(
  values: ArrayLike<number>,
  dim: number,
  prefixTokens: number,
  inGrid: number,
  outGrid: number,
  resampling: PositionResampling,
): Float64Array {
  const expected = (prefixTokens + inGrid * inGrid) * dim;
  if (values.length !== expected) {
    throw new Error(`position embedding has ${values.length} values, expected (${prefixTokens} + ${inGrid}²) × ${dim} = ${expected}`);
  }
  const out = new Float64Array((prefixTokens + outGrid * outGrid) * dim);
  for (let i = 0; i < prefixTokens * dim; i++) out[i] = values[i]!;
  if (inGrid === outGrid) {
    for (let i = prefixTokens * dim; i < expected; i++) out[i] = values[i]!;
    return out;
  }
  const taps = axisTaps(inGrid, outGrid, resampling);
  const base = prefixTokens * dim;
  // Rows first (x within each input row), then columns, as ATen's separable passes.
  const horizontal = new Float64Array(inGrid * outGrid * dim);
  for (let y = 0; y < inGrid; y++) {
    for (let x = 0; x < outGrid; x++) {
      const { first, weights } = taps[x]!;
      const target = (y * outGrid + x) * dim;
      for (let j = 0; j < weights.length; j++) {
        const w = weights[j]!;
        if (w === 0) continue;
        const source = base + (y * inGrid + first + j) * dim;
        for (let d = 0; d < dim; d++) horizontal[target + d]! += w * values[source + d]!;
      }
    }
  }
  for (let y = 0; y < outGrid; y++) {
    const { first, weights } = taps[y]!;
    for (let x = 0; x < outGrid; x++) {
      const target = base + (y * outGrid + x) * dim;
      for (let j = 0; j < weights.length; j++) {
        const w = weights[j]!;
        if (w === 0) continue;
        const source = ((first + j) * outGrid + x) * dim;
        for (let d = 0; d < dim; d++) out[target + d]! += w * horizontal[source + d]!;
      }
    }
  }
  return out;
}
