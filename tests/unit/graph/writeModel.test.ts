import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/services/graph/Graph';
import { GraphError } from '../../../src-main/services/graph/GraphError';
import { add, gemm, reshape } from '../../../src-main/services/graph/ops';
import { sharedWeightsOf, writeModel, writeModelSharingData } from '../../../src-main/services/graph/writeModel';
import { expectClose, makeTempDir, randomFloat32, removeTempDir, runGraph, seededRandom } from './ortHarness';

const dir = makeTempDir();
afterAll(() => removeTempDir(dir));

const random = seededRandom(2024);
const weight = randomFloat32(48 * 64, random);
const bias = randomFloat32(48, random);
const input = randomFloat32(5 * 64, random);

/** A linear layer whose 12 KiB weight goes to external data and whose bias may stay inline. */
function linearGraph(weightData: Graph['initializers'][number]['data'] = weight, rows = 5): Graph {
  const graph = new Graph('linear');
  const x = graph.input('x', 'float32', [rows, 64]);
  const w = graph.initializer('fc.weight', 'float32', [48, 64], weightData);
  const b = graph.initializer('fc.bias', 'float32', [48], bias);
  graph.output(reshape(graph, gemm(graph, x, w, b, { transB: true }), [rows, 6, 8]), 'y');
  return graph;
}

describe('external data', () => {
  it('ORT reads weights back from the data file and gives the same outputs as inline weights', async () => {
    const inline = await runGraph(linearGraph(), { x: input }, dir, { inlineBelowBytes: Infinity });
    const external = await runGraph(linearGraph(), { x: input }, dir, { inlineBelowBytes: 0, chunkBytes: 1000 });
    expectClose(external.y!.data as Float32Array, inline.y!.data as Float32Array, 0, 0);
  });

  it('records an aligned offset and the length of each external initializer', async () => {
    const modelPath = path.join(dir, 'layout.onnx');
    const written = await writeModel(linearGraph(), modelPath, { inlineBelowBytes: 0, alignment: 4096 });
    expect(written.dataPath).toBe(`${modelPath}.data`);
    expect(written.placements.get('fc.weight')).toEqual({ kind: 'external', location: 'layout.onnx.data', offset: 0, length: weight.byteLength });
    expect(written.placements.get('fc.bias')).toEqual({ kind: 'external', location: 'layout.onnx.data', offset: 12288, length: bias.byteLength });
    const data = fs.readFileSync(written.dataPath!);
    expect(data.length).toBe(12288 + bias.byteLength);
    expect(new Float32Array(data.buffer.slice(data.byteOffset + 12288, data.byteOffset + 12288 + bias.byteLength))).toEqual(bias);
    // The model file holds the graph, not the weights.
    expect(written.modelBytes).toBeLessThan(2000);
    expect(fs.statSync(modelPath).size).toBe(written.modelBytes);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  it('a variant at another batch size shares the data file by tensor name: only its small model file is written, its weights never read', async () => {
    const base = path.join(dir, 'shared.onnx');
    const shared = sharedWeightsOf(await writeModel(linearGraph(), base), linearGraph());
    const variantPath = path.join(dir, 'shared.b2.onnx');
    let reads = 0;
    const counted = () => {
      reads++;
      return weight;
    };
    const written = await writeModelSharingData(linearGraph(counted, 2), variantPath, shared);
    expect(reads).toBe(0);
    expect(written.dataPath).toBe(`${base}.data`);
    expect(fs.existsSync(`${variantPath}.data`)).toBe(false);
    const session = await ort.InferenceSession.create(variantPath, { executionProviders: ['cpu'] });
    try {
      const rows = input.subarray(0, 2 * 64);
      const { y } = await session.run({ x: new ort.Tensor('float32', rows, [2, 64]) });
      const alone = await runGraph(linearGraph(weight, 2), { x: rows }, dir);
      expectClose(y!.data as Float32Array, alone.y!.data as Float32Array, 0, 0);
    } finally {
      await session.release();
    }
  });

  it('refuses a data file without the tensor, or with another shape, naming both; and a model in another folder', async () => {
    const base = path.join(dir, 'other.onnx');
    const shared = sharedWeightsOf(await writeModel(linearGraph(), base), linearGraph());
    const graphWith = (name: string, rows: number) => {
      const graph = new Graph('wider');
      const x = graph.input('x', 'float32', [1, 64]);
      graph.output(gemm(graph, x, graph.initializer(name, 'float32', [rows, 64], new Float32Array(rows * 64)), undefined, { transB: true }), 'y');
      return graph;
    };
    const target = path.join(dir, 'other.b1.onnx');
    await expect(writeModelSharingData(graphWith('fc.weight', 96), target, shared)).rejects.toThrow(`${base}.data: tensor "fc.weight" is [48,64] in 12288 bytes, but wider needs`);
    await expect(writeModelSharingData(graphWith('head.weight', 48), target, shared)).rejects.toThrow(`${base}.data: holds no tensor "head.weight", which wider needs`);
    await expect(writeModelSharingData(linearGraph(), path.join(dir, 'nested', 'x.onnx'), shared)).rejects.toThrow(/must lie in the folder/);
    expect(fs.existsSync(target)).toBe(false);
  });

  it('keeps small initializers inline by default and writes no data file when none is large', async () => {
    const graph = new Graph('small');
    const x = graph.input('x', 'float32', [2]);
    graph.output(add(graph, x, graph.initializer('b', 'float32', [2], Float32Array.from([1, 2]))), 'y');
    const written = await writeModel(graph, path.join(dir, 'small.onnx'));
    expect(written.dataPath).toBeUndefined();
    expect(written.placements.get('b')?.kind).toBe('inline');
    const { y } = await runGraph(graph, { x: Float32Array.from([10, 20]) }, dir);
    expect([...(y!.data as Float32Array)]).toEqual([11, 22]);
  });

  it('loads lazy weights one at a time, only while writing', async () => {
    const calls: string[] = [];
    const graph = linearGraph(() => {
      calls.push('fc.weight');
      return weight;
    });
    expect(calls).toEqual([]);
    const result = await runGraph(graph, { x: input }, dir, { inlineBelowBytes: 0 });
    expect(calls).toEqual(['fc.weight']);
    expect(result.y!.dims).toEqual([5, 6, 8]);
  });

  it('refuses lazy weights of the wrong size, naming the initializer, and leaves no partial files', async () => {
    const failing = path.join(dir, 'failing');
    fs.mkdirSync(failing);
    const graph = linearGraph(async () => new Float32Array(10));
    const attempt = writeModel(graph, path.join(failing, 'bad.onnx'), { inlineBelowBytes: 0 });
    await expect(attempt).rejects.toThrow(GraphError);
    await expect(writeModel(graph, path.join(failing, 'bad.onnx'), { inlineBelowBytes: 0 })).rejects.toThrow(
      'initializer (fc.weight): shape [48,64] needs 3072 values, got 10',
    );
    expect(fs.readdirSync(failing)).toEqual([]);
  });
});
