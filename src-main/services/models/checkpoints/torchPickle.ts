import type { SafetensorsDType } from '../safetensors';
import { allowGlobal, PickleError, PickleTuple, unpickle } from './RestrictedUnpickler';
import type { AllowedGlobal } from './RestrictedUnpickler';

/** One storage of a torch.save archive: its bytes are the member `<archive>/data/<key>`. */
export interface TorchStorage {
  readonly key: string;
  readonly dtype: SafetensorsDType;
  /** Elements, as the pickle declares them (checked against the member's size on open). */
  readonly elementCount: number;
}

/** A tensor record of data.pkl: a view (offset, size, stride in elements) of a storage. */
export class TorchTensorRecord {
  constructor(
    readonly storage: TorchStorage,
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

/** torch's legacy typed-storage classes name the element type of the tensors that use them. */
const STORAGE_DTYPES: Readonly<Record<string, SafetensorsDType>> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
  UInt16Storage: 'U16',
  UInt32Storage: 'U32',
  UInt64Storage: 'U64',
  UntypedStorage: 'U8',
};

/** dtype objects (`torch.float32`) may sit in a checkpoint as plain values. */
const DTYPE_NAMES = ['float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16', 'int64', 'long', 'int32', 'int', 'int16', 'int8', 'uint8', 'bool'];

const storageTypes = new Map<AllowedGlobal, SafetensorsDType>();

function nonNegativeInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new PickleError(`${what} must be a non-negative integer, got ${describe(value)}`);
  }
  return value;
}

function integerTuple(value: unknown, what: string): number[] {
  const items = value instanceof PickleTuple ? value.items : Array.isArray(value) ? value : undefined;
  if (!items) throw new PickleError(`${what} must be a tuple of integers, got ${describe(value)}`);
  return items.map((item, index) => nonNegativeInteger(item, `${what}[${index}]`));
}

function describe(value: unknown): string {
  if (value === null) return 'None';
  if (value instanceof PickleTuple) return 'a tuple';
  if (value instanceof Map) return 'a dict';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof TorchTensorRecord) return 'a tensor';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
function rebuildTensor(args: readonly unknown[]): TorchTensorRecord {
  if (args.length < 4) throw new PickleError(`_rebuild_tensor_v2 needs at least 4 arguments, got ${args.length}`);
  const [storage, offset, size, stride] = args;
  if (!isStorage(storage)) throw new PickleError(`_rebuild_tensor_v2 needs a storage, got ${describe(storage)}`);
  const shape = integerTuple(size, 'size');
  const strides = integerTuple(stride, 'stride');
  if (shape.length !== strides.length) throw new PickleError(`size [${shape.join(',')}] and stride [${strides.join(',')}] differ in rank`);
  return new TorchTensorRecord(storage, nonNegativeInteger(offset, 'storage offset'), shape, strides);
}

/** `_rebuild_parameter(data, requires_grad, backward_hooks[, state])`: a Parameter is its data. */
function rebuildParameter(args: readonly unknown[]): TorchTensorRecord {
  const [data] = args;
  if (!(data instanceof TorchTensorRecord)) throw new PickleError(`_rebuild_parameter needs a tensor, got ${describe(data)}`);
  return data;
}

function orderedDict(args: readonly unknown[]): Map<unknown, unknown> {
  const map = new Map<unknown, unknown>();
  const [items] = args;
  if (items === undefined) return map;
  const pairs = items instanceof PickleTuple ? items.items : Array.isArray(items) ? items : undefined;
  if (!pairs) throw new PickleError(`OrderedDict needs a list of pairs, got ${describe(items)}`);
  for (const pair of pairs) {
    const kv = pair instanceof PickleTuple ? pair.items : Array.isArray(pair) ? pair : [];
    if (kv.length !== 2) throw new PickleError('OrderedDict items must be (key, value) pairs');
    map.set(kv[0], kv[1]);
  }
  return map;
}

const ALLOWED = new Map<string, AllowedGlobal>([
  ['collections.OrderedDict', allowGlobal('collections', 'OrderedDict', orderedDict)],
  ['torch._utils._rebuild_tensor_v2', allowGlobal('torch._utils', '_rebuild_tensor_v2', rebuildTensor)],
  ['torch._utils._rebuild_parameter', allowGlobal('torch._utils', '_rebuild_parameter', rebuildParameter)],
  ['torch._utils._rebuild_parameter_with_state', allowGlobal('torch._utils', '_rebuild_parameter_with_state', rebuildParameter)],
  ...DTYPE_NAMES.map((name): [string, AllowedGlobal] => [`torch.${name}`, allowGlobal('torch', name)]),
]);
for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) {
  const global = allowGlobal('torch', name);
  ALLOWED.set(`torch.${name}`, global);
  storageTypes.set(global, dtype);
}
const untyped = allowGlobal('torch.storage', 'UntypedStorage');
ALLOWED.set('torch.storage.UntypedStorage', untyped);
storageTypes.set(untyped, 'U8');

/** The allow-list: anything not on it is refused before any opcode could use it. */
export function resolveTorchGlobal(module: string, name: string): AllowedGlobal {
  const qualified = `${module}.${name}`;
  const global = ALLOWED.get(qualified);
  if (global) return global;
  if (module === 'torch' && name.endsWith('Storage')) throw new PickleError(`tensors stored as ${qualified} are not supported (element type not readable)`);
  throw new PickleError(`refusing to load ${qualified}: not a tensor checkpoint`);
}

function isStorage(value: unknown): value is TorchStorage {
  return typeof value === 'object' && value !== null && storageRecords.has(value);
}

const storageRecords = new WeakSet<object>();

/**
 * Parses torch.save's data.pkl. Persistent ids are `('storage', <storage type>, key, location,
 * element count)`; each key maps to one TorchStorage shared by all the tensors that view it.
 */
export function unpickleTorch(bytes: Uint8Array): unknown {
  const storages = new Map<string, TorchStorage>();
  return unpickle(bytes, {
    resolveGlobal: resolveTorchGlobal,
    persistentLoad(id) {
      const items = id instanceof PickleTuple ? id.items : [];
      const [kind, type, key, , count] = items;
      if (items.length !== 5 || kind !== 'storage') throw new PickleError(`unexpected persistent id ${describe(id)}: expected ('storage', type, key, location, size)`);
      const dtype = storageTypes.get(type as AllowedGlobal);
      if (!dtype) throw new PickleError(`persistent id names ${describe(type)}, not a storage type`);
      if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(key)) throw new PickleError(`storage key ${describe(key)} is not a plain name`);
      const elementCount = nonNegativeInteger(count, `size of storage ${key}`);
      const known = storages.get(key);
      if (known) {
        if (known.dtype !== dtype) throw new PickleError(`storage ${key} is used as both ${known.dtype} and ${dtype}`);
        return known;
      }
      const storage: TorchStorage = { key, dtype, elementCount };
      storageRecords.add(storage);
      storages.set(key, storage);
      return storage;
    },
  });
}
