/** The first two principal components of a set of vectors, by power iteration with deflation. */
export interface PcaResult {
  /** Each vector's coordinates on the two components (centred data projected). */
  readonly points: [number, number][];
  /** The two unit component vectors; the sign makes each one's largest entry positive. */
  readonly components: [Float64Array, Float64Array];
  /** Variance along each component (divided by n − 1). */
  readonly variances: [number, number];
  /** Share of the total variance each component explains (0–1). */
  readonly explained: [number, number];
}

const MAX_ITERATIONS = 300;
/** Squared change of the unit vector between steps at which it counts as converged. */
const TOLERANCE = 1e-24;

/**
 * PCA on `vectors` (all of length `dims`) without forming the covariance matrix: each power
 * step computes Xᵀ(X v) on the centred data, so the cost is O(n·d) per step for any width.
 */
export function pca2(vectors: readonly Float32Array[], dims: number): PcaResult {
  const n = vectors.length;
  if (n === 0) return { points: [], components: [new Float64Array(dims), new Float64Array(dims)], variances: [0, 0], explained: [0, 0] };
  for (const vector of vectors) if (vector.length !== dims) throw new Error(`PCA: a vector has ${vector.length} values, not ${dims}`);
  const mean = new Float64Array(dims);
  for (const vector of vectors) for (let j = 0; j < dims; j++) mean[j]! += vector[j]!;
  for (let j = 0; j < dims; j++) mean[j]! /= n;
  const centred = vectors.map((vector) => Float64Array.from(vector, (value, j) => value - mean[j]!));
  let total = 0;
  for (const row of centred) for (const value of row) total += value * value;
  const denominator = Math.max(1, n - 1);

  const components: Float64Array[] = [];
  const variances: number[] = [];
  for (let k = 0; k < 2; k++) {
    const previous = components.slice();
    // Deterministic start, not orthogonal to a typical leading direction.
    let v: Float64Array = Float64Array.from({ length: dims }, (_, j) => 1 + ((j * 7919) % 13) / 13);
    orthogonalise(v, previous);
    let lambda = 0;
    if (normalise(v) > 0) {
      for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
        const next = covarianceTimes(centred, v, dims);
        orthogonalise(next, previous);
        const norm = normalise(next);
        if (norm === 0) {
          v = next;
          lambda = 0;
          break;
        }
        let change = 0;
        for (let j = 0; j < dims; j++) change += (next[j]! - v[j]!) ** 2;
        v = next;
        lambda = norm;
        if (change < TOLERANCE) break;
      }
    }
    let largest = 0;
    for (let j = 0; j < dims; j++) if (Math.abs(v[j]!) > Math.abs(v[largest]!) + 1e-12) largest = j;
    if (v[largest]! < 0) for (let j = 0; j < dims; j++) v[j] = -v[j]!;
    components.push(lambda === 0 ? new Float64Array(dims) : v);
    variances.push(lambda / denominator);
  }
  const points = centred.map((row): [number, number] => [dot(row, components[0]!), dot(row, components[1]!)]);
  const totalVariance = total / denominator;
  return {
    points,
    components: [components[0]!, components[1]!],
    variances: [variances[0]!, variances[1]!],
    explained: totalVariance > 0 ? [variances[0]! / totalVariance, variances[1]! / totalVariance] : [0, 0],
  };
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += a[j]! * b[j]!;
  return sum;
}

/** Xᵀ X v for centred rows X. */
function covarianceTimes(rows: readonly Float64Array[], v: Float64Array, dims: number): Float64Array {
  const out = new Float64Array(dims);
  for (const row of rows) {
    const projection = dot(row, v);
    for (let j = 0; j < dims; j++) out[j]! += projection * row[j]!;
  }
  return out;
}

function orthogonalise(v: Float64Array, basis: readonly Float64Array[]): void {
  for (const b of basis) {
    const projection = dot(v, b);
    for (let j = 0; j < v.length; j++) v[j]! -= projection * b[j]!;
  }
}

function normalise(v: Float64Array): number {
  const norm = Math.sqrt(dot(v, v));
  if (norm > 0) for (let j = 0; j < v.length; j++) v[j]! /= norm;
  return norm;
}
