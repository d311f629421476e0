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
/** Where each initializer goes: inline, or at an aligned offset of the data file, in graph order. */
type PlannedPlacement = { readonly kind: 'inline' } | { readonly kind: 'external'; readonly offset: number; readonly length: number };

function planPlacements(graph: Graph, inlineBelow: number, alignment: number): { plan: Map<Initializer, PlannedPlacement>; dataBytes: number } {
  const plan = new Map<Initializer, PlannedPlacement>();
  let position = 0;
  let end = 0;
  for (const initializer of graph.initializers) {
    const length = elementCount(initializer.tensor.shape) * bytesPerElement(initializer.tensor.dtype);
    if (length < inlineBelow) {
      plan.set(initializer, { kind: 'inline' });
      continue;
    }
    position = Math.ceil(position / alignment) * alignment;
    plan.set(initializer, { kind: 'external', offset: position, length });
    position += length;
    end = position;
  }
  return { plan, dataBytes: end };
}

/**
 * Writes `graph` as `modelPath` (an ONNX ModelProto) and its large initializers to
 * `<model file name>.data` beside it. Weights are streamed: each initializer is loaded (if it
 * is lazy), written in chunks and released before the next, so the weights are never held
 * twice. Both files appear under their final names only when complete. ORT must load the model
 * from its path, which resolves the data file relative to the model (pitfall 9).
 */
export async function writeModel(graph: Graph, modelPath: string, options: WriteModelOptions = {}): Promise<WrittenModel> {
  const dataName = `${path.basename(modelPath)}.data`;
  const dataPath = path.join(path.dirname(modelPath), dataName);
  const temporaryModel = `${modelPath}.partial`;
  const temporaryData = `${dataPath}.partial`;
  const { plan, dataBytes } = planPlacements(graph, options.inlineBelowBytes ?? 1024, options.alignment ?? 4096);
  const placements = new Map<string, InitializerPlacement>();
  let dataFile: fs.FileHandle | undefined;
  try {
    for (const [initializer, planned] of plan) {
      const bytes = arrayBytes(await loadWeights(initializer));
      if (planned.kind === 'inline') {
        placements.set(initializer.tensor.name, { kind: 'inline', bytes });
        continue;
      }
      dataFile ??= await fs.open(temporaryData, 'w');
      await writeChunked(dataFile, bytes, planned.offset, Math.min(options.chunkBytes ?? WRITE_CHUNK_BYTES, WRITE_CHUNK_BYTES));
      placements.set(initializer.tensor.name, { kind: 'external', location: dataName, offset: planned.offset, length: planned.length });
    }
    await dataFile?.close();
    dataFile = undefined;
    const modelBytes = await writeProto(graph, placements, temporaryModel, modelPath, options);
    if (dataBytes > 0) await fs.rename(temporaryData, dataPath);
    else await fs.rm(dataPath, { force: true });
    await fs.rename(temporaryModel, modelPath);
    return { modelPath, ...(dataBytes > 0 ? { dataPath } : {}), modelBytes, externalBytes: externalTotal(placements), placements };
  } catch (error) {
    await dataFile?.close().catch(() => undefined);
    await fs.rm(temporaryData, { force: true });
    await fs.rm(temporaryModel, { force: true });
    throw error;
  }
}

/**
 * Writes another graph over the weights that `writeModel` already wrote for `dataModelPath`
 * (e.g. the same network at another batch size): only the small model file is written, its
 * external initializers pointing into the existing data file, so a variant costs no weight
 * copy and lazy weights are never read except the small inline ones. The graph must hold the
 * same initializers in the same order with the same options; the data file's size is checked
 * against that layout.
 */
export async function writeModelSharingData(graph: Graph, modelPath: string, dataModelPath: string, options: WriteModelOptions = {}): Promise<WrittenModel> {
  if (path.resolve(path.dirname(modelPath)) !== path.resolve(path.dirname(dataModelPath))) {
    throw new Error(`${modelPath}: a model sharing weights must lie in the folder of ${dataModelPath} (ONNX Runtime finds the data beside the model)`);
  }
  const dataName = `${path.basename(dataModelPath)}.data`;
  const dataPath = path.join(path.dirname(dataModelPath), dataName);
  const { plan, dataBytes } = planPlacements(graph, options.inlineBelowBytes ?? 1024, options.alignment ?? 4096);
  const size = await fs.stat(dataPath).then(
    (stat) => stat.size,
    () => -1,
  );
  if (size !== dataBytes) {
    throw new Error(`${dataPath}: ${size < 0 ? 'is missing' : `holds ${size} bytes`}, but the weights of ${graph.name} take ${dataBytes}: it was written for another network`);
  }
  const placements = new Map<string, InitializerPlacement>();
  for (const [initializer, planned] of plan) {
    placements.set(
      initializer.tensor.name,
      planned.kind === 'inline'
        ? { kind: 'inline', bytes: arrayBytes(await loadWeights(initializer)) }
        : { kind: 'external', location: dataName, offset: planned.offset, length: planned.length },
    );
  }
  const temporaryModel = `${modelPath}.partial`;
  try {
    const modelBytes = await writeProto(graph, placements, temporaryModel, modelPath, options);
    await fs.rename(temporaryModel, modelPath);
    return { modelPath, dataPath, modelBytes, externalBytes: externalTotal(placements), placements };
  } catch (error) {
    await fs.rm(temporaryModel, { force: true });
    throw error;
  }
}

async function writeProto(graph: Graph, placements: ReadonlyMap<string, InitializerPlacement>, temporaryPath: string, modelPath: string, options: ModelOptions): Promise<number> {
  const model = encodeModel(graph, placements, options);
  if (model.length > PROTOBUF_LIMIT_BYTES) {
    throw new Error(`${modelPath}: the model would be ${model.length} bytes, above protobuf's 2 GB limit; lower inlineBelowBytes`);
  }
  await fs.writeFile(temporaryPath, model);
  return model.length;
}

function externalTotal(placements: ReadonlyMap<string, InitializerPlacement>): number {
  let total = 0;
  for (const placement of placements.values()) if (placement.kind === 'external') total += placement.length;
  return total;
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
