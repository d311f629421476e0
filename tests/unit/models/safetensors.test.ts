import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../../src-main/services/models/CheckpointError';
import { float32ToBfloat16, float32ToFloat16, float16ToFloat32 } from '../../../src-main/services/graph/halfPrecision';
import { SafetensorsCheckpoint, SafetensorsFile } from '../../../src-main/services/models/safetensors';
import { writeSafetensors } from '../../../src-main/services/models/safetensorsWriter';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-safetensors-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;
const nextPath = (name = 'model.safetensors') => path.join(fs.mkdtempSync(path.join(dir, `case${fileCounter++}-`)), name);

/** Writes a file from a header (object or raw text) and data bytes, as a lying writer would. */
function craft(header: object | string, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint): string {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declaredLength ?? BigInt(json.length));
  const file = nextPath();
  fs.writeFileSync(file, Buffer.concat([prefix, json, data]));
  return file;
}

async function expectCheckpointError(attempt: Promise<unknown>, file: string, tensor: string | undefined, reason: string | RegExp): Promise<void> {
  const error = await attempt.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'expected a CheckpointError').toBeInstanceOf(CheckpointError);
  const checkpointError = error as CheckpointError;
  expect(checkpointError.filePath).toBe(file);
  expect(checkpointError.tensorName).toBe(tensor);
  expect(checkpointError.message.startsWith(file)).toBe(true);
  if (tensor) expect(checkpointError.message).toContain(`tensor "${tensor}"`);
  if (typeof reason === 'string') expect(checkpointError.message).toContain(reason);
  else expect(checkpointError.message).toMatch(reason);
}

const weights = Float32Array.from([1.5, -2, 0.25, 3.75, -0.5, 8]);

async function writeSample(file: string): Promise<void> {
  await writeSafetensors(
    file,
    [
      { name: 'blocks.0.attn.qkv.weight', dtype: 'F32', shape: [2, 3], data: weights },
      { name: 'f64', dtype: 'F64', shape: [3], data: Float64Array.from([Math.PI, -1e300, 5e-324]) },
      { name: 'f16', dtype: 'F16', shape: [6], data: Uint16Array.from([0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0xfc00]) },
      { name: 'bf16', dtype: 'BF16', shape: [2, 2], data: float32ToBfloat16(Float32Array.from([1.5, -3, 2 ** 100, 0.1])) },
      { name: 'steps', dtype: 'I64', shape: [2], data: BigInt64Array.from([-(2n ** 40n), 7n]) },
      { name: 'i32', dtype: 'I32', shape: [1], data: Int32Array.from([-5]) },
      { name: 'mask', dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) },
      { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    ],
    { format: 'pt' },
  );
}

describe('SafetensorsFile', () => {
  it('lists tensors and metadata from the header alone', async () => {
    const file = nextPath();
    await writeSample(file);
    const checkpoint = await SafetensorsFile.open(file);
    try {
      expect(checkpoint.metadata).toEqual({ format: 'pt' });
      expect(checkpoint.tensors().map(({ name, dtype, shape, byteLength }) => [name, dtype, shape, byteLength])).toEqual([
        ['blocks.0.attn.qkv.weight', 'F32', [2, 3], 24],
        ['f64', 'F64', [3], 24],
        ['f16', 'F16', [6], 12],
        ['bf16', 'BF16', [2, 2], 8],
        ['steps', 'I64', [2], 16],
        ['i32', 'I32', [1], 4],
        ['mask', 'BOOL', [3], 3],
        ['empty', 'F32', [0, 4], 0],
      ]);
      // The header is padded so that the data starts 8-byte aligned.
      const headerLength = Number(fs.readFileSync(file).readBigUInt64LE(0));
      expect((8 + headerLength) % 8).toBe(0);
    } finally {
      await checkpoint.close();
    }
  });

  it('reads one tensor by name, widening F16 and BF16 to float32', async () => {
    const file = nextPath();
    await writeSample(file);
    const checkpoint = await SafetensorsFile.open(file);
    try {
      expect(await checkpoint.read('blocks.0.attn.qkv.weight')).toEqual(weights);
      expect(await checkpoint.read('f64')).toEqual(Float64Array.from([Math.PI, -1e300, 5e-324]));
      const half = (await checkpoint.read('f16')) as Float32Array;
      expect(half).toBeInstanceOf(Float32Array);
      expect([...half]).toEqual([1, -2, Math.fround(0.333251953125), 65504, 2 ** -24, -Infinity]);
      const brain = (await checkpoint.read('bf16')) as Float32Array;
      expect([...brain]).toEqual([1.5, -3, 2 ** 100, Math.fround(0.10009765625)]);
      expect(await checkpoint.read('steps')).toEqual(BigInt64Array.from([-(2n ** 40n), 7n]));
      expect(await checkpoint.read('i32')).toEqual(Int32Array.from([-5]));
      expect(await checkpoint.read('mask')).toEqual(Uint8Array.from([1, 0, 1]));
      expect((await checkpoint.read('empty')).length).toBe(0);
      await expectCheckpointError(checkpoint.read('blocks.0.attn.proj.weight'), file, 'blocks.0.attn.proj.weight', 'no such tensor');
    } finally {
      await checkpoint.close();
    }
  });

  it('refuses a file shorter than the header length field', async () => {
    const file = nextPath();
    fs.writeFileSync(file, Buffer.from([1, 2, 3]));
    await expectCheckpointError(SafetensorsFile.open(file), file, undefined, 'truncated: 3 bytes');
  });

  it('refuses a header length beyond the end of the file', async () => {
    const file = craft({}, new Uint8Array(0), 10_000n);
    await expectCheckpointError(SafetensorsFile.open(file), file, undefined, /header length \(10000 bytes\) goes beyond the end of the file \(\d+ bytes\)/);
  });

  it('refuses a header that is not JSON, or not an object', async () => {
    const bad = craft('{"a": [1, 2');
    await expectCheckpointError(SafetensorsFile.open(bad), bad, undefined, 'the header is not valid JSON');
    const array = craft('[1, 2]');
    await expectCheckpointError(SafetensorsFile.open(array), array, undefined, 'not a JSON object');
    const metadata = craft({ __metadata__: { epochs: 3 } });
    await expectCheckpointError(SafetensorsFile.open(metadata), metadata, undefined, '__metadata__ must be an object of strings');
  });

  it('refuses a truncated file, naming the tensor whose data is cut off', async () => {
    const file = nextPath();
    await writeSample(file);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 2));
    await expectCheckpointError(SafetensorsFile.open(file), file, 'mask', /data_offsets \[\d+, \d+\] reach beyond the \d+ bytes of data.*truncated/);
  });

  it('refuses data_offsets outside the data, overlapping, or disagreeing with shape × dtype', async () => {
    const data = new Uint8Array(32);
    const outside = craft({ a: { dtype: 'F32', shape: [4], data_offsets: [24, 40] } }, data);
    await expectCheckpointError(SafetensorsFile.open(outside), outside, 'a', 'data_offsets [24, 40] reach beyond the 32 bytes of data');
    const overlap = craft({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [12, 20] } }, data);
    await expectCheckpointError(SafetensorsFile.open(overlap), overlap, 'b', 'data_offsets [12, 20] overlap those of "a" [0, 16]');
    const size = craft({ a: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 16] } }, data);
    await expectCheckpointError(SafetensorsFile.open(size), size, 'a', 'shape [2,3] of F16 needs 12 bytes, but data_offsets [0, 16] hold 16');
    const reversed = craft({ a: { dtype: 'U8', shape: [0], data_offsets: [8, 4] } }, data);
    await expectCheckpointError(SafetensorsFile.open(reversed), reversed, 'a', 'invalid data_offsets [8,4]');
  });

  it('refuses an unknown dtype and an invalid shape', async () => {
    const dtype = craft({ w: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, new Uint8Array(16));
    await expectCheckpointError(SafetensorsFile.open(dtype), dtype, 'w', 'unknown dtype "F128"');
    const shape = craft({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4));
    await expectCheckpointError(SafetensorsFile.open(shape), shape, 'w', 'invalid shape [-1]');
  });

  it('refuses a missing file with its name', async () => {
    const file = path.join(dir, 'absent.safetensors');
    await expectCheckpointError(SafetensorsFile.open(file), file, undefined, 'cannot be opened (ENOENT)');
  });
});

describe('SafetensorsCheckpoint (sharded)', () => {
  async function writeShards(weightMap?: Record<string, string>): Promise<string> {
    const folder = fs.mkdtempSync(path.join(dir, 'sharded-'));
    await writeSafetensors(path.join(folder, 'model-00001-of-00002.safetensors'), [
      { name: 'patch_embed.proj.weight', dtype: 'F32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
    ]);
    await writeSafetensors(path.join(folder, 'model-00002-of-00002.safetensors'), [
      { name: 'norm.weight', dtype: 'F16', shape: [2], data: float32ToFloat16(Float32Array.from([0.5, -1])) },
    ]);
    const map = weightMap ?? { 'patch_embed.proj.weight': 'model-00001-of-00002.safetensors', 'norm.weight': 'model-00002-of-00002.safetensors' };
    fs.writeFileSync(path.join(folder, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 20 }, weight_map: map }));
    return folder;
  }

  it('opens a folder by its index and reads tensors from every shard', async () => {
    const folder = await writeShards();
    const checkpoint = await SafetensorsCheckpoint.open(folder);
    try {
      expect(checkpoint.tensors().map((entry) => [entry.name, path.basename(entry.file)])).toEqual([
        ['patch_embed.proj.weight', 'model-00001-of-00002.safetensors'],
        ['norm.weight', 'model-00002-of-00002.safetensors'],
      ]);
      expect(await checkpoint.read('patch_embed.proj.weight')).toEqual(Float32Array.from([1, 2, 3, 4]));
      expect(await checkpoint.read('norm.weight')).toEqual(Float32Array.from([0.5, -1]));
      const index = path.join(folder, 'model.safetensors.index.json');
      await expectCheckpointError(checkpoint.read('cls_token'), index, 'cls_token', 'missing from the checkpoint');
    } finally {
      await checkpoint.close();
    }
  });

  it('opens a single model.safetensors in a folder the same way', async () => {
    const folder = fs.mkdtempSync(path.join(dir, 'single-'));
    await writeSafetensors(path.join(folder, 'model.safetensors'), [{ name: 'cls_token', dtype: 'F32', shape: [1, 1, 2], data: Float32Array.from([7, 8]) }]);
    const checkpoint = await SafetensorsCheckpoint.open(folder);
    expect(await checkpoint.read('cls_token')).toEqual(Float32Array.from([7, 8]));
    await checkpoint.close();
  });

  it('names the tensor an index maps to a shard that lacks it, and refuses paths outside the folder', async () => {
    const wrong = await writeShards({ 'norm.weight': 'model-00001-of-00002.safetensors' });
    const index = path.join(wrong, 'model.safetensors.index.json');
    await expectCheckpointError(SafetensorsCheckpoint.open(wrong), index, 'norm.weight', 'places it in model-00001-of-00002.safetensors, which does not contain it');
    const climbing = await writeShards({ 'norm.weight': '../elsewhere.safetensors' });
    const climbingIndex = path.join(climbing, 'model.safetensors.index.json');
    await expectCheckpointError(SafetensorsCheckpoint.open(climbing), climbingIndex, 'norm.weight', 'is not a file name beside the index');
    const missingShard = await writeShards({ 'norm.weight': 'model-00003-of-00003.safetensors' });
    await expectCheckpointError(
      SafetensorsCheckpoint.open(missingShard),
      path.join(missingShard, 'model-00003-of-00003.safetensors'),
      undefined,
      'cannot be opened (ENOENT)',
    );
  });

  it('refuses a folder with no checkpoint', async () => {
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    await expectCheckpointError(SafetensorsCheckpoint.open(empty), empty, undefined, 'holds neither model.safetensors.index.json nor model.safetensors');
  });
});

describe('half-precision conversion', () => {
  it('rounds float32 to float16 to nearest even and back', () => {
    const values = Float32Array.from([0, -0, 1, 1 / 3, 65504, 65520, 1e-8, 2 ** -24, 2 ** -14, -2.5, 1 + 2 ** -11, 1 + 3 * 2 ** -11]);
    expect([...float32ToFloat16(values)].map((bits) => bits.toString(16))).toEqual(
      ['0', '8000', '3c00', '3555', '7bff', '7c00', '0', '1', '400', 'c100', '3c00', '3c02'],
    );
    const all = new Uint16Array(65536).map((_, i) => i);
    const finite = all.filter((bits) => (bits & 0x7c00) !== 0x7c00);
    expect(float32ToFloat16(float16ToFloat32(finite))).toEqual(finite);
  });
});
