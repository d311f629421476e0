import fs from 'node:fs/promises';
import { CheckpointError } from './CheckpointError';

/** One read call stays well below Node's 2 GiB limit. */
const READ_CHUNK_BYTES = 256 * 1024 * 1024;

/** The error for a file that cannot be opened or stat'ed: `cannot be opened (ENOENT)`. */
export function cannotOpen(filePath: string, error: unknown, tensor?: string): CheckpointError {
  return new CheckpointError(filePath, `cannot be opened (${(error as NodeJS.ErrnoException).code ?? String(error)})`, tensor);
}

/**
 * Opens a file for reading and passes the handle to `parse`. If `parse` throws, the handle is
 * closed and the error rethrown; otherwise the handle is kept open for the result to own.
 */
export async function openAndParse<T>(filePath: string, parse: (handle: fs.FileHandle) => Promise<T>): Promise<T> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(filePath, 'r');
  } catch (error) {
    throw cannotOpen(filePath, error);
  }
  try {
    return await parse(handle);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Reads up to `length` bytes at `position`; fewer where the file ends first. */
export async function readUpTo(handle: fs.FileHandle, position: number, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  const done = await fill(handle, bytes, position);
  return bytes.subarray(0, done);
}

/** Reads exactly `length` bytes at `position`; where the file ends first, throws what `truncated` returns. */
export async function readExactly(handle: fs.FileHandle, position: number, length: number, truncated: () => Error): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(length);
  if ((await fill(handle, bytes, position)) < length) throw truncated();
  return bytes;
}

async function fill(handle: fs.FileHandle, bytes: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesRead } = await handle.read(bytes, done, Math.min(READ_CHUNK_BYTES, bytes.length - done), position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Reads a tensor's `length` stored bytes at `position` in `filePath`; a file that ends first is reported as truncated. */
export function readTensorBytes(handle: fs.FileHandle, filePath: string, position: number, length: number, tensor: string): Promise<Uint8Array<ArrayBuffer>> {
  return readExactly(handle, position, length, () => new CheckpointError(filePath, 'the file ended while reading this tensor (was it truncated?)', tensor));
}
