/**
 * Plain TypeScript references for the graph's ops: simple loops over flat row-major arrays in
 * float64, written for clarity rather than speed. Tests compare ORT's results with these.
 */
export interface NdArray {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

export function strides(shape: readonly number[]): number[] {
  const result = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) result[i] = result[i + 1]! * shape[i + 1]!;
  return result;
}

export function unravel(index: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length).fill(0);
  for (let i = shape.length - 1; i >= 0; i--) {
    coords[i] = index % shape[i]!;
    index = Math.floor(index / shape[i]!);
  }
  return coords;
}

function offsetOf(coords: readonly number[], shape: readonly number[]): number {
  let offset = 0;
  for (let i = 0; i < shape.length; i++) offset = offset * shape[i]! + coords[i]!;
  return offset;
}

/** Reads x at output coordinates, broadcasting (right-aligned, size-1 axes repeat). */
function broadcastRead(x: NdArray, coords: readonly number[]): number {
  const lead = coords.length - x.shape.length;
  let offset = 0;
  for (let i = 0; i < x.shape.length; i++) offset = offset * x.shape[i]! + (x.shape[i] === 1 ? 0 : coords[lead + i]!);
  return x.data[offset]!;
}

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => Math.max(a[a.length - rank + i] ?? 1, b[b.length - rank + i] ?? 1));
}

export function binary(a: NdArray, b: NdArray, f: (x: number, y: number) => number): NdArray {
  const shape = broadcastShape(a.shape, b.shape);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const coords = unravel(i, shape);
    data[i] = f(broadcastRead(a, coords), broadcastRead(b, coords));
  }
  return { shape, data };
}

export function unary(x: NdArray, f: (value: number) => number): NdArray {
  return { shape: x.shape, data: Float64Array.from(x.data, f) };
}

export function expandTo(x: NdArray, shape: readonly number[]): NdArray {
  const out = broadcastShape(x.shape, shape);
  return { shape: out, data: Float64Array.from({ length: size(out) }, (_, i) => broadcastRead(x, unravel(i, out))) };
}

/** Batched matrix product of rank ≥ 2 operands with broadcast batch axes. */
export function matMul(a: NdArray, b: NdArray): NdArray {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const shape = [...batch, m, n];
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const coords = unravel(i, shape);
    const row = coords[coords.length - 2]!;
    const column = coords[coords.length - 1]!;
    let sum = 0;
    for (let p = 0; p < k; p++) {
      sum += broadcastRead(a, [...coords.slice(0, -2), row, p]) * broadcastRead(b, [...coords.slice(0, -2), p, column]);
    }
    data[i] = sum;
  }
  return { shape, data };
}

export function transpose(x: NdArray, perm: readonly number[]): NdArray {
  const shape = perm.map((axis) => x.shape[axis]!);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const coords = unravel(i, shape);
    const source = new Array<number>(x.shape.length);
    perm.forEach((axis, j) => (source[axis] = coords[j]!));
    data[i] = x.data[offsetOf(source, x.shape)]!;
  }
  return { shape, data };
}

export function concat(inputs: readonly NdArray[], axis: number): NdArray {
  const shape = [...inputs[0]!.shape];
  shape[axis] = inputs.reduce((sum, x) => sum + x.shape[axis]!, 0);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const coords = unravel(i, shape);
    let position = coords[axis]!;
    for (const x of inputs) {
      if (position < x.shape[axis]!) {
        const local = [...coords];
        local[axis] = position;
        data[i] = x.data[offsetOf(local, x.shape)]!;
        break;
      }
      position -= x.shape[axis]!;
    }
  }
  return { shape, data };
}

/** Takes the listed indices along one axis (a scalar index drops the axis). */
export function take(x: NdArray, indices: readonly number[] | number, axis: number): NdArray {
  const list = typeof indices === 'number' ? [indices] : indices;
  const kept = [...x.shape];
  kept[axis] = list.length;
  const data = new Float64Array(size(kept));
  for (let i = 0; i < data.length; i++) {
    const coords = unravel(i, kept);
    const index = list[coords[axis]!]!;
    coords[axis] = index < 0 ? index + x.shape[axis]! : index;
    data[i] = x.data[offsetOf(coords, x.shape)]!;
  }
  const shape = typeof indices === 'number' ? kept.filter((_, i) => i !== axis) : kept;
  return { shape, data };
}

/** Slicing with an explicit list of kept indices per axis. */
export function pick(x: NdArray, perAxis: readonly (readonly number[])[]): NdArray {
  let result = x;
  perAxis.forEach((indices, axis) => (result = take(result, indices, axis)));
  return result;
}

export function reduce(x: NdArray, axes: readonly number[], keepDims: boolean, mean: boolean): NdArray {
  const kept = x.shape.map((dim, i) => (axes.includes(i) ? 1 : dim));
  const data = new Float64Array(size(kept));
  for (let i = 0; i < size(x.shape); i++) {
    const coords = unravel(i, x.shape).map((c, axis) => (axes.includes(axis) ? 0 : c));
    const at = offsetOf(coords, kept);
    data[at] = data[at]! + x.data[i]!;
  }
  const count = axes.reduce((product, axis) => product * x.shape[axis]!, 1);
  if (mean) for (let i = 0; i < data.length; i++) data[i]! /= count;
  return { shape: keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i)), data };
}

export function softmax(x: NdArray, axis: number): NdArray {
  const max = reduceWith(x, axis, Math.max, -Infinity);
  const exp = binary(x, max, (value, m) => Math.exp(value - m));
  const total = reduce(exp, [axis], true, false);
  return binary(exp, total, (e, s) => e / s);
}

function reduceWith(x: NdArray, axis: number, f: (a: number, b: number) => number, start: number): NdArray {
  const kept = x.shape.map((dim, i) => (i === axis ? 1 : dim));
  const data = new Float64Array(size(kept)).fill(start);
  for (let i = 0; i < size(x.shape); i++) {
    const coords = unravel(i, x.shape);
    coords[axis] = 0;
    const at = offsetOf(coords, kept);
    data[at] = f(data[at]!, x.data[i]!);
  }
  return { shape: kept, data };
}

/** LayerNorm over the trailing axes from `axis`. */
export function layerNorm(x: NdArray, scale: NdArray, bias: NdArray | undefined, epsilon: number, axis: number): NdArray {
  const axes = x.shape.map((_, i) => i).filter((i) => i >= axis);
  const mean = reduce(x, axes, true, true);
  const centred = binary(x, mean, (a, m) => a - m);
  const variance = reduce(unary(centred, (c) => c * c), axes, true, true);
  const normalised = binary(centred, variance, (c, v) => c / Math.sqrt(v + epsilon));
  const scaled = binary(normalised, scale, (a, s) => a * s);
  return bias ? binary(scaled, bias, (a, b) => a + b) : scaled;
}

/** 2-D convolution, NCHW, with strides and symmetric-or-not pads [top, left, bottom, right]. */
export function conv2d(x: NdArray, w: NdArray, b: NdArray | undefined, strides: readonly number[], pads: readonly number[]): NdArray {
  const [batch, channels, height, width] = x.shape as [number, number, number, number];
  const [filters, , kh, kw] = w.shape as [number, number, number, number];
  const outH = Math.floor((height + pads[0]! + pads[2]! - kh) / strides[0]!) + 1;
  const outW = Math.floor((width + pads[1]! + pads[3]! - kw) / strides[1]!) + 1;
  const shape = [batch, filters, outH, outW];
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const [n, f, oy, ox] = unravel(i, shape) as [number, number, number, number];
    let sum = b ? b.data[f]! : 0;
    for (let c = 0; c < channels; c++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const y = oy * strides[0]! - pads[0]! + ky;
          const xx = ox * strides[1]! - pads[1]! + kx;
          if (y < 0 || y >= height || xx < 0 || xx >= width) continue;
          sum += x.data[offsetOf([n, c, y, xx], x.shape)]! * w.data[offsetOf([f, c, ky, kx], w.shape)]!;
        }
      }
    }
    data[i] = sum;
  }
  return { shape, data };
}

/** erf by its Maclaurin series; accurate to ~1e-13 for |x| ≤ 3.5 (tests keep inputs there). */
export function erf(x: number): number {
  if (Math.abs(x) > 3.5) throw new Error('reference erf is only accurate for |x| ≤ 3.5');
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));
export const geluTanh = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
