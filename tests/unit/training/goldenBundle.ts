import fs from 'node:fs';
import path from 'node:path';

/** Reads the golden bundles of tools/reference/training/golden_bundle.py (<name>.json + <name>.bin). */

export const GOLDEN = path.join(import.meta.dirname, 'golden');

export interface BundleTensor {
  readonly name: string;
  readonly dtype: 'float32' | 'float64';
  readonly shape: number[];
  readonly offset: number;
  readonly length: number;
}

export interface GoldenBundle<Meta> {
  readonly meta: Meta;
  readonly entries: readonly BundleTensor[];
  /** The tensor's values, widened to float64; throws if the bundle has no such tensor. */
  tensor(name: string): Float64Array;
  entry(name: string): BundleTensor;
}

const BYTES = { float32: 4, float64: 8 } as const;

export function readBundle<Meta>(name: string): GoldenBundle<Meta> {
  const manifest = JSON.parse(fs.readFileSync(path.join(GOLDEN, `${name}.json`), 'utf8')) as { meta: Meta; tensors: BundleTensor[] };
  const binary = fs.readFileSync(path.join(GOLDEN, `${name}.bin`));
  const view = new DataView(binary.buffer, binary.byteOffset, binary.byteLength);
  const entry = (tensorName: string): BundleTensor => {
    const found = manifest.tensors.find((candidate) => candidate.name === tensorName);
    if (found === undefined) throw new Error(`${name}: no tensor "${tensorName}"`);
    return found;
  };
  return {
    meta: manifest.meta,
    entries: manifest.tensors,
    entry,
    tensor(tensorName) {
      const { dtype, offset, length } = entry(tensorName);
      const values = new Float64Array(length);
      for (let i = 0; i < length; i++) {
        values[i] = dtype === 'float32' ? view.getFloat32(offset + i * BYTES.float32, true) : view.getFloat64(offset + i * BYTES.float64, true);
      }
      return values;
    },
  };
}

export function byteSize(tensor: BundleTensor): number {
  return tensor.length * BYTES[tensor.dtype];
}
