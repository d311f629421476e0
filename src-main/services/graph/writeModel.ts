import fs from 'node:fs/promises';
import path from 'node:path';
import { bytesPerElement } from './dtype';
import type { Graph, Initializer } from './Graph';
import { checkWeightArray } from './Graph';
import { arrayBytes, encodeModel } from './onnxProto';
import type { InitializerPlacement, ModelOptions } from './onnxProto';
import { elementCount } from './shapes';

/** Node cannot write more than 2 GiB in one call (pitfall 8); smaller chunks also keep memory flat. */
const WRITE_CHUNK_BYTES = 64 * 1024 * 1024;
/** Protobuf refuses messages of 2 GB and more; ORT with it (pitfall 8). */
const PROTOBUF_LIMIT_BYTES = 2 ** 31 - 1;

export interface WriteModelOptions extends ModelOptions {
  /** Initializers smaller than this stay inside the model file (default 1 KiB; Infinity: all inline). */
  readonly inlineBelowBytes?: number;
  /** Each external tensor starts at a multiple of this many bytes (default 4096, a page). */
  readonly alignment?: number;
  /** Bytes per write call (at most and by default 64 MiB); tests lower it to exercise the chunking. */
  readonly chunkBytes?: number;
}

export interface WrittenModel {
  readonly modelPath: string;
  /** The external data file, absent when every initializer stayed inline. */
  readonly dataPath?: string;
  readonly modelBytes: number;
  readonly externalBytes: number;
  readonly placements: ReadonlyMap<string, InitializerPlacement>;
}

/**
 * Writes `graph` as `modelPath` (an ONNX ModelProto) and its large initializers to
 * `<model file name>.data` beside it. Weights are streamed: each initializer is loaded (if it
 * is lazy), written in chunks and released before the next, so the weights are never held
 * twice. Both files appear under their final names only when complete. ORT must load the model
 * from its path, which resolves the data file relative to the model (pitfall 9).
 */
export async function writeModel(graph: Graph, modelPath: string, options: WriteModelOptions = {}): Promise<WrittenModel> {
  const inlineBelow = options.inlineBelowBytes ?? 1024;
  const alignment = options.alignment ?? 4096;
  const dataName = `${path.basename(modelPath)}.data`;
  const dataPath = path.join(path.dirname(modelPath), dataName);
  const temporaryModel = `${modelPath}.partial`;
  const temporaryData = `${dataPath}.partial`;
  const placements = new Map<string, InitializerPlacement>();
  let externalBytes = 0;
  let dataFile: fs.FileHandle | undefined;
  try {
    let position = 0;
    for (const initializer of graph.initializers) {
      const byteLength = elementCount(initializer.tensor.shape) * bytesPerElement(initializer.tensor.dtype);
      if (byteLength < inlineBelow) {
        placements.set(initializer.tensor.name, { kind: 'inline', bytes: arrayBytes(await loadWeights(initializer)) });
        continue;
      }
      dataFile ??= await fs.open(temporaryData, 'w');
      position = Math.ceil(position / alignment) * alignment;
      await writeChunked(dataFile, arrayBytes(await loadWeights(initializer)), position, Math.min(options.chunkBytes ?? WRITE_CHUNK_BYTES, WRITE_CHUNK_BYTES));
      placements.set(initializer.tensor.name, { kind: 'external', location: dataName, offset: position, length: byteLength });
      position += byteLength;
      externalBytes += byteLength;
    }
    await dataFile?.close();
    dataFile = undefined;
    const model = encodeModel(graph, placements, options);
    if (model.length > PROTOBUF_LIMIT_BYTES) {
      throw new Error(`${modelPath}: the model would be ${model.length} bytes, above protobuf's 2 GB limit; lower inlineBelowBytes`);
    }
    await fs.writeFile(temporaryModel, model);
    if (externalBytes > 0) await fs.rename(temporaryData, dataPath);
    else await fs.rm(dataPath, { force: true });
    await fs.rename(temporaryModel, modelPath);
    return { modelPath, ...(externalBytes > 0 ? { dataPath } : {}), modelBytes: model.length, externalBytes, placements };
  } catch (error) {
    await dataFile?.close().catch(() => undefined);
    await fs.rm(temporaryData, { force: true });
    await fs.rm(temporaryModel, { force: true });
    throw error;
  }
}

async function loadWeights(initializer: Initializer) {
  const { tensor, data } = initializer;
  const array = typeof data === 'function' ? await data() : data;
  checkWeightArray(tensor.name, tensor.dtype, tensor.shape, array);
  return array;
}

async function writeChunked(file: fs.FileHandle, bytes: Uint8Array, position: number, chunkBytes: number): Promise<void> {
  for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
    const length = Math.min(chunkBytes, bytes.length - offset);
    let written = 0;
    while (written < length) {
      const result = await file.write(bytes, offset + written, length - written, position + offset + written);
      written += result.bytesWritten;
    }
  }
}
