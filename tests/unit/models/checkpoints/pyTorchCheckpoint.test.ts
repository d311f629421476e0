import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PyTorchCheckpoint, PyTorchFile, readAsFloat32 } from '../../../../src-main/services/models/checkpoints';
import { float32ToBfloat16, float32ToFloat16, float16ToFloat32, bfloat16ToFloat32 } from '../../../../src-main/services/graph/halfPrecision';
import { bytes, dict, global, int, OP, orderedDict, pickle, str, tempDir, tensorRecord, torchArchive, zip } from './builders';
import { caught } from './caughtCheckpointError';

const temp = tempDir('mitobench-pytorch-');
afterAll(() => temp.remove());
const golden = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');

/** Expects a CheckpointError whose message starts with the file and names the tensor, when given. */
async function expectFailure(attempt: Promise<unknown>, file: string, text: string | RegExp, tensor?: string): Promise<void> {
  const error = await caught(attempt);
  expect(error.filePath).toBe(file);
  expect(error.message.startsWith(file)).toBe(true);
  expect(error.tensorName).toBe(tensor);
  if (typeof text === 'string') expect(error.message).toContain(text);
  else expect(error.message).toMatch(text);
}

const base = Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 2);
const halves = float32ToFloat16(Float32Array.from([0.5, -1, 65504, 1e-7]));
const brains = float32ToBfloat16(Float32Array.from([1.5, -3.25, 1e30, 0]));
const longs = BigInt64Array.from([0n, -1n, 2n ** 40n, -(2n ** 62n)]);

/** A state dict written the way torch.save writes one: an OrderedDict of tensor records. */
function stateDict(entries: readonly (readonly [string, Uint8Array])[]): Uint8Array {
  return bytes(orderedDict(), OP.MARK, entries.map(([key, value]) => [str(key), value]), OP.SETITEMS);
}

const tensorsOfBase = [
  ['pos_embed', tensorRecord({ key: '0', storageElements: 12, shape: [3, 4] })],
  ['transposed', tensorRecord({ key: '0', storageElements: 12, shape: [4, 3], stride: [1, 4] })],
  ['columns', tensorRecord({ key: '0', storageElements: 12, offset: 1, shape: [3, 2], stride: [4, 2] })],
  ['row', tensorRecord({ key: '0', storageElements: 12, offset: 8, shape: [4] })],
  ['scalar', tensorRecord({ key: '0', storageElements: 12, offset: 5, shape: [] })],
  ['empty', tensorRecord({ key: '0', storageElements: 12, shape: [0, 4] })],
  ['half', tensorRecord({ storageType: 'HalfStorage', key: '1', storageElements: 4, shape: [4] })],
  ['brain', tensorRecord({ storageType: 'BFloat16Storage', key: '2', storageElements: 4, shape: [2, 2] })],
  ['long', tensorRecord({ storageType: 'LongStorage', key: '3', storageElements: 4, shape: [4] })],
] as const;
const storagesOfBase = { '0': base, '1': halves, '2': brains, '3': longs };

describe('PyTorch checkpoints built in the test', () => {
  it('lists names, shapes and dtypes, and reads every dtype, views included', async () => {
    const file = temp.file('pytorch_model.bin', torchArchive(pickle(stateDict(tensorsOfBase)), storagesOfBase));
    const checkpoint = await PyTorchCheckpoint.open(file);
    try {
      expect(checkpoint.tensors().map(({ name, dtype, shape, byteLength }) => ({ name, dtype, shape, byteLength }))).toEqual([
        { name: 'pos_embed', dtype: 'F32', shape: [3, 4], byteLength: 48 },
        { name: 'transposed', dtype: 'F32', shape: [4, 3], byteLength: 48 },
        { name: 'columns', dtype: 'F32', shape: [3, 2], byteLength: 24 },
        { name: 'row', dtype: 'F32', shape: [4], byteLength: 16 },
        { name: 'scalar', dtype: 'F32', shape: [], byteLength: 4 },
        { name: 'empty', dtype: 'F32', shape: [0, 4], byteLength: 0 },
        { name: 'half', dtype: 'F16', shape: [4], byteLength: 8 },
        { name: 'brain', dtype: 'BF16', shape: [2, 2], byteLength: 8 },
        { name: 'long', dtype: 'I64', shape: [4], byteLength: 32 },
      ]);
      expect(await checkpoint.read('pos_embed')).toEqual(base);
      const at = (row: number, column: number) => base[row * 4 + column]!;
      expect([...(await checkpoint.read('transposed'))]).toEqual([0, 1, 2, 3].flatMap((c) => [at(0, c), at(1, c), at(2, c)]));
      expect([...(await checkpoint.read('columns'))]).toEqual([0, 1, 2].flatMap((r) => [at(r, 1), at(r, 3)]));
      expect([...(await checkpoint.read('row'))]).toEqual([at(2, 0), at(2, 1), at(2, 2), at(2, 3)]);
      expect([...(await checkpoint.read('scalar'))]).toEqual([at(1, 1)]);
      expect(await checkpoint.read('empty')).toEqual(new Float32Array(0));
      expect(await checkpoint.read('half')).toEqual(float16ToFloat32(halves));
      expect(await checkpoint.read('brain')).toEqual(bfloat16ToFloat32(brains));
      expect(await checkpoint.read('long')).toEqual(longs);
      expect(await readAsFloat32(checkpoint, 'long')).toEqual(Float32Array.from(longs, Number));
      expect(await readAsFloat32(checkpoint, 'half')).toEqual(float16ToFloat32(halves));
    } finally {
      await checkpoint.close();
    }
  });

  it('reports which tensors were saved as non-contiguous views', async () => {
    const file = temp.file('views.bin', torchArchive(pickle(stateDict(tensorsOfBase)), storagesOfBase));
    const single = await PyTorchFile.open(file);
    expect(['pos_embed', 'transposed', 'columns', 'row', 'scalar'].map((name) => single.isContiguous(name))).toEqual([true, false, false, true, true]);
    await single.close();
  });

  it('reads big-endian archives, ZIP64 directories and a deflated data.pkl', async () => {
    const swapped = Buffer.from(new Uint8Array(base.buffer.slice(0)));
    swapped.swap32();
    const pkl = pickle(stateDict([['w', tensorRecord({ key: '0', storageElements: 12, shape: [12] })]]));
    for (const archive of [
      torchArchive(pkl, { '0': swapped }, { byteorder: 'big' }),
      torchArchive(pkl, { '0': base }, { byteorder: 'little', zip64: true }),
      torchArchive(pkl, { '0': base }, { deflatePickle: true, prefix: 'other_name' }),
    ]) {
      const checkpoint = await PyTorchCheckpoint.open(temp.file('model.bin', archive));
      expect(await checkpoint.read('w')).toEqual(base);
      await checkpoint.close();
    }
  });

  it('opens a folder, and a sharded checkpoint through pytorch_model.bin.index.json', async () => {
    const folder = path.dirname(temp.file('pytorch_model.bin.index.json'));
    fs.writeFileSync(path.join(folder, 'part-1.bin'), torchArchive(pickle(stateDict([tensorsOfBase[0]])), { '0': base }));
    fs.writeFileSync(path.join(folder, 'part-2.bin'), torchArchive(pickle(stateDict([tensorsOfBase[8]])), { '3': longs }));
    fs.writeFileSync(path.join(folder, 'pytorch_model.bin.index.json'), JSON.stringify({ weight_map: { pos_embed: 'part-1.bin', long: 'part-2.bin' } }));
    const checkpoint = await PyTorchCheckpoint.open(folder);
    expect(checkpoint.tensors().map((entry) => [entry.name, path.basename(entry.file)])).toEqual([
      ['pos_embed', 'part-1.bin'],
      ['long', 'part-2.bin'],
    ]);
    expect(await checkpoint.read('long')).toEqual(longs);
    await checkpoint.close();
    fs.writeFileSync(path.join(folder, 'pytorch_model.bin.index.json'), JSON.stringify({ weight_map: { cls_token: 'part-1.bin' } }));
    await expectFailure(PyTorchCheckpoint.open(folder), path.join(folder, 'pytorch_model.bin.index.json'), 'which does not contain it', 'cls_token');
  });
});

describe('the nested state-dict rule', () => {
  const weight = tensorRecord({ key: '0', storageElements: 12, shape: [12] });
  const open = async (root: Uint8Array, statePath?: string[]) => {
    const file = await PyTorchFile.open(temp.file('nested.bin', torchArchive(pickle(root), { '0': base })), statePath ? { statePath } : {});
    const result = { path: file.statePath, names: file.tensors().map((entry) => entry.name) };
    await file.close();
    return result;
  };

  it('descends into the usual wrapper keys and joins nested keys with "."', async () => {
    const model = dict([
      ['patch_embed', dict([['proj', dict([['weight', weight]])]])],
      ['norm.bias', weight],
    ]);
    expect(await open(dict([['epoch', int(300)], ['model', model], ['optimizer', dict([['lr', int(1)]])]]))).toEqual({
      path: ['model'],
      names: ['patch_embed.proj.weight', 'norm.bias'],
    });
    expect(await open(dict([['state_dict', dict([['module', dict([['w', weight]])]])]]))).toEqual({ path: ['state_dict', 'module'], names: ['w'] });
    // DINO-style: the teacher is taken, the student is not.
    expect(await open(dict([['student', dict([['s', weight]])], ['teacher', dict([['t', weight]])]]))).toEqual({ path: ['teacher'], names: ['t'] });
  });

  it('takes a root holding tensors as the state dict, ignoring other values', async () => {
    expect(await open(dict([['w', weight], ['step', int(3)], ['extra', dict([['b', weight]])]]))).toEqual({ path: [], names: ['w', 'extra.b'] });
  });

  it('follows an explicit path, and flattens all tensors when no wrapper key matches', async () => {
    const root = dict([['ema', dict([['w', weight]])], ['net', dict([['v', weight]])]]);
    expect(await open(root, ['ema'])).toEqual({ path: ['ema'], names: ['w'] });
    expect(await open(root)).toEqual({ path: [], names: ['ema.w', 'net.v'] });
  });

  it('names the problem when there is no state dict', async () => {
    const file = temp.file('none.bin', torchArchive(pickle(dict([['epoch', int(3)]])), {}));
    await expectFailure(PyTorchFile.open(file), file, 'the checkpoint holds no tensors');
    const list = temp.file('list.bin', torchArchive(pickle(OP.EMPTY_LIST), {}));
    await expectFailure(PyTorchFile.open(list), list, 'holds no dict of tensors at its root');
    const root = dict([['model', dict([['w', weight]])]]);
    const missing = temp.file('missing.bin', torchArchive(pickle(root), { '0': base }));
    await expectFailure(PyTorchFile.open(missing, { statePath: ['ema'] }), missing, 'the checkpoint has no dict at ema');
  });
});

describe('bad PyTorch checkpoints', () => {
  const good = torchArchive(pickle(stateDict(tensorsOfBase)), storagesOfBase);

  it('refuses a pickle that calls os.system, naming the global, the file and the entry, without running it', async () => {
    const marker = path.join(temp.dir, 'pwned');
    const attack = pickle(global('os', 'system'), str(`touch ${marker}`), OP.TUPLE1, OP.REDUCE);
    const file = temp.file('pytorch_model.bin', torchArchive(attack, {}));
    await expectFailure(PyTorchCheckpoint.open(file), file, 'entry "archive/data.pkl": refusing to load os.system: not a tensor checkpoint');
    expect(fs.existsSync(marker)).toBe(false);
    // Hidden inside a tensor-looking record too.
    const hidden = pickle(stateDict([['w', bytes(global('subprocess', 'Popen'), str('ls'), OP.TUPLE1, OP.REDUCE)]]));
    const hiddenFile = temp.file('hidden.bin', torchArchive(hidden, {}));
    await expectFailure(PyTorchCheckpoint.open(hiddenFile), hiddenFile, 'refusing to load subprocess.Popen: not a tensor checkpoint');
  });

  it('reports a truncated archive', async () => {
    for (const length of [good.length - 10, Math.floor(good.length / 2), 10]) {
      const file = temp.file('truncated.bin', good.subarray(0, length));
      await expectFailure(PyTorchCheckpoint.open(file), file, /not a zip archive or is truncated|too short/);
    }
  });

  it('reports a missing storage entry, naming the tensor and the entry', async () => {
    const rest: Partial<typeof storagesOfBase> = { ...storagesOfBase };
    delete rest['0'];
    const file = temp.file('missing.bin', torchArchive(pickle(stateDict(tensorsOfBase)), rest as Record<string, ArrayBufferView>));
    await expectFailure(PyTorchCheckpoint.open(file), file, 'its storage entry "archive/data/0" is missing from the archive', 'pos_embed');
  });

  it('reports storages whose size disagrees with data.pkl and views that reach beyond them', async () => {
    const short = temp.file('short.bin', torchArchive(pickle(stateDict(tensorsOfBase)), { ...storagesOfBase, '1': halves.subarray(0, 3) }));
    await expectFailure(PyTorchCheckpoint.open(short), short, 'storage entry "archive/data/1" holds 6 bytes, but data.pkl declares 4 F16 elements (8 bytes)', 'half');
    const beyond = pickle(stateDict([['w', tensorRecord({ key: '0', storageElements: 12, offset: 4, shape: [3, 4] })]]));
    const file = temp.file('beyond.bin', torchArchive(beyond, { '0': base }));
    await expectFailure(PyTorchCheckpoint.open(file), file, 'shape [3,4] with stride [4,1] at offset 4 needs 16 elements, but storage "archive/data/0" has 12', 'w');
  });

  it('reports a data region cut short after the directory was read', async () => {
    const file = temp.file('cut.bin', good);
    const checkpoint = await PyTorchCheckpoint.open(file);
    fs.truncateSync(file, 200);
    await expectFailure(checkpoint.read('long'), file, /entry "archive\/data\/3": .*truncated/, 'long');
    await checkpoint.close();
  });

  it('refuses the legacy format, files that are not checkpoints, and unknown tensors', async () => {
    await expectFailure(PyTorchCheckpoint.open(path.join(golden, 'legacy.bin')), path.join(golden, 'legacy.bin'), "uses torch.save's legacy format");
    const text = temp.file('notes.bin', Buffer.from('hello world, not a model'));
    await expectFailure(PyTorchCheckpoint.open(text), text, 'is not a PyTorch checkpoint (no zip signature)');
    const noPickle = temp.file('other.zip', zip([{ name: 'readme.txt', data: Buffer.from('hi') }]));
    await expectFailure(PyTorchCheckpoint.open(noPickle), noPickle, 'is a zip archive without data.pkl');
    const absent = path.join(temp.dir, 'absent.bin');
    await expectFailure(PyTorchCheckpoint.open(absent), absent, 'cannot be opened (ENOENT)');
    const file = temp.file('ok.bin', good);
    const checkpoint = await PyTorchCheckpoint.open(file);
    expect(() => checkpoint.entry('head.weight')).toThrow(`${file}: tensor "head.weight": missing from the checkpoint`);
    await checkpoint.close();
  });

  it('refuses unknown compression methods', async () => {
    const archive = Buffer.from(torchArchive(pickle(stateDict([['w', tensorRecord({ key: '0', storageElements: 12, shape: [12] })]])), { '0': base }, { deflatePickle: true }));
    // Patch the method of data.pkl (central directory) to 12 (bzip2).
    const central = archive.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    archive.writeUInt16LE(12, central + 10);
    const file = temp.file('bzip.bin', archive);
    await expectFailure(PyTorchCheckpoint.open(file), file, 'entry "archive/data.pkl": compression method 12 is not supported');
  });
});

interface GoldenTensor {
  dtype: string;
  shape: number[];
  contiguous: boolean;
  values: (number | string)[];
}

const SAFETENSORS_OF_TORCH: Record<string, string> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', int64: 'I64' };

describe('golden checkpoints written by torch.save (tools/reference/checkpoints/make_tiny_pt.py)', () => {
  for (const name of ['tiny', 'module']) {
    it(`${name}.bin matches what torch read back`, async () => {
      const expected = JSON.parse(fs.readFileSync(path.join(golden, `${name}.json`), 'utf8')) as { state_path: string[]; tensors: Record<string, GoldenTensor> };
      const file = await PyTorchFile.open(path.join(golden, `${name}.bin`));
      try {
        expect(file.statePath).toEqual(expected.state_path);
        expect(file.tensors().map((entry) => entry.name)).toEqual(Object.keys(expected.tensors));
        for (const [tensor, want] of Object.entries(expected.tensors)) {
          const entry = file.entry(tensor);
          expect(entry.dtype, tensor).toBe(SAFETENSORS_OF_TORCH[want.dtype]);
          expect(entry.shape, tensor).toEqual(want.shape);
          expect(file.isContiguous(tensor), tensor).toBe(want.contiguous);
          const values = await file.read(tensor);
          if (values instanceof BigInt64Array) expect([...values].map(String), tensor).toEqual(want.values);
          else expect([...values], tensor).toEqual(want.values.map((value) => Math.fround(value as number)));
        }
      } finally {
        await file.close();
      }
    });
  }
});
