import crypto from 'node:crypto';
import fs from 'node:fs';

const SAMPLE_BYTES = 4 * 1024 * 1024;

/**
 * Identifies a slide file by content without reading all of a multi-gigabyte file:
 * sha256 of its size, its first 4 MiB and its last 4 MiB (the TIFF header and directory
 * region, and the tail where many scanners put the pyramid's small levels). Used to verify
 * that a relinked file is the slide that was added.
 */
export async function slideContentHash(file: string): Promise<string> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const hash = crypto.createHash('sha256');
    const sizeBytes = Buffer.alloc(8);
    sizeBytes.writeBigUInt64LE(BigInt(size));
    hash.update(sizeBytes);
    const headLength = Math.min(size, SAMPLE_BYTES);
    const head = Buffer.alloc(headLength);
    await handle.read(head, 0, headLength, 0);
    hash.update(head);
    if (size > SAMPLE_BYTES) {
      const tailStart = Math.max(SAMPLE_BYTES, size - SAMPLE_BYTES);
      const tail = Buffer.alloc(size - tailStart);
      await handle.read(tail, 0, tail.length, tailStart);
      hash.update(tail);
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}
