import fs from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError } from '../CheckpointError';
import { cannotOpen, readTensorBytes } from '../fileReading';
import type { SafetensorsDType, TensorEntry, TensorSource, TensorValues } from '../safetensors';
import { ONNX_DTYPES, onnxDTypeName, parseTensorProto } from './onnxTensor';
import type { TensorProto } from './onnxTensor';
import { bytesOf, float32Of, integerOf, ProtoError, readMessage, stringOf, varintsOf, fixedBytesOf } from './ProtoReader';
import type { FieldValue } from './ProtoReader';
import { decodeTensorBytes, elementBytes, elementCountOf, isReadableDType } from './tensorBytes';
import type { SharedTensor, SharedWeights } from '../../graph/writeModel';

/** A dimension of a declared shape: a size, a symbolic name ("batch"), or null when unknown. */
export type OnnxDim = number | string | null;

/** A graph input, output or value_info entry: what a UI offers as "the embedding". */
export interface OnnxValueInfo {
  readonly name: string;
  /** ONNX element type code; undefined for non-tensor values (sequences, maps). */
  readonly dataType?: number;
  readonly dtype?: SafetensorsDType;
  /** undefined when the model declares no shape. */
  readonly shape?: readonly OnnxDim[];
}

export interface OnnxNodeInfo {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface OnnxTensorEntry extends TensorEntry {
  /** An initializer of the graph, or the value of a Constant node (named by its output). */
  readonly origin: 'initializer' | 'constant';
}

/** A weight the reader saw but cannot offer (string, complex, 4-bit, sparse tensors). */
export interface SkippedTensor {
  readonly name: string;
  readonly reason: string;
}

type Placement = { readonly kind: 'file'; readonly file: string; readonly offset: number } | { readonly kind: 'memory'; readonly bytes: Uint8Array };

interface StoredTensor {
  readonly entry: OnnxTensorEntry;
  readonly placement: Placement;
}

/* Field numbers from onnx/onnx.proto. */
const ModelField = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8 } as const;
const GraphField = { node: 1, name: 2, initializer: 5, input: 11, output: 12, valueInfo: 13, sparseInitializer: 15 } as const;
const NodeField = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const AttributeField = { name: 1, f: 2, i: 3, t: 5, floats: 7, ints: 8, sparseTensor: 22 } as const;
/** Node-less protobuf messages above this size are beyond what protobuf itself accepts. */
const PROTOBUF_LIMIT_BYTES = 2 ** 31 - 1;

interface ParsedGraph {
  name: string;
  nodes: OnnxNodeInfo[];
  tensors: { proto: TensorProto; origin: 'initializer' | 'constant' }[];
  skipped: SkippedTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
}

/**
 * The weights and interface of an ONNX model: initializers (inline or external data) and
 * Constant nodes' values as a TensorSource, plus the graph's inputs, outputs, value_info and
 * nodes, so that a user can choose the output or intermediate tensor that is the embedding.
 */
export class OnnxModelFile implements TensorSource {
  private readonly handles = new Map<string, Promise<fs.FileHandle>>();

  private constructor(
    readonly filePath: string,
    readonly irVersion: number,
    readonly producerName: string,
    /** Opset version per domain ('' is ai.onnx). */
    readonly opsets: ReadonlyMap<string, number>,
    readonly graphName: string,
    /** Inputs a caller must feed: declared inputs that are not initializers (old models list both). */
    readonly inputs: readonly OnnxValueInfo[],
    readonly outputs: readonly OnnxValueInfo[],
    readonly valueInfo: readonly OnnxValueInfo[],
    readonly nodes: readonly OnnxNodeInfo[],
    readonly skipped: readonly SkippedTensor[],
    private readonly stored: ReadonlyMap<string, StoredTensor>,
  ) {}

  static async open(modelPath: string): Promise<OnnxModelFile> {
    let bytes: Uint8Array;
    try {
      const size = (await fs.stat(modelPath)).size;
      if (size > PROTOBUF_LIMIT_BYTES) throw new CheckpointError(modelPath, `is ${size} bytes, above protobuf's 2 GB limit for one model file`);
      bytes = await fs.readFile(modelPath);
    } catch (error) {
      if (error instanceof CheckpointError) throw error;
      throw cannotOpen(modelPath, error);
    }
    let irVersion = 0;
    let producerName = '';
    const opsets = new Map<string, number>();
    let graph: ParsedGraph | undefined;
    try {
      readMessage(bytes, 'ModelProto', (field, value) => {
        if (field === ModelField.irVersion) irVersion = integerOf(value, 'ir_version');
        else if (field === ModelField.producerName) producerName = stringOf(value, 'producer_name');
        else if (field === ModelField.graph) graph = parseGraph(bytesOf(value, 'graph'));
        else if (field === ModelField.opsetImport) {
          let domain = '';
          let version = 0;
          readMessage(bytesOf(value, 'opset_import'), 'opset_import', (f, v) => {
            if (f === 1) domain = stringOf(v, 'opset domain');
            else if (f === 2) version = integerOf(v, 'opset version');
          });
          opsets.set(domain === 'ai.onnx' ? '' : domain, version);
        }
      });
    } catch (error) {
      if (error instanceof ProtoError) throw new CheckpointError(modelPath, `is not a valid ONNX model (${error.message})`);
      throw error;
    }
    if (!graph) throw new CheckpointError(modelPath, 'is not an ONNX model: it holds no graph');
    const parsed: ParsedGraph = graph;
    const stored = new Map<string, StoredTensor>();
    const skipped = [...parsed.skipped];
    for (const { proto, origin } of parsed.tensors) {
      const placed = await placeTensor(modelPath, bytes, proto, origin);
      if ('reason' in placed) skipped.push(placed);
      else if (stored.has(proto.name)) throw new CheckpointError(modelPath, 'the name is used by two initializers or constants', proto.name);
      else stored.set(proto.name, placed);
    }
    const inputs = parsed.inputs.filter((input) => !stored.has(input.name) || stored.get(input.name)!.entry.origin !== 'initializer');
    return new OnnxModelFile(modelPath, irVersion, producerName, opsets, parsed.name, inputs, parsed.outputs, parsed.valueInfo, parsed.nodes, skipped, stored);
  }

  tensors(): readonly OnnxTensorEntry[] {
    return [...this.stored.values()].map(({ entry }) => entry);
  }

  has(name: string): boolean {
    return this.stored.has(name);
  }

  entry(name: string): OnnxTensorEntry {
    return this.tensor(name).entry;
  }

  async read(name: string): Promise<TensorValues> {
    const { entry, placement } = this.tensor(name);
    if (!isReadableDType(entry.dtype)) throw new CheckpointError(this.filePath, `dtype ${entry.dtype} is not supported yet`, name);
    if (placement.kind === 'memory') return decodeTensorBytes(entry.dtype, placement.bytes);
    const handle = await this.handle(placement.file, name);
    return decodeTensorBytes(entry.dtype, await readTensorBytes(handle, placement.file, placement.offset, entry.byteLength, name));
  }

  /**
   * This model's weights file as SharedWeights, so that other graphs over the same weights (batch
   * variants, training graphs) can be written beside it without copying them.
   */
  sharedWeights(): SharedWeights {
    const external = new Map<string, SharedTensor>();
    const files = new Set<string>();
    for (const { entry, placement } of this.stored.values()) {
      if (placement.kind !== 'file' || placement.file === this.filePath) continue;
      files.add(placement.file);
      external.set(entry.name, { shape: entry.shape, byteLength: entry.byteLength, offset: placement.offset });
    }
    if (files.size !== 1) {
      throw new CheckpointError(this.filePath, files.size === 0 ? 'keeps no weights in an external data file to share' : `keeps its weights in ${files.size} data files; only one can be shared`);
    }
    return { dataPath: [...files][0]!, tensor: (name) => external.get(name) };
  }

  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map((pending) => pending.then((handle) => handle.close(), () => undefined)));
  }

  private handle(file: string, name: string): Promise<fs.FileHandle> {
    let pending = this.handles.get(file);
    if (!pending) {
      pending = fs.open(file, 'r');
      this.handles.set(file, pending);
    }
    return pending.catch((error: NodeJS.ErrnoException) => {
      this.handles.delete(file);
      throw cannotOpen(file, error, name);
    });
  }

  private tensor(name: string): StoredTensor {
    const stored = this.stored.get(name);
    if (!stored) throw new CheckpointError(this.filePath, 'no such initializer or constant in this model', name);
    return stored;
  }
}

function parseGraph(bytes: Uint8Array): ParsedGraph {
  const graph: ParsedGraph = { name: '', nodes: [], tensors: [], skipped: [], inputs: [], outputs: [], valueInfo: [] };
  readMessage(bytes, 'GraphProto', (field, value) => {
    switch (field) {
      case GraphField.name:
        graph.name = stringOf(value, 'graph name');
        break;
      case GraphField.node:
        parseNode(bytesOf(value, 'node'), graph);
        break;
      case GraphField.initializer:
        graph.tensors.push({ proto: parseTensorProto(bytesOf(value, 'initializer'), 'initializer'), origin: 'initializer' });
        break;
      case GraphField.sparseInitializer:
        graph.skipped.push({ name: sparseName(bytesOf(value, 'sparse_initializer')), reason: 'sparse initializers are not supported' });
        break;
      case GraphField.input:
        graph.inputs.push(parseValueInfo(bytesOf(value, 'input')));
        break;
      case GraphField.output:
        graph.outputs.push(parseValueInfo(bytesOf(value, 'output')));
        break;
      case GraphField.valueInfo:
        graph.valueInfo.push(parseValueInfo(bytesOf(value, 'value_info')));
        break;
    }
  });
  return graph;
}

/** SparseTensorProto's `values` (field 1) is a TensorProto that carries the name. */
function sparseName(bytes: Uint8Array): string {
  let name = '';
  readMessage(bytes, 'sparse_initializer', (field, value) => {
    if (field === 1) name = parseTensorProto(bytesOf(value, 'sparse values'), 'sparse values').name;
  });
  return name;
}

function parseNode(bytes: Uint8Array, graph: ParsedGraph): void {
  const inputs: string[] = [];
  const outputs: string[] = [];
  let name = '';
  let opType = '';
  let domain = '';
  const attributes: Uint8Array[] = [];
  readMessage(bytes, 'NodeProto', (field, value) => {
    if (field === NodeField.input) inputs.push(stringOf(value, 'node input'));
    else if (field === NodeField.output) outputs.push(stringOf(value, 'node output'));
    else if (field === NodeField.name) name = stringOf(value, 'node name');
    else if (field === NodeField.opType) opType = stringOf(value, 'op_type');
    else if (field === NodeField.domain) domain = stringOf(value, 'node domain');
    else if (field === NodeField.attribute) attributes.push(bytesOf(value, 'attribute'));
  });
  graph.nodes.push({ name, opType, domain, inputs, outputs });
  if (opType !== 'Constant' || (domain !== '' && domain !== 'ai.onnx') || outputs.length !== 1) return;
  const output = outputs[0]!;
  for (const attribute of attributes) {
    const constant = constantFromAttribute(attribute, output);
    if (!constant) continue;
    if ('reason' in constant) graph.skipped.push(constant);
    else graph.tensors.push({ proto: constant, origin: 'constant' });
  }
}

/** A Constant node's value: `value` (a tensor) or the scalar/list shorthands of opset 12+. */
function constantFromAttribute(bytes: Uint8Array, output: string): TensorProto | SkippedTensor | undefined {
  let name = '';
  const fields: { field: number; value: FieldValue }[] = [];
  readMessage(bytes, 'AttributeProto', (field, value) => {
    if (field === AttributeField.name) name = stringOf(value, 'attribute name');
    else fields.push({ field, value });
  });
  const find = (field: number) => fields.filter((entry) => entry.field === field).map((entry) => entry.value);
  const bytesOfArray = (array: ArrayBufferView) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  switch (name) {
    case 'value': {
      const [tensor] = find(AttributeField.t);
      if (!tensor) return undefined;
      // The tensor's own name is usually empty: a constant is known by its node's output.
      return { ...parseTensorProto(bytesOf(tensor, 'Constant value'), `Constant ${output}`), name: output };
    }
    case 'value_float': {
      const [f] = find(AttributeField.f);
      return f ? { name: output, dims: [], dataType: 1, typedData: bytesOfArray(Float32Array.of(float32Of(f, 'value_float'))) } : undefined;
    }
    case 'value_floats': {
      const chunks = find(AttributeField.floats).map((v) => fixedBytesOf(v, 4, 'value_floats'));
      const typedData = Buffer.concat(chunks);
      return { name: output, dims: [typedData.length / 4], dataType: 1, typedData };
    }
    case 'value_int': {
      const [i] = find(AttributeField.i);
      return i ? { name: output, dims: [], dataType: 7, typedData: bytesOfArray(BigInt64Array.of(BigInt(integerOf(i, 'value_int')))) } : undefined;
    }
    case 'value_ints': {
      const values = find(AttributeField.ints).flatMap((v) => varintsOf(v, 'value_ints'));
      return { name: output, dims: [values.length], dataType: 7, typedData: bytesOfArray(BigInt64Array.from(values, (v) => BigInt.asIntN(64, v))) };
    }
    case 'sparse_value':
      return { name: output, reason: 'sparse constants are not supported' };
    default:
      return name.startsWith('value_') ? { name: output, reason: `Constant attribute ${name} is not a numeric tensor` } : undefined;
  }
}

function parseValueInfo(bytes: Uint8Array): OnnxValueInfo {
  let name = '';
  let dataType: number | undefined;
  let shape: OnnxDim[] | undefined;
  readMessage(bytes, 'ValueInfoProto', (field, value) => {
    if (field === 1) name = stringOf(value, 'value_info name');
    else if (field === 2) {
      readMessage(bytesOf(value, 'TypeProto'), 'TypeProto', (typeField, typeValue) => {
        if (typeField !== 1) return; // tensor_type; sequences, maps and optionals have no shape
        readMessage(bytesOf(typeValue, 'tensor_type'), 'TypeProto.Tensor', (tensorField, tensorValue) => {
          if (tensorField === 1) dataType = integerOf(tensorValue, 'elem_type');
          else if (tensorField === 2) shape = parseShape(bytesOf(tensorValue, 'shape'));
        });
      });
    }
  });
  const dtype = dataType === undefined ? undefined : ONNX_DTYPES[dataType];
  return { name, ...(dataType !== undefined ? { dataType } : {}), ...(dtype ? { dtype } : {}), ...(shape ? { shape } : {}) };
}

function parseShape(bytes: Uint8Array): OnnxDim[] {
  const dims: OnnxDim[] = [];
  readMessage(bytes, 'TensorShapeProto', (field, value) => {
    if (field !== 1) return;
    let dim: OnnxDim = null;
    readMessage(bytesOf(value, 'dim'), 'Dimension', (dimField, dimValue) => {
      if (dimField === 1) dim = integerOf(dimValue, 'dim_value');
      else if (dimField === 2) dim = stringOf(dimValue, 'dim_param');
    });
    dims.push(dim);
  });
  return dims;
}

/** Decides where a tensor's values are and checks that they are all there. */
async function placeTensor(modelPath: string, modelBytes: Uint8Array, proto: TensorProto, origin: 'initializer' | 'constant'): Promise<StoredTensor | SkippedTensor> {
  const { name } = proto;
  const fail = (reason: string, file = modelPath): never => {
    throw new CheckpointError(file, reason, name);
  };
  if (!name) fail('an initializer has no name');
  const dtype = ONNX_DTYPES[proto.dataType];
  if (!dtype) return { name, reason: `${onnxDTypeName(proto.dataType)} tensors are not supported` };
  const byteLength = elementCountOf(proto.dims) * elementBytes(dtype);
  const shapeText = `shape [${proto.dims.join(',')}] of ${dtype}`;
  const entry: OnnxTensorEntry = { name, dtype, shape: proto.dims, byteLength, file: modelPath, origin };
  if (proto.externalData) {
    const location = proto.externalData.get('location');
    if (!location) return fail('external data without a location');
    const folder = path.dirname(modelPath);
    const file = path.resolve(folder, location);
    const relative = path.relative(folder, file);
    if (path.isAbsolute(location) || relative.startsWith('..') || path.isAbsolute(relative)) {
      fail(`external data location ${JSON.stringify(location)} lies outside the model's folder`);
    }
    const offset = Number(proto.externalData.get('offset') ?? '0');
    const lengthText = proto.externalData.get('length');
    const length = lengthText === undefined ? byteLength : Number(lengthText);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) fail(`external data offset/length "${proto.externalData.get('offset')}"/"${lengthText}" are not byte counts`);
    if (length !== byteLength) fail(`${shapeText} needs ${byteLength} bytes, but its external data length is ${length}`);
    const size = await fs.stat(file).then(
      (stat) => stat.size,
      (error: NodeJS.ErrnoException) => fail(`its external data file cannot be opened (${error.code ?? String(error)})`, file),
    );
    if (offset + length > size) fail(`external data [${offset}, ${offset + length}] reaches beyond the end of the file (${size} bytes): truncated?`, file);
    return { entry: { ...entry, file }, placement: { kind: 'file', file, offset } };
  }
  if (proto.rawData) {
    if (proto.rawData.length !== byteLength) fail(`${shapeText} needs ${byteLength} bytes, but raw_data holds ${proto.rawData.length}`);
    // The model's bytes are not kept: remember where raw_data lies in the file instead.
    const offset = proto.rawData.byteOffset - modelBytes.byteOffset;
    return { entry, placement: { kind: 'file', file: modelPath, offset } };
  }
  const bytes = proto.typedData ?? new Uint8Array(0);
  if (bytes.length !== byteLength) fail(`${shapeText} needs ${byteLength / elementBytes(dtype)} values, but the tensor holds ${bytes.length / elementBytes(dtype)}`);
  return { entry, placement: { kind: 'memory', bytes: bytes.slice() } };
}
