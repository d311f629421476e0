import { describe, expect, it, vi } from 'vitest';
import { allowGlobal, PickleError, PickleTuple, unpickle } from '../../../../src-main/services/models/checkpoints/RestrictedUnpickler';
import type { UnpicklerOptions } from '../../../../src-main/services/models/checkpoints/RestrictedUnpickler';
import { TorchTensorRecord, unpickleTorch } from '../../../../src-main/services/models/checkpoints/torchPickle';
import { bytes, dict, float, global, int, OP, orderedDict, pickle, proto, shortStr, stop, str, tensorRecord } from './builders';

const refuseAll: UnpicklerOptions = {
  resolveGlobal(module, name) {
    throw new PickleError(`refusing to load ${module}.${name}`);
  },
};
const load = (data: Uint8Array, options: UnpicklerOptions = refuseAll) => unpickle(data, options);

describe('restricted unpickler: scalars', () => {
  it('reads None, booleans and every integer width, including negative and beyond 2^53', () => {
    const values = [
      [bytes(OP.NONE), null],
      [bytes(OP.NEWTRUE), true],
      [bytes(OP.NEWFALSE), false],
      [int(200), 200],
      [int(40_000), 40_000],
      [int(-5), -5],
      [int(2 ** 31 - 1), 2 ** 31 - 1],
      [int(2 ** 40), 2 ** 40],
      [int(-(2 ** 40)), -(2 ** 40)],
      [int(2n ** 63n - 1n), 2n ** 63n - 1n],
      [int(-(2n ** 62n)), -(2n ** 62n)],
      [bytes(OP.LONG1, 0), 0],
    ] as const;
    for (const [encoded, expected] of values) expect(load(pickle(encoded))).toEqual(expected);
  });

  it('reads big-endian BINFLOAT', () => {
    expect(load(pickle(float(-1.25e-3)))).toBe(-1.25e-3);
    expect(load(pickle(float(Infinity)))).toBe(Infinity);
  });

  it('reads BINUNICODE, SHORT_BINUNICODE, byte strings and py2 strings', () => {
    expect(load(pickle(str('blocks.0.attn.qkv.weight — µm')))).toBe('blocks.0.attn.qkv.weight — µm');
    expect(load(pickle(shortStr('cls_token')))).toBe('cls_token');
    expect(load(pickle(bytes(OP.SHORT_BINBYTES, 3, 1, 2, 255)))).toEqual(Uint8Array.of(1, 2, 255));
    expect(load(pickle(bytes(OP.BINBYTES, 2, 0, 0, 0, 7, 8)))).toEqual(Uint8Array.of(7, 8));
    expect(load(pickle(bytes(OP.SHORT_BINSTRING, 2, 0x68, 0x69)))).toBe('hi');
  });

  it('accepts protocol 4 framing and refuses a protocol from the future', () => {
    expect(load(bytes(proto(4), OP.FRAME, 3, 0, 0, 0, 0, 0, 0, 0, int(9), stop()))).toBe(9);
    expect(() => load(bytes(proto(6), int(1), stop()))).toThrow('pickle protocol 6 is newer than 5');
  });
});

describe('restricted unpickler: containers', () => {
  it('builds tuples of every arity', () => {
    expect(load(pickle(OP.EMPTY_TUPLE))).toEqual(new PickleTuple([]));
    expect(load(pickle(int(1), OP.TUPLE1))).toEqual(new PickleTuple([1]));
    expect(load(pickle(int(1), int(2), OP.TUPLE2))).toEqual(new PickleTuple([1, 2]));
    expect(load(pickle(int(1), int(2), int(3), OP.TUPLE3))).toEqual(new PickleTuple([1, 2, 3]));
    expect(load(pickle(OP.MARK, int(1), int(2), int(3), int(4), OP.TUPLE))).toEqual(new PickleTuple([1, 2, 3, 4]));
  });

  it('builds lists with APPEND, APPENDS and LIST', () => {
    expect(load(pickle(OP.EMPTY_LIST, int(1), OP.APPEND, OP.MARK, int(2), int(3), OP.APPENDS))).toEqual([1, 2, 3]);
    expect(load(pickle(OP.MARK, str('a'), OP.NONE, OP.LIST))).toEqual(['a', null]);
  });

  it('builds dicts with SETITEM, SETITEMS and DICT, keeping insertion order', () => {
    const value = load(pickle(OP.EMPTY_DICT, str('b'), int(1), OP.SETITEM, OP.MARK, str('a'), int(2), int(7), str('seven'), OP.SETITEMS));
    expect(value).toEqual(new Map<unknown, unknown>([['b', 1], ['a', 2], [7, 'seven']]));
    expect(load(pickle(OP.MARK, str('k'), OP.NEWTRUE, OP.DICT))).toEqual(new Map([['k', true]]));
  });

  it('shares memoised values through BINPUT/BINGET, LONG_BINPUT/LONG_BINGET and MEMOIZE', () => {
    const shared = load(pickle(OP.EMPTY_LIST, OP.BINPUT, 0, OP.BINGET, 0, OP.TUPLE2)) as PickleTuple;
    expect(shared.items[0]).toBe(shared.items[1]);
    const long = load(pickle(str('x'), OP.LONG_BINPUT, 1, 1, 0, 0, OP.POP, OP.LONG_BINGET, 1, 1, 0, 0)) as string;
    expect(long).toBe('x');
    expect(load(bytes(proto(4), str('m'), OP.MEMOIZE, OP.POP, OP.BINGET, 0, stop()))).toBe('m');
  });

  it('supports POP, POP_MARK and DUP', () => {
    expect(load(pickle(int(1), int(2), OP.POP))).toBe(1);
    expect(load(pickle(int(1), OP.MARK, int(2), int(3), OP.POP_MARK))).toBe(1);
    expect(load(pickle(int(5), OP.DUP, OP.TUPLE2))).toEqual(new PickleTuple([5, 5]));
  });

  it('refuses malformed structure with the byte at fault', () => {
    expect(() => load(pickle(OP.APPEND))).toThrow(/stack underflow \(byte 2\)/);
    expect(() => load(pickle(int(1), int(2), OP.APPEND))).toThrow('APPEND on a value that is not a list');
    expect(() => load(pickle(OP.EMPTY_DICT, OP.EMPTY_LIST, int(1), OP.SETITEM))).toThrow('dict keys must be strings');
    expect(() => load(pickle(OP.BINGET, 3))).toThrow('memo entry 3 was never stored');
    expect(() => load(pickle(int(1), int(2)))).toThrow('STOP with an unbalanced stack');
    expect(() => load(bytes(proto(), int(1)))).toThrow('the pickle ends without STOP (truncated?)');
    expect(() => load(bytes(proto(), OP.BINUNICODE, 0xff, 0xff, 0, 0, 0x61, stop()))).toThrow(/length of 65535 exceeds/);
    expect(() => load(pickle(OP.INST))).toThrow('opcode 0x69 is not supported by the restricted unpickler');
  });
});

describe('restricted unpickler: globals, REDUCE, BUILD and persistent ids', () => {
  it('refuses os.system via GLOBAL + REDUCE before anything can run', () => {
    const attack = pickle(global('os', 'system'), str('touch /tmp/pwned'), OP.TUPLE1, OP.REDUCE);
    expect(() => unpickleTorch(attack)).toThrow('refusing to load os.system: not a tensor checkpoint');
    // The same with STACK_GLOBAL (protocol 4) and via builtins.eval.
    const stackAttack = bytes(proto(4), shortStr('builtins'), shortStr('eval'), OP.STACK_GLOBAL, str('1+1'), OP.TUPLE1, OP.REDUCE, stop());
    expect(() => unpickleTorch(stackAttack)).toThrow('refusing to load builtins.eval: not a tensor checkpoint');
  });

  it('calls only the TypeScript implementation of an allowed global', () => {
    const reduce = vi.fn((args: readonly unknown[]) => ({ sum: (args[0] as number) + (args[1] as number) }));
    const adder = allowGlobal('maths', 'add', reduce);
    const options: UnpicklerOptions = { resolveGlobal: () => adder };
    expect(load(pickle(global('maths', 'add'), int(2), int(3), OP.TUPLE2, OP.REDUCE), options)).toEqual({ sum: 5 });
    expect(reduce).toHaveBeenCalledOnce();
  });

  it('refuses REDUCE on values that are not allow-listed callables', () => {
    const marker = allowGlobal('torch', 'FloatStorage');
    expect(() => load(pickle(global('torch', 'FloatStorage'), OP.EMPTY_TUPLE, OP.REDUCE), { resolveGlobal: () => marker })).toThrow('torch.FloatStorage cannot be called');
    // A forged object that looks like a global is not one.
    expect(() => load(pickle(OP.EMPTY_DICT, OP.EMPTY_TUPLE, OP.REDUCE))).toThrow('REDUCE on something that is not a global');
    expect(() => load(pickle(OP.NEWOBJ))).toThrow('opcode 0x81');
  });

  it('accepts BUILD only as attributes of a dict (a state dict with _metadata)', () => {
    const withMetadata = pickle(orderedDict(), str('w'), int(1), OP.SETITEM, dict([['_metadata', dict([['', dict([['version', int(1)]])]])]]), OP.BUILD);
    expect(unpickleTorch(withMetadata)).toEqual(new Map([['w', 1]]));
    expect(() => load(pickle(OP.EMPTY_LIST, OP.EMPTY_DICT, OP.BUILD))).toThrow('BUILD on a value that is not a dict');
  });

  it('refuses persistent ids unless the caller resolves them', () => {
    expect(() => load(pickle(str('x'), OP.BINPERSID))).toThrow('persistent ids are not allowed here');
    const options: UnpicklerOptions = { ...refuseAll, persistentLoad: (id) => `loaded ${String(id)}` };
    expect(load(pickle(str('x'), OP.BINPERSID), options)).toBe('loaded x');
  });
});

describe('torch tensor records', () => {
  it('rebuilds a tensor record from its storage persistent id, shape and stride', () => {
    const record = unpickleTorch(pickle(tensorRecord({ storageType: 'HalfStorage', key: '3', storageElements: 12, offset: 2, shape: [2, 3], stride: [1, 4] })));
    expect(record).toBeInstanceOf(TorchTensorRecord);
    const tensor = record as TorchTensorRecord;
    expect(tensor.storage).toEqual({ key: '3', dtype: 'F16', elementCount: 12 });
    expect([tensor.storageOffset, tensor.shape, tensor.stride]).toEqual([2, [2, 3], [1, 4]]);
  });

  it('unwraps parameters and shares one storage between the views of it', () => {
    const a = tensorRecord({ key: '0', storageElements: 6, shape: [2, 3] });
    const parameter = bytes(global('torch._utils', '_rebuild_parameter'), tensorRecord({ key: '0', storageElements: 6, shape: [3, 2], stride: [1, 3] }), OP.NEWTRUE, orderedDict(), OP.TUPLE3, OP.REDUCE);
    const value = unpickleTorch(pickle(a, parameter, OP.TUPLE2)) as PickleTuple;
    const [first, second] = value.items as TorchTensorRecord[];
    expect(second).toBeInstanceOf(TorchTensorRecord);
    expect(first!.storage).toBe(second!.storage);
  });

  it('names unsupported storages and malformed records', () => {
    expect(() => unpickleTorch(pickle(tensorRecord({ storageType: 'ComplexFloatStorage', key: '0', storageElements: 1, shape: [1] })))).toThrow(
      'tensors stored as torch.ComplexFloatStorage are not supported',
    );
    const badId = pickle(str('not-a-storage'), OP.BINPERSID);
    expect(() => unpickleTorch(badId)).toThrow("unexpected persistent id \"not-a-storage\": expected ('storage', type, key, location, size)");
    const escaping = pickle(tensorRecord({ key: '../../etc/passwd', storageElements: 1, shape: [1] }));
    expect(() => unpickleTorch(escaping)).toThrow('storage key "../../etc/passwd" is not a plain name');
    const negative = pickle(tensorRecord({ key: '0', storageElements: 4, shape: [2], stride: [-1 as number] }));
    expect(() => unpickleTorch(negative)).toThrow('stride[0] must be a non-negative integer, got -1');
  });
});
