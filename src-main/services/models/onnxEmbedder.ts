import fs from 'node:fs/promises';
import path from 'node:path';
import { ProtoWriter } from '../graph/ProtoWriter';
import { CheckpointError } from './CheckpointError';
import type { OnnxDim, OnnxModelFile, OnnxValueInfo } from './checkpoints/OnnxModelFile';

/**
 * A generic ONNX image encoder as an embedder: which tensors may be the embedding, a derived
 * copy of the model that exposes an intermediate tensor as a graph output, and the default
 * preprocessing read from the model's input.
 */

/** A tensor a user may choose as the embedding. */
export interface EmbeddingCandidate {
  readonly name: string;
  /** 'output' for a graph output; else the op type of the node that makes it. */
  readonly source: string;
  readonly shape?: OnnxDim[];
}

/** Ops whose outputs are usual embeddings (pooled features, projections). */
const POOLING_OPS = new Set(['GlobalAveragePool', 'Flatten', 'ReduceMean', 'Gemm']);

/** Graph outputs first, then node outputs that have value_info or come from a pooling/projection op. */
export function embeddingCandidates(model: OnnxModelFile): EmbeddingCandidate[] {
  const candidates: EmbeddingCandidate[] = model.outputs.map((output) => ({ name: output.name, source: 'output', ...(output.shape ? { shape: [...output.shape] } : {}) }));
  const seen = new Set(candidates.map((candidate) => candidate.name));
  const declared = new Map(model.valueInfo.map((info) => [info.name, info]));
  for (const node of model.nodes) {
    for (const name of node.outputs) {
      if (!name || seen.has(name)) continue;
      const info = declared.get(name);
      if (!info && !POOLING_OPS.has(node.opType)) continue;
      seen.add(name);
      candidates.push({ name, source: node.opType, ...(info?.shape ? { shape: [...info.shape] } : {}) });
    }
  }
  return candidates;
}

/** The value a tensor name refers to: a graph output, or a node output (with its value_info when declared). */
export function findEmbeddingTensor(model: OnnxModelFile, name: string): { readonly isOutput: boolean; readonly info: OnnxValueInfo } {
  const output = model.outputs.find((candidate) => candidate.name === name);
  if (output) return { isOutput: true, info: output };
  if (!model.nodes.some((node) => node.outputs.includes(name))) {
    const outputs = model.outputs.map((candidate) => `"${candidate.name}"`).join(', ') || 'none';
    throw new CheckpointError(model.filePath, `no node of this model produces it, and it is not a graph output (its outputs: ${outputs})`, name);
  }
  return { isOutput: false, info: model.valueInfo.find((candidate) => candidate.name === name) ?? { name, dataType: 1, dtype: 'F32' } };
}

/** ValueInfoProto: name, and a tensor type with the element type and the shape when known. */
export function encodeValueInfo(info: OnnxValueInfo): Uint8Array {
  return new ProtoWriter()
    .string(1, info.name)
    .message(2, (type) =>
      type.message(1, (tensor) => {
        tensor.int(1, info.dataType ?? 1);
        if (info.shape) {
          const shape = info.shape;
          tensor.message(2, (dims) => {
            for (const dim of shape) dims.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : typeof dim === 'string' ? d.string(2, dim) : d));
          });
        }
      }),
    )
    .finish();
}

const MODEL_GRAPH_FIELD = 7;
const GRAPH_OUTPUT_FIELD = 12;

/**
 * Adds graph outputs to a ModelProto without decoding it: the GraphProto field's bytes get
 * encoded `output` fields appended (a protobuf message may be extended by concatenation) and
 * its length prefix rewritten; every other byte is copied as it is.
 */
export function appendGraphOutputs(modelBytes: Uint8Array, outputs: readonly OnnxValueInfo[], what = 'model'): Uint8Array {
  const graph = findTopLevelField(modelBytes, MODEL_GRAPH_FIELD, what);
  const extra = new ProtoWriter();
  for (const output of outputs) extra.bytes(GRAPH_OUTPUT_FIELD, encodeValueInfo(output));
  const extraBytes = extra.finish();
  const merged = new Uint8Array(graph.valueEnd - graph.valueStart + extraBytes.length);
  merged.set(modelBytes.subarray(graph.valueStart, graph.valueEnd));
  merged.set(extraBytes, graph.valueEnd - graph.valueStart);
  const field = new ProtoWriter().bytes(MODEL_GRAPH_FIELD, merged).finish();
  return Buffer.concat([modelBytes.subarray(0, graph.tagStart), field, modelBytes.subarray(graph.valueEnd)]);
}

/** Where the (last) length-delimited field `wanted` lies in a message: its tag and its value. */
function findTopLevelField(bytes: Uint8Array, wanted: number, what: string): { tagStart: number; valueStart: number; valueEnd: number } {
  let position = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (position >= bytes.length) throw new Error(`${what}: the model ends inside a varint (truncated?)`);
      const byte = bytes[position++]!;
      result += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) return result;
    }
    throw new Error(`${what}: a varint is longer than 10 bytes`);
  };
  let found: { tagStart: number; valueStart: number; valueEnd: number } | null = null;
  while (position < bytes.length) {
    const tagStart = position;
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (wireType === 0) varint();
    else if (wireType === 1) position += 8;
    else if (wireType === 5) position += 4;
    else if (wireType === 2) {
      const length = varint();
      const valueStart = position;
      position += length;
      if (field === wanted) found = { tagStart, valueStart, valueEnd: position };
    } else throw new Error(`${what}: wire type ${wireType} is not supported`);
    if (position > bytes.length) throw new Error(`${what}: a field runs past the end of the model (truncated?)`);
  }
  if (!found) throw new Error(`${what}: it holds no graph`);
  return found;
}

/**
 * Writes `<folder>/model.onnx`: the model with `tensor` added as a graph output. External data
 * files are linked (or copied when links are refused) beside it under their relative locations.
 */
export async function writeDerivedModel(model: OnnxModelFile, tensor: OnnxValueInfo, folder: string): Promise<string> {
  await fs.mkdir(folder, { recursive: true });
  const sourceFolder = path.dirname(model.filePath);
  const externalFiles = new Set(model.tensors().map((entry) => entry.file).filter((file) => file !== model.filePath));
  for (const file of externalFiles) {
    const target = path.join(folder, path.relative(sourceFolder, file));
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rm(target, { force: true });
    await fs.symlink(file, target).catch(() => fs.copyFile(file, target));
  }
  const bytes = await fs.readFile(model.filePath);
  const derivedPath = path.join(folder, 'model.onnx');
  await fs.writeFile(derivedPath, appendGraphOutputs(bytes, [tensor], model.filePath));
  return derivedPath;
}

/** A paddle2onnx export: it says so in its producer or graph name, or names its dimensions "p2o.…". */
export function isPaddleExport(model: OnnxModelFile): boolean {
  if (/paddle/i.test(`${model.producerName} ${model.graphName}`)) return true;
  return model.inputs.some((input) => input.shape?.some((dim) => typeof dim === 'string' && dim.startsWith('p2o.')));
}

/** Mean/std of the model family: PaddlePaddle exports normalise to [-1, 1]; others are ImageNet models. */
export function defaultNormalisation(paddle: boolean): { mean: number[]; std: number[] } {
  if (paddle) return { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  return { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
}

/**
 * The NCHW shape fed at batch 1: fixed dimensions as declared; symbolic ones take the batch 1,
 * 3 channels and a default height × width (PaddleOCR's text-line classifier was trained on
 * 48 × 192; others on 224 × 224). `override` (from the user) wins where it is given.
 */
export function defaultInputShape(input: OnnxValueInfo, paddle: boolean, override?: readonly number[]): number[] {
  const declared = input.shape ?? [null, 3, null, null];
  if (override) {
    if (override.length !== declared.length) throw new Error(`input "${input.name}" has ${declared.length} dimensions, but ${override.length} were given (${override.join(' × ')})`);
    declared.forEach((dim, i) => {
      if (typeof dim === 'number' && dim > 0 && override[i] !== dim) throw new Error(`input "${input.name}" has a fixed dimension ${i} of ${dim}, but ${override[i]} was given`);
    });
    return [...override];
  }
  const [height, width] = paddle ? [48, 192] : [224, 224];
  return declared.map((dim, i) => (typeof dim === 'number' && dim > 0 ? dim : i === 0 ? 1 : i === 1 ? 3 : i === declared.length - 2 ? height : width));
}

/** Runs the model once on zeros (CPU) to learn the shape of `outputName` when the file does not declare it. */
export async function discoverOutputShape(modelPath: string, inputName: string, inputShape: readonly number[], outputName: string): Promise<number[]> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  try {
    const size = inputShape.reduce((product, dim) => product * dim, 1);
    const result = await session.run({ [inputName]: new ort.Tensor('float32', new Float32Array(size), [...inputShape]) }, [outputName]);
    const value = result[outputName];
    if (!value) throw new Error(`${modelPath}: the run gave no "${outputName}"`);
    return value.dims.map(Number);
  } finally {
    await session.release();
  }
}

/** Elements per image: the product of the dimensions after the batch (a [1, 200, 1, 1] pool is 200). */
export function embeddingWidthOf(shape: readonly OnnxDim[] | undefined): number | null {
  if (!shape || shape.length < 2) return null;
  let width = 1;
  for (const dim of shape.slice(1)) {
    if (typeof dim !== 'number' || dim <= 0) return null;
    width *= dim;
  }
  return width;
}
