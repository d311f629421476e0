/** A static tensor shape: every dimension is a known non-negative integer. */
export type Shape = readonly number[];

export function elementCount(shape: Shape): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((dim, index) => dim === b[index]);
}

export function isValidShape(shape: Shape): boolean {
  return shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0);
}

/** Numpy-style (multidirectional) broadcast; undefined when the shapes do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const result: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    result.push(da === 1 ? db : da);
  }
  return result;
}

/** Whether `from` broadcasts to exactly `to` (ONNX "unidirectional" broadcasting). */
export function broadcastsTo(from: Shape, to: Shape): boolean {
  if (from.length > to.length) return false;
  return from.every((dim, i) => dim === 1 || dim === to[to.length - from.length + i]);
}

/** Maps a possibly negative axis into [0, rank); undefined when it is out of range. */
export function normalizeAxis(axis: number, rank: number): number | undefined {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) return undefined;
  return axis < 0 ? axis + rank : axis;
}
