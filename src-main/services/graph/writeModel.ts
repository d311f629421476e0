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

/** Where a stored tensor's bytes lie in a shared data file. */
export interface SharedTensor {
  readonly shape: readonly number[];
  readonly byteLength: number;
  readonly offset: number;
}

/** A weights file written earlier (by writeModel), and a lookup of the tensors it holds by name. */
export interface SharedWeights {
  readonly dataPath: string;
  tensor(name: string): SharedTensor | undefined;
}

/**
 * Writes `graph` as a small model file whose large initializers point into a data file that
 * already holds them (the same network at another batch size, or a training graph over the
 * frozen weights), matched by name: each must be there with its shape and byte length. No weight
 * is copied and lazy weights are never read, except the small ones kept inline. The model must
 * lie in the data file's folder (ONNX Runtime resolves external data beside the model).
 */
export async function writeModelSharingData(graph: Graph, modelPath: string, shared: SharedWeights, options: WriteModelOptions = {}): Promise<WrittenModel> {
  const { dataPath } = shared;
  if (path.resolve(path.dirname(modelPath)) !== path.resolve(path.dirname(dataPath))) {
    throw new Error(`${modelPath}: a model sharing weights must lie in the folder of ${dataPath} (ONNX Runtime finds the data beside the model)`);
  }
  const location = path.basename(dataPath);
  const { plan } = planPlacements(graph, options.inlineBelowBytes ?? 1024, options.alignment ?? 4096);
  const placements = new Map<string, InitializerPlacement>();
  for (const [initializer, planned] of plan) {
    const { name, shape } = initializer.tensor;
    if (planned.kind === 'inline') {
      placements.set(name, { kind: 'inline', bytes: arrayBytes(await loadWeights(initializer)) });
      continue;
    }
    const stored = shared.tensor(name);
    if (!stored) throw new Error(`${dataPath}: holds no tensor "${name}", which ${graph.name} needs: it was written for another network`);
    if (stored.byteLength !== planned.length || stored.shape.length !== shape.length || stored.shape.some((dim, i) => dim !== shape[i])) {
      throw new Error(`${dataPath}: tensor "${name}" is [${stored.shape.join(',')}] in ${stored.byteLength} bytes, but ${graph.name} needs ${initializer.tensor.describe()} in ${planned.length}`);
    }
    placements.set(name, { kind: 'external', location, offset: stored.offset, length: stored.byteLength });
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

/** The SharedWeights of a model that writeModel just wrote (its placements, in memory). */
export function sharedWeightsOf(written: WrittenModel, graph: Graph): SharedWeights {
  if (!written.dataPath) throw new Error(`${written.modelPath}: every weight is inline; there is no data file to share`);
  const shapes = new Map(graph.initializers.map(({ tensor }) => [tensor.name, tensor.shape]));
  return {
    dataPath: written.dataPath,
    tensor(name) {
      const placement = written.placements.get(name);
      const shape = shapes.get(name);
      return placement?.kind === 'external' && shape ? { shape, byteLength: placement.length, offset: placement.offset } : undefined;
    },
  };
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
