import type { TensorSource } from '../safetensors';

/**
 * A tensor of any numeric dtype as float32 (weights for the graph builder). Float32 tensors
 * come back as they are; integers beyond 2^24 lose precision, as they would in torch's `.float()`.
 */
export async function readAsFloat32(source: TensorSource, name: string): Promise<Float32Array> {
  const values = await source.read(name);
  if (values instanceof Float32Array) return values;
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return Float32Array.from(values, Number);
  return Float32Array.from(values);
}
