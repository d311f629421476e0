/**
 * Named float32 tensors (adapter parameters, optimiser moments) as one byte string for the
 * project database: a little-endian uint32 header length, a JSON header listing names and
 * lengths (plus any extra JSON the caller keeps with them), zero padding to 4 bytes, then the
 * values back to back. Decoding checks every length, so a damaged blob is refused by name.
 */
export interface ParameterBlob<Extra> {
  readonly tensors: Readonly<Record<string, Float32Array>>;
  readonly extra: Extra;
}

interface Header<Extra> {
  readonly names: readonly string[];
  readonly lengths: readonly number[];
  readonly extra: Extra;
}

export function encodeParameters<Extra>(tensors: Readonly<Record<string, Float32Array>>, extra: Extra): Uint8Array {
  const names = Object.keys(tensors);
  const header: Header<Extra> = { names, lengths: names.map((name) => tensors[name]!.length), extra };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((4 + json.length) / 4) * 4;
  const total = header.lengths.reduce((sum, length) => sum + length, 0);
  const bytes = new Uint8Array(start + total * 4);
  new DataView(bytes.buffer).setUint32(0, json.length, true);
  bytes.set(json, 4);
  const values = new Float32Array(bytes.buffer, start, total);
  let offset = 0;
  for (const name of names) {
    values.set(tensors[name]!, offset);
    offset += tensors[name]!.length;
  }
  return bytes;
}

export function decodeParameters<Extra>(blob: Uint8Array, what: string): ParameterBlob<Extra> {
  const fail = (reason: string): never => {
    throw new Error(`${what}: the stored parameters are damaged (${reason})`);
  };
  if (blob.length < 4) fail(`${blob.length} bytes`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const jsonLength = view.getUint32(0, true);
  if (4 + jsonLength > blob.length) fail('the header runs past the end');
  let header: Header<Extra>;
  try {
    header = JSON.parse(new TextDecoder().decode(blob.subarray(4, 4 + jsonLength))) as Header<Extra>;
  } catch {
    return fail('the header is not JSON');
  }
  const start = Math.ceil((4 + jsonLength) / 4) * 4;
  const total = header.lengths.reduce((sum, length) => sum + length, 0);
  if (start + total * 4 !== blob.length) fail(`${blob.length} bytes where the header announces ${start + total * 4}`);
  // Copy into an aligned buffer of its own: a blob from SQLite is a Node Buffer, which may start
  // at any byte offset of a shared pool (and whose slice() does not copy).
  const aligned = new Uint8Array(blob.length - start);
  aligned.set(blob.subarray(start));
  const values = new Float32Array(aligned.buffer);
  const tensors: Record<string, Float32Array> = {};
  let offset = 0;
  header.names.forEach((name, i) => {
    tensors[name] = values.slice(offset, offset + header.lengths[i]!);
    offset += header.lengths[i]!;
  });
  return { tensors, extra: header.extra };
}
