import { onnxDataType } from './dtype';
import type { DType, TypedArray } from './dtype';
import type { Attribute, Graph, GraphNode, Tensor } from './Graph';
import type { ProtoWriter } from './ProtoWriter';
import { ProtoWriter as Writer } from './ProtoWriter';

/** The ONNX version pair this emitter targets (ONNX-TRAINING.md pitfalls 1 and 15). */
export const OPSET_VERSION = 17;
export const IR_VERSION = 8;

/* Field numbers from onnx/onnx.proto (the subset Mitobench writes). */
const Model = { irVersion: 1, producerName: 2, producerVersion: 3, docString: 6, graph: 7, opsetImport: 8 } as const;
const OperatorSetId = { domain: 1, version: 2 } as const;
const GraphFields = { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12, valueInfo: 13 } as const;
const NodeFields = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const AttributeFields = { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, type: 20 } as const;
const AttributeType = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;
const TensorFields = { dims: 1, dataType: 2, name: 8, rawData: 9, externalData: 13, dataLocation: 14 } as const;
const StringStringEntry = { key: 1, value: 2 } as const;
const ValueInfo = { name: 1, type: 2 } as const;
const TypeFields = { tensorType: 1 } as const;
const TensorTypeFields = { elemType: 1, shape: 2 } as const;
const ShapeFields = { dim: 1 } as const;
const DimensionFields = { dimValue: 1 } as const;
const DATA_LOCATION_EXTERNAL = 1;

/** Where an initializer's bytes go: into the model file, or a range of the external data file. */
export type InitializerPlacement =
  | { readonly kind: 'inline'; readonly bytes: Uint8Array }
  | { readonly kind: 'external'; readonly location: string; readonly offset: number; readonly length: number };

export interface ModelOptions {
  readonly producerVersion?: string;
  readonly docString?: string;
  /** Declare every intermediate tensor's shape, so ORT checks the builder's inference (default true). */
  readonly valueInfo?: boolean;
}

/** The bytes of a typed array, little-endian as on every platform Mitobench runs on. */
export function arrayBytes(array: TypedArray): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

export function encodeModel(graph: Graph, placements: ReadonlyMap<string, InitializerPlacement>, options: ModelOptions = {}): Uint8Array {
  const model = new Writer();
  model.int(Model.irVersion, IR_VERSION);
  model.string(Model.producerName, 'Mitobench');
  if (options.producerVersion) model.string(Model.producerVersion, options.producerVersion);
  if (options.docString) model.string(Model.docString, options.docString);
  model.message(Model.graph, (writer) => writeGraph(writer, graph, placements, options.valueInfo ?? true));
  model.message(Model.opsetImport, (writer) => writer.string(OperatorSetId.domain, '').int(OperatorSetId.version, OPSET_VERSION));
  return model.finish();
}

function writeGraph(writer: ProtoWriter, graph: Graph, placements: ReadonlyMap<string, InitializerPlacement>, valueInfo: boolean): void {
  for (const node of graph.nodes) writer.message(GraphFields.node, (w) => writeNode(w, node));
  writer.string(GraphFields.name, graph.name);
  for (const { tensor } of graph.initializers) {
    const placement = placements.get(tensor.name);
    if (!placement) throw new Error(`initializer ${tensor.name} has no data placement`);
    writer.message(GraphFields.initializer, (w) => writeInitializer(w, tensor, placement));
  }
  for (const input of graph.inputs) writer.message(GraphFields.input, (w) => writeValueInfo(w, input));
  for (const output of graph.outputs) writer.message(GraphFields.output, (w) => writeValueInfo(w, output));
  if (!valueInfo) return;
  const declared = new Set(graph.outputs);
  for (const node of graph.nodes) {
    if (node.op.opType === 'Constant') continue;
    for (const output of node.outputs) if (!declared.has(output)) writer.message(GraphFields.valueInfo, (w) => writeValueInfo(w, output));
  }
}

function writeNode(writer: ProtoWriter, node: GraphNode): void {
  for (const input of node.inputs) writer.string(NodeFields.input, input?.name ?? '');
  for (const output of node.outputs) writer.string(NodeFields.output, output.name);
  writer.string(NodeFields.name, node.name);
  writer.string(NodeFields.opType, node.op.opType);
  for (const attribute of node.attributes) writer.message(NodeFields.attribute, (w) => writeAttribute(w, attribute));
  if (node.op.domain) writer.string(NodeFields.domain, node.op.domain);
}

function writeAttribute(writer: ProtoWriter, attribute: Attribute): void {
  writer.string(AttributeFields.name, attribute.name);
  writer.int(AttributeFields.type, AttributeType[attribute.kind]);
  switch (attribute.kind) {
    case 'float':
      writer.float(AttributeFields.f, attribute.value);
      break;
    case 'int':
      writer.int(AttributeFields.i, attribute.value);
      break;
    case 'string':
      writer.string(AttributeFields.s, attribute.value);
      break;
    case 'floats':
      writer.floats(AttributeFields.floats, attribute.value);
      break;
    case 'ints':
      writer.ints(AttributeFields.ints, attribute.value);
      break;
    case 'tensor': {
      const { dtype, shape, values } = attribute.value;
      writer.message(AttributeFields.t, (w) => {
        writeTensorHeader(w, '', dtype, shape);
        w.bytes(TensorFields.rawData, arrayBytes(values));
      });
      break;
    }
  }
}

function writeTensorHeader(writer: ProtoWriter, name: string, dtype: DType, shape: readonly number[]): void {
  writer.ints(TensorFields.dims, shape);
  writer.int(TensorFields.dataType, onnxDataType(dtype));
  if (name) writer.string(TensorFields.name, name);
}

function writeInitializer(writer: ProtoWriter, tensor: Tensor, placement: InitializerPlacement): void {
  writeTensorHeader(writer, tensor.name, tensor.dtype, tensor.shape);
  if (placement.kind === 'inline') {
    writer.bytes(TensorFields.rawData, placement.bytes);
    return;
  }
  const entries: [string, string][] = [
    ['location', placement.location],
    ['offset', String(placement.offset)],
    ['length', String(placement.length)],
  ];
  for (const [key, value] of entries) {
    writer.message(TensorFields.externalData, (w) => w.string(StringStringEntry.key, key).string(StringStringEntry.value, value));
  }
  writer.int(TensorFields.dataLocation, DATA_LOCATION_EXTERNAL);
}

function writeValueInfo(writer: ProtoWriter, tensor: Tensor): void {
  writer.string(ValueInfo.name, tensor.name);
  writer.message(ValueInfo.type, (type) =>
    type.message(TypeFields.tensorType, (tensorType) => {
      tensorType.int(TensorTypeFields.elemType, onnxDataType(tensor.dtype));
      tensorType.message(TensorTypeFields.shape, (shape) => {
        for (const dim of tensor.shape) shape.message(ShapeFields.dim, (d) => d.int(DimensionFields.dimValue, dim));
      });
    }),
  );
}
