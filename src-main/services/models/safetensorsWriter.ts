import fs from 'node:fs/promises';
import { SAFETENSORS_DTYPE_BYTES } from './safetensors';
import type { SafetensorsDType } from './safetensors';

export interface TensorToWrite {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** Raw little-endian values (F16/BF16 as their 16-bit patterns). */
  readonly data: ArrayBufferView;
}

const WRITE_CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * Writes a safetensors file (adapters, fp16 copies, test checkpoints): an 8-byte little-endian
 * header length, the JSON header padded with spaces to 8 bytes, then each tensor's bytes.
 */
export async function writeSafetensors(filePath: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Promise<void> {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    const expected = tensor.shape.reduce((product, dim) => product * dim, 1) * SAFETENSORS_DTYPE_BYTES[tensor.dtype];
    if (expected !== tensor.data.byteLength) {
      throw new Error(`${filePath}: tensor "${tensor.name}": shape [${tensor.shape.join(',')}] of ${tensor.dtype} needs ${expected} bytes, got ${tensor.data.byteLength}`);
    }
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));
  const handle = await fs.open(filePath, 'w');
  try {
    let position = await writeAll(handle, prefix, 0);
    position = await writeAll(handle, headerBytes, position);
    for (const tensor of tensors) {
      position = await writeAll(handle, new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), position);
    }
  } finally {
    await handle.close();
  }
}

/** Writes `bytes` at `position` in chunks (Node writes at most 2 GiB per call); returns the end. */
async function writeAll(handle: fs.FileHandle, bytes: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, Math.min(WRITE_CHUNK_BYTES, bytes.length - done), position + done);
    done += bytesWritten;
  }
  return position + done;
}
