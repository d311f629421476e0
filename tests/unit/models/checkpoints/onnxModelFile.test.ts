import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OnnxModelFile } from '../../../../src-main/services/models/checkpoints';
import { float16ToFloat32, float32ToBfloat16, float32ToFloat16, bfloat16ToFloat32 } from '../../../../src-main/services/graph/halfPrecision';
import { Graph } from '../../../../src-main/services/graph/Graph';
import { add, floatConstant, matMul, mul, reshape } from '../../../../src-main/services/graph/ops';
import { ProtoWriter } from '../../../../src-main/services/graph/ProtoWriter';
import { writeModel } from '../../../../src-main/services/graph/writeModel';
import { tempDir } from './builders';
import { caught } from './caughtCheckpointError';

const temp = tempDir('mitobench-onnx-');
afterAll(() => temp.remove());

const weight = Float32Array.from({ length: 8 * 64 }, (_, i) => Math.sin(i));
const bias = Float32Array.from({ length: 64 }, (_, i) => i / 8);
const scale = Array.from({ length: 64 }, (_, i) => 1 + i / 100);
const halfBits = float32ToFloat16(Float32Array.from([1, -2, 0.25, 1000]));
const brainBits = float32ToBfloat16(Float32Array.from([3, -0.5]));
const steps = BigInt64Array.from([3n, -4n, 2n ** 50n]);

/** A linear layer, a Constant-node scale and a reshape (whose shape is another Constant node). */
function encoderGraph(): Graph {
  const graph = new Graph('encoder');
  const x = graph.input('pixels', 'float32', [2, 8]);
  const w = graph.initializer('head.weight', 'float32', [8, 64], weight);
  const b = graph.initializer('head.bias', 'float32', [64], bias);
  graph.initializer('half', 'float16', [2, 2], halfBits);
  graph.initializer('brain', 'bfloat16', [2], brainBits);
  graph.initializer('steps', 'int64', [3], steps);
  const tokens = add(graph, matMul(graph, x, w), b);
  graph.output(reshape(graph, mul(graph, tokens, floatConstant(graph, 'float32', [64], scale)), [2, 8, 8]), 'embedding');
  graph.output(tokens, 'tokens');
  return graph;
}

describe('ONNX models written by writeModel', () => {
  it('reads initializers from the model and from its external data file, and Constant nodes', async () => {
    const modelPath = temp.file('encoder.onnx');
    const written = await writeModel(encoderGraph(), modelPath, { inlineBelowBytes: 1024 });
    expect(written.placements.get('head.weight')?.kind).toBe('external');
    expect(written.placements.get('head.bias')?.kind).toBe('inline');
    const model = await OnnxModelFile.open(modelPath);
    try {
      const byName = new Map(model.tensors().map((entry) => [entry.name, entry]));
      expect(byName.get('head.weight')).toMatchObject({ dtype: 'F32', shape: [8, 64], byteLength: 2048, file: written.dataPath, origin: 'initializer' });
      expect(byName.get('head.bias')).toMatchObject({ dtype: 'F32', shape: [64], file: modelPath, origin: 'initializer' });
      expect(byName.get('half')).toMatchObject({ dtype: 'F16', shape: [2, 2] });
      expect(byName.get('brain')).toMatchObject({ dtype: 'BF16', shape: [2] });
      expect(byName.get('steps')).toMatchObject({ dtype: 'I64', shape: [3] });
      expect(await model.read('head.weight')).toEqual(weight);
      expect(await model.read('head.bias')).toEqual(bias);
      expect(await model.read('half')).toEqual(float16ToFloat32(halfBits));
      expect(await model.read('brain')).toEqual(bfloat16ToFloat32(brainBits));
      expect(await model.read('steps')).toEqual(steps);
      const constants = model.tensors().filter((entry) => entry.origin === 'constant');
      expect(constants.map((entry) => [entry.dtype, entry.shape])).toEqual(
        expect.arrayContaining([
          ['F32', [64]],
          ['I64', [3]],
        ]),
      );
      const scaleConstant = constants.find((entry) => entry.dtype === 'F32')!;
      expect(await model.read(scaleConstant.name)).toEqual(Float32Array.from(scale));
      const shapeConstant = constants.find((entry) => entry.dtype === 'I64')!;
      expect(await model.read(shapeConstant.name)).toEqual(BigInt64Array.from([2n, 8n, 8n]));
      // A Constant is known by its node's output, which the consuming node names as input.
      expect(model.nodes.find((node) => node.opType === 'Reshape')!.inputs).toContain(shapeConstant.name);
    } finally {
      await model.close();
    }
  });

  it('lists the graph interface: inputs, outputs, value_info and nodes, for choosing the embedding', async () => {
    const modelPath = temp.file('interface.onnx');
    await writeModel(encoderGraph(), modelPath);
    const model = await OnnxModelFile.open(modelPath);
    expect(model.irVersion).toBe(8);
    expect(model.producerName).toBe('Mitobench');
    expect(model.opsets.get('')).toBe(17);
    expect(model.graphName).toBe('encoder');
    expect(model.inputs).toEqual([{ name: 'pixels', dataType: 1, dtype: 'F32', shape: [2, 8] }]);
    expect(model.outputs).toEqual([
      { name: 'embedding', dataType: 1, dtype: 'F32', shape: [2, 8, 8] },
      { name: 'tokens', dataType: 1, dtype: 'F32', shape: [2, 64] },
    ]);
    expect(model.valueInfo.length).toBeGreaterThan(0);
    for (const info of model.valueInfo) expect(info.shape).toBeDefined();
    expect(model.nodes.map((node) => node.opType)).toEqual(expect.arrayContaining(['MatMul', 'Add', 'Mul', 'Constant', 'Reshape']));
    expect(model.skipped).toEqual([]);
    await model.close();
  });

  it('gives the same values whether every weight is inline or every weight is external', async () => {
    const inlinePath = temp.file('inline.onnx');
    const externalPath = temp.file('external.onnx');
    await writeModel(encoderGraph(), inlinePath, { inlineBelowBytes: Infinity });
    await writeModel(encoderGraph(), externalPath, { inlineBelowBytes: 0, alignment: 64 });
    const inline = await OnnxModelFile.open(inlinePath);
    const external = await OnnxModelFile.open(externalPath);
    expect(inline.tensors().every((entry) => entry.file === inlinePath)).toBe(true);
    expect(external.tensors().filter((entry) => entry.origin === 'initializer').every((entry) => entry.file === `${externalPath}.data`)).toBe(true);
    for (const entry of inline.tensors()) expect(await external.read(entry.name), entry.name).toEqual(await inline.read(entry.name));
    await Promise.all([inline.close(), external.close()]);
  });

  it('names the tensor and file when external data is missing or cut short', async () => {
    const modelPath = temp.file('cut.onnx');
    const written = await writeModel(encoderGraph(), modelPath, { inlineBelowBytes: 0, alignment: 64 });
    fs.truncateSync(written.dataPath!, 100);
    const cut = await caught(OnnxModelFile.open(modelPath));
    expect(cut.filePath).toBe(written.dataPath);
    expect(cut.tensorName).toBe('head.weight');
    expect(cut.message).toContain('reaches beyond the end of the file (100 bytes): truncated?');
    fs.rmSync(written.dataPath!);
    const missing = await caught(OnnxModelFile.open(modelPath));
    expect(missing.message).toBe(`${written.dataPath}: tensor "head.weight": its external data file cannot be opened (ENOENT)`);
  });

  it('reports a truncated model file', async () => {
    const modelPath = temp.file('whole.onnx');
    await writeModel(encoderGraph(), modelPath, { inlineBelowBytes: Infinity });
    const bytes = fs.readFileSync(modelPath);
    const truncated = temp.file('truncated.onnx', bytes.subarray(0, bytes.length - 300));
    const error = await caught(OnnxModelFile.open(truncated));
    expect(error.message).toMatch(new RegExp(`^${truncated.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is not a valid ONNX model \\(.*truncated`));
  });
});

/* Hand-encoded TensorProto fields, for the encodings writeModel does not use. */
const T = { dims: 1, dataType: 2, floatData: 4, int32Data: 5, int64Data: 7, name: 8, rawData: 9, doubleData: 10, externalData: 13, dataLocation: 14 } as const;

function tensorProto(name: string, dataType: number, dims: number[], fill: (w: ProtoWriter) => void): (w: ProtoWriter) => void {
  return (w) => {
    w.ints(T.dims, dims).int(T.dataType, dataType).string(T.name, name);
    fill(w);
  };
}

function externalTensor(name: string, dims: number[], location: string, offset: number, length: number): (w: ProtoWriter) => void {
  return tensorProto(name, 1, dims, (w) => {
    for (const [key, value] of [['location', location], ['offset', String(offset)], ['length', String(length)]]) {
      w.message(T.externalData, (entry) => entry.string(1, key!).string(2, value!));
    }
    w.int(T.dataLocation, 1);
  });
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): (w: ProtoWriter) => void {
  return (w) => {
    w.string(1, name).message(2, (type) =>
      type.message(1, (tensor) => {
        tensor.int(1, elemType);
        tensor.message(2, (shape) => {
          for (const dim of dims) shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
        });
      }),
    );
  };
}

/** A model as other exporters write it (PaddleOCR-style Constant nodes, typed fields, old-IR inputs). */
function handModel(tensors: ((w: ProtoWriter) => void)[], nodes: ((w: ProtoWriter) => void)[] = [], inputs: ((w: ProtoWriter) => void)[] = []): Uint8Array {
  const model = new ProtoWriter();
  model.int(1, 4);
  model.string(2, 'hand');
  model.message(7, (graph) => {
    for (const node of nodes) graph.message(1, node);
    graph.string(2, 'hand-graph');
    for (const tensor of tensors) graph.message(5, tensor);
    for (const input of inputs) graph.message(11, input);
    graph.message(12, valueInfo('out', 1, ['batch', 200]));
  });
  model.message(8, (opset) => opset.string(1, '').int(2, 9));
  return model.finish();
}

/** A packed repeated int64 payload: the varints back to back, negatives as 64-bit two's complement. */
function packedVarints(values: bigint[]): Uint8Array {
  const out: number[] = [];
  for (const value of values) {
    let rest = BigInt.asUintN(64, value);
    while (rest >= 0x80n) {
      out.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    out.push(Number(rest));
  }
  return Uint8Array.from(out);
}

function constantNode(output: string, attribute: (w: ProtoWriter) => void): (w: ProtoWriter) => void {
  return (w) => w.string(2, output).string(3, `${output}_node`).string(4, 'Constant').message(5, attribute);
}

describe('ONNX encodings from other exporters', () => {
  it('reads float_data (packed and unpacked), int32_data, int64_data, double_data and Constant shorthands', async () => {
    const packedFloats = Buffer.alloc(12);
    [1.5, -2.5, 4].forEach((value, index) => packedFloats.writeFloatLE(value, index * 4));
    const bytes = handModel(
      [
        tensorProto('unpacked', 1, [2], (w) => w.floats(T.floatData, [0.5, 0.75])),
        tensorProto('packed', 1, [3], (w) => w.bytes(T.floatData, packedFloats)),
        tensorProto('longs', 7, [3], (w) => w.bytes(T.int64Data, packedVarints([5n, -6n, 2n ** 40n]))),
        tensorProto('halves', 10, [2], (w) => w.ints(T.int32Data, [...halfBits.subarray(0, 2)])),
        tensorProto('small', 3, [3], (w) => w.ints(T.int32Data, [-128, 0, 127])),
        tensorProto('doubles', 11, [2], (w) => w.double(T.doubleData, 0.1).double(T.doubleData, -1e300)),
        tensorProto('words', 8, [1], (w) => w.bytes(6, Buffer.from('text'))),
      ],
      [
        constantNode('c_float', (a) => a.string(1, 'value_float').float(2, 2.5).int(20, 1)),
        constantNode('c_ints', (a) => a.string(1, 'value_ints').ints(8, [1, -2, 3]).int(20, 7)),
        constantNode('c_tensor', (a) => a.string(1, 'value').message(5, tensorProto('', 1, [2], (w) => w.bytes(T.rawData, new Uint8Array(Float32Array.from([7, 8]).buffer)))).int(20, 4)),
      ],
      [valueInfo('image', 1, ['batch', 3, 48, 192]), valueInfo('unpacked', 1, [2])],
    );
    const file = temp.file('hand.onnx', bytes);
    const model = await OnnxModelFile.open(file);
    expect([...(await model.read('unpacked'))]).toEqual([0.5, 0.75]);
    expect([...(await model.read('packed'))]).toEqual([1.5, -2.5, 4]);
    expect(await model.read('longs')).toEqual(BigInt64Array.from([5n, -6n, 2n ** 40n]));
    expect(await model.read('halves')).toEqual(float16ToFloat32(halfBits.subarray(0, 2)));
    expect(await model.read('small')).toEqual(Int8Array.from([-128, 0, 127]));
    expect(await model.read('doubles')).toEqual(Float64Array.from([0.1, -1e300]));
    expect([...(await model.read('c_float'))]).toEqual([2.5]);
    expect(model.entry('c_float').shape).toEqual([]);
    expect(await model.read('c_ints')).toEqual(BigInt64Array.from([1n, -2n, 3n]));
    expect([...(await model.read('c_tensor'))]).toEqual([7, 8]);
    expect(model.skipped).toEqual([{ name: 'words', reason: 'STRING tensors are not supported' }]);
    // Old-IR models list initializers among the inputs: only real inputs are offered.
    expect(model.inputs).toEqual([{ name: 'image', dataType: 1, dtype: 'F32', shape: ['batch', 3, 48, 192] }]);
    expect(model.outputs).toEqual([{ name: 'out', dataType: 1, dtype: 'F32', shape: ['batch', 200] }]);
    expect(model.opsets.get('')).toBe(9);
    await model.close();
  });

  it('refuses lying sizes and external data outside the model folder, naming the tensor', async () => {
    const lying = temp.file('lying.onnx', handModel([tensorProto('w', 1, [4], (w) => w.bytes(T.rawData, new Uint8Array(12)))]));
    expect((await caught(OnnxModelFile.open(lying))).message).toBe(`${lying}: tensor "w": shape [4] of F32 needs 16 bytes, but raw_data holds 12`);
    const few = temp.file('few.onnx', handModel([tensorProto('w', 1, [4], (w) => w.floats(T.floatData, [1, 2]))]));
    expect((await caught(OnnxModelFile.open(few))).message).toBe(`${few}: tensor "w": shape [4] of F32 needs 4 values, but the tensor holds 2`);
    const escaping = temp.file('escape.onnx', handModel([externalTensor('w', [2], '../secrets.bin', 0, 8)]));
    expect((await caught(OnnxModelFile.open(escaping))).message).toContain(`tensor "w": external data location "../secrets.bin" lies outside the model's folder`);
    const wrongLength = temp.file('length.onnx', handModel([externalTensor('w', [2], 'w.bin', 0, 4)]));
    expect((await caught(OnnxModelFile.open(wrongLength))).message).toContain('shape [2] of F32 needs 8 bytes, but its external data length is 4');
  });

  it('reads external data at an offset in a file beside the model', async () => {
    const file = temp.file('offset.onnx', handModel([externalTensor('w', [2], 'weights.bin', 4, 8)]));
    fs.writeFileSync(path.join(path.dirname(file), 'weights.bin'), Buffer.from(new Float32Array([99, -1.5, 2.5, 99]).buffer));
    const model = await OnnxModelFile.open(file);
    expect([...(await model.read('w'))]).toEqual([-1.5, 2.5]);
    expect(() => model.entry('nothing')).toThrow(`${file}: tensor "nothing": no such initializer or constant in this model`);
    await model.close();
  });

  it('refuses files that are not ONNX models', async () => {
    const text = temp.file('notes.onnx', Buffer.from('not a model at all'));
    expect((await caught(OnnxModelFile.open(text))).message).toMatch(/is not a valid ONNX model|holds no graph/);
    const empty = temp.file('empty.onnx', new Uint8Array(0));
    expect((await caught(OnnxModelFile.open(empty))).message).toBe(`${empty}: is not an ONNX model: it holds no graph`);
  });
});
