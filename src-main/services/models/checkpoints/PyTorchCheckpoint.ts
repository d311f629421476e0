import fs from 'node:fs/promises';
import { CheckpointError } from '../CheckpointError';
import { cannotOpen } from '../fileReading';
import type { TensorEntry, TensorSource, TensorValues } from '../safetensors';
import { openShards, ShardedCheckpoint } from '../shardedCheckpoint';
import { PickleError } from './RestrictedUnpickler';
import { selectStateDict, StateDictError } from './stateDict';
import { decodeTensorBytes, elementBytes, elementCountOf, isContiguous, isReadableDType, materialiseView, swapBytes, viewExtent } from './tensorBytes';
import { TorchTensorRecord, unpickleTorch } from './torchPickle';
import { ZipArchive } from './ZipArchive';

export interface PyTorchOpenOptions {
  /** Dict keys leading to the state dict; by default found by the rule of `selectStateDict`. */
  readonly statePath?: readonly string[];
}

interface StoredTensor {
  readonly record: TorchTensorRecord;
  readonly entryName: string;
  readonly contiguous: boolean;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/** The legacy (pre-1.6) torch.save format starts with a protocol-2 pickle of a magic number. */
const PICKLE_PROTO = 0x80;

/**
 * One `torch.save` file (the zip format of PyTorch ≥ 1.6). `data.pkl` is read on open with the
 * restricted unpickler, so names, shapes and dtypes are known without reading tensor data;
 * each tensor's bytes are read from its storage member when asked for.
 */
export class PyTorchFile implements TensorSource {
  private constructor(
    readonly filePath: string,
    private readonly archive: ZipArchive,
    private readonly stored: ReadonlyMap<string, StoredTensor>,
    /** Keys followed from the pickle's root to the state dict (see selectStateDict). */
    readonly statePath: readonly string[],
    private readonly bigEndian: boolean,
  ) {}

  static async open(filePath: string, options: PyTorchOpenOptions = {}): Promise<PyTorchFile> {
    await checkMagic(filePath);
    const archive = await ZipArchive.open(filePath);
    try {
      const pickles = archive.entries().filter((entry) => /^[^/]+\/data\.pkl$/.test(entry.name) || entry.name === 'data.pkl');
      if (pickles.length !== 1) {
        throw new CheckpointError(filePath, pickles.length === 0 ? 'is a zip archive without data.pkl: not a torch.save checkpoint' : 'holds more than one data.pkl');
      }
      const pickleName = pickles[0]!.name;
      const prefix = pickleName.slice(0, -'data.pkl'.length);
      const bigEndian = await readByteOrder(archive, `${prefix}byteorder`);
      let root: unknown;
      try {
        root = unpickleTorch(await archive.read(pickleName));
      } catch (error) {
        if (error instanceof PickleError) throw new CheckpointError(filePath, `entry "${pickleName}": ${error.message}`);
        throw error;
      }
      let selected;
      try {
        selected = selectStateDict(root, (value): value is TorchTensorRecord => value instanceof TorchTensorRecord, options.statePath);
      } catch (error) {
        if (error instanceof StateDictError) throw new CheckpointError(filePath, error.message, error.tensorName);
        throw error;
      }
      const stored = new Map<string, StoredTensor>();
      for (const [name, record] of selected.tensors) stored.set(name, checkRecord(filePath, archive, prefix, name, record));
      return new PyTorchFile(filePath, archive, stored, selected.path, bigEndian);
    } catch (error) {
      await archive.close();
      throw error;
    }
  }

  tensors(): readonly TensorEntry[] {
    return [...this.stored.keys()].map((name) => this.entry(name));
  }

  has(name: string): boolean {
    return this.stored.has(name);
  }

  entry(name: string): TensorEntry {
    const { record } = this.tensor(name);
    const { dtype } = record.storage;
    return { name, dtype, shape: record.shape, byteLength: elementCountOf(record.shape) * elementBytes(dtype), file: this.filePath };
  }

  /** Whether the tensor was saved as a non-contiguous view (it is copied into row-major order on read). */
  isContiguous(name: string): boolean {
    return this.tensor(name).contiguous;
  }

  async read(name: string): Promise<TensorValues> {
    const { record, entryName, contiguous } = this.tensor(name);
    const { dtype } = record.storage;
    if (!isReadableDType(dtype)) throw new CheckpointError(this.filePath, `dtype ${dtype} is not supported yet`, name);
    const width = elementBytes(dtype);
    const extent = viewExtent(record.shape, record.stride);
    let bytes: Uint8Array;
    try {
      bytes = await this.archive.read(entryName, { offset: record.storageOffset * width, length: extent * width });
    } catch (error) {
      if (error instanceof CheckpointError) throw new CheckpointError(this.filePath, error.reason, name);
      throw error;
    }
    if (this.bigEndian) {
      bytes = bytes.slice();
      swapBytes(bytes, width);
    }
    if (!contiguous) bytes = materialiseView(bytes, width, record.shape, record.stride);
    return decodeTensorBytes(dtype, bytes);
  }

  async close(): Promise<void> {
    await this.archive.close();
  }

  private tensor(name: string): StoredTensor {
    const stored = this.stored.get(name);
    if (!stored) throw new CheckpointError(this.filePath, 'no such tensor in this file', name);
    return stored;
  }
}

async function checkMagic(filePath: string): Promise<void> {
  let head: Buffer;
  try {
    const handle = await fs.open(filePath, 'r');
    try {
      head = Buffer.alloc(4);
      const { bytesRead } = await handle.read(head, 0, 4, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw cannotOpen(filePath, error);
  }
  if (ZIP_MAGIC.every((byte, index) => head[index] === byte)) return;
  if (head[0] === PICKLE_PROTO) {
    throw new CheckpointError(filePath, "uses torch.save's legacy format (PyTorch before 1.6 or _use_new_zipfile_serialization=False), which is not supported: save it again with a current PyTorch, or as safetensors");
  }
  throw new CheckpointError(filePath, head.length < 4 ? 'is too short to be a checkpoint (truncated?)' : 'is not a PyTorch checkpoint (no zip signature)');
}

async function readByteOrder(archive: ZipArchive, entryName: string): Promise<boolean> {
  if (!archive.entry(entryName)) return false;
  const order = new TextDecoder().decode(await archive.read(entryName)).trim();
  if (order !== 'little' && order !== 'big') throw new CheckpointError(archive.filePath, `entry "${entryName}": unknown byte order "${order}"`);
  return order === 'big';
}

/** Checks on open that the tensor's view fits in its storage member, so a truncated file is reported early. */
function checkRecord(filePath: string, archive: ZipArchive, prefix: string, name: string, record: TorchTensorRecord): StoredTensor {
  const { storage } = record;
  const entryName = `${prefix}data/${storage.key}`;
  const entry = archive.entry(entryName);
  if (!entry) throw new CheckpointError(filePath, `its storage entry "${entryName}" is missing from the archive`, name);
  const width = elementBytes(storage.dtype);
  if (entry.size !== storage.elementCount * width) {
    throw new CheckpointError(filePath, `storage entry "${entryName}" holds ${entry.size} bytes, but data.pkl declares ${storage.elementCount} ${storage.dtype} elements (${storage.elementCount * width} bytes)`, name);
  }
  const extent = viewExtent(record.shape, record.stride);
  if (extent > 0 && record.storageOffset + extent > storage.elementCount) {
    throw new CheckpointError(
      filePath,
      `shape [${record.shape.join(',')}] with stride [${record.stride.join(',')}] at offset ${record.storageOffset} needs ${record.storageOffset + extent} elements, but storage "${entryName}" has ${storage.elementCount}`,
      name,
    );
  }
  return { record, entryName, contiguous: isContiguous(record.shape, record.stride) };
}

export const PYTORCH_INDEX_NAME = 'pytorch_model.bin.index.json';
export const PYTORCH_SINGLE_NAME = 'pytorch_model.bin';
const PYTORCH_LAYOUT = { indexName: PYTORCH_INDEX_NAME, singleName: PYTORCH_SINGLE_NAME };

/**
 * A PyTorch checkpoint as one file, or as shards named by `pytorch_model.bin.index.json`'s
 * `weight_map` (the same layout as sharded safetensors).
 */
export class PyTorchCheckpoint extends ShardedCheckpoint<PyTorchFile> {
  /** Opens a `.bin`/`.pt`/`.pth` file, an index JSON, or a folder holding either. */
  static async open(target: string, options: PyTorchOpenOptions = {}): Promise<PyTorchCheckpoint> {
    return new PyTorchCheckpoint(await openShards(target, PYTORCH_LAYOUT, (file) => PyTorchFile.open(file, options)));
  }
}
