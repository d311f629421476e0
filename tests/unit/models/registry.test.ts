import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Graph } from '../../../src-main/services/graph/Graph';
import { matMul } from '../../../src-main/services/graph/ops/matMul';
import { writeModel } from '../../../src-main/services/graph/writeModel';
import { ModelRegistry, hashFile } from '../../../src-main/services/models/ModelRegistry';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { expectClose, makeTempDir, randomFloat32, removeTempDir, seededRandom } from '../graph/ortHarness';

const GOLDEN = path.join(import.meta.dirname, 'architecture', 'golden');
const dir = makeTempDir('mitobench-registry-');
afterAll(() => removeTempDir(dir));

let counter = 0;
let project: ProjectDatabase;
let registry: ModelRegistry;

beforeEach(() => {
  project = ProjectDatabase.create(path.join(dir, `project-${counter++}`), 'Models');
  registry = new ModelRegistry(project.db, project.cacheFolder);
  return () => project.close();
});

/** A golden checkpoint folder copied to a temporary place (safetensors weights only). */
function copyGolden(name: string): string {
  const folder = path.join(dir, `${name}-${counter++}`);
  fs.mkdirSync(folder);
  for (const file of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(GOLDEN, name, file), path.join(folder, file));
  return folder;
}

describe('ModelRegistry', () => {
  it('registers a timm checkpoint folder: compiles it into the project cache and runs in ONNX Runtime', async () => {
    const folder = copyGolden('timm-gelu');
    const steps: number[] = [];
    const model = await registry.register(folder, { progress: (done) => steps.push(done) });
    expect(steps.at(-1)).toBe(3);
    expect(model).toMatchObject({ kind: 'checkpoint-folder', name: path.basename(folder), sourcePath: folder, embeddingOutput: 'embedding' });
    expect(model.fileHash).toBe(await hashFile(path.join(folder, 'model.safetensors')));
    expect(model.onnxPath).toBe(path.join(project.cacheFolder, 'models', model.fileHash, 'model.onnx'));
    expect(model.config).toMatchObject({ dim: 32, depth: 2, heads: 2, patchSize: 16, mlp: 'gelu', embeddingRule: 'cls', embeddingSize: 32, mean: [0.5, 0.5, 0.5] });
    expect(model.config.inputShape).toEqual([1, 3, model.config.imageSize, model.config.imageSize]);
    expect(model.parameterCount).toBeGreaterThan(20_000);
    expect(registry.list()).toEqual([model]);

    const session = await ort.InferenceSession.create(model.onnxPath, { executionProviders: ['cpu'] });
    const size = model.config.inputShape.reduce((a, b) => a * b, 1);
    const result = await session.run({ [model.config.inputName]: new ort.Tensor('float32', new Float32Array(size).fill(0.1), model.config.inputShape) });
    expect(result.embedding!.dims).toEqual([1, 32]);
    await session.release();

    await expect(registry.register(folder)).rejects.toThrow(/already registered/);
    expect(registry.list()).toHaveLength(1);
  });

  it('registers an ONNX file with its first output, or a chosen one', async () => {
    const graph = new Graph('embedder');
    const x = graph.input('image', 'float32', [1, 3, 4, 4]);
    const flat = matMul(graph, x, graph.initializer('w', 'float32', [4, 5], randomFloat32(20, seededRandom(3))));
    graph.output(flat, 'features');
    graph.output(matMul(graph, flat, graph.initializer('v', 'float32', [5, 2], randomFloat32(10, seededRandom(4)))), 'logits');
    const file = path.join(dir, `embedder-${counter++}.onnx`);
    await writeModel(graph, file);

    const first = await registry.register(file);
    expect(first).toMatchObject({ kind: 'onnx-file', onnxPath: file, embeddingOutput: 'features', parameterCount: 30, presetId: null });
    // The embedding is everything one image gives: 3 × 4 × 5 values after the batch dimension.
    expect(first.config).toMatchObject({ inputName: 'image', inputShape: [1, 3, 4, 4], embeddingSize: 60 });
    const chosen = await registry.register(file, { embeddingOutput: 'logits' });
    expect(chosen.config.embeddingSize).toBe(3 * 4 * 2);
    expect((await registry.onnxOutputs(file)).outputs.map((output) => output.name)).toEqual(['features', 'logits']);
    await expect(registry.register(file, { embeddingOutput: 'pooled' })).rejects.toThrow(`${file}: tensor "pooled": no node of this model produces it, and it is not a graph output (its outputs: "features", "logits")`);
    expect(registry.list().map((model) => model.embeddingOutput)).toEqual(['features', 'logits']);

    await registry.remove(first.id);
    expect(fs.existsSync(file)).toBe(true);
    expect(registry.list().map((model) => model.id)).toEqual([chosen.id]);
  });

  it('refuses a truncated safetensors file, naming it, and registers nothing', async () => {
    const folder = copyGolden('timm-gelu');
    const weights = path.join(folder, 'model.safetensors');
    fs.truncateSync(weights, fs.statSync(weights).size - 1000);
    const error: unknown = await registry.register(folder).then(
      () => null,
      (caught: unknown) => caught,
    );
    if (!(error instanceof Error)) throw new Error('the truncated checkpoint was registered');
    expect(error.message).toContain(weights);
    expect(error.message).toMatch(/truncated|beyond/);
    expect(registry.list()).toEqual([]);
    expect(fs.existsSync(path.join(project.cacheFolder, 'models')) ? fs.readdirSync(path.join(project.cacheFolder, 'models')) : []).toEqual([]);
  });

  it('removes a compiled model with its cached ONNX files', async () => {
    const model = await registry.register(copyGolden('timm-swiglu-ls-reg4'));
    expect(fs.existsSync(model.onnxPath)).toBe(true);
    await registry.remove(model.id);
    expect(registry.list()).toEqual([]);
    expect(fs.existsSync(path.dirname(model.onnxPath))).toBe(false);
    await expect(registry.remove(model.id)).rejects.toThrow(/no model/);
  });

  it('refuses a path that is neither a folder nor an .onnx file', async () => {
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'hello');
    await expect(registry.register(text)).rejects.toThrow(`${text}: not a checkpoint folder`);
    await expect(registry.register(path.join(dir, 'absent'))).rejects.toThrow(/no such file or folder/);
  });
});

describe('ModelRegistry variants: batch sizes and half precision', () => {
  async function embed(modelPath: string, inputName: string, dims: readonly number[], data: Float32Array): Promise<Float32Array> {
    const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
    try {
      return (await session.run({ [inputName]: new ort.Tensor('float32', data, [...dims]) })).embedding!.data as Float32Array;
    } finally {
      await session.release();
    }
  }

  it('a batch-3 variant shares the weights file and gives what three batch-1 runs give; float16 has its own half-size weights', async () => {
    const folder = copyGolden('timm-swiglu-ls-reg4');
    const model = await registry.register(folder);
    const [, c, h, w] = model.config.inputShape as [number, number, number, number];
    const images = randomFloat32(3 * c * h * w, seededRandom(8), 2);
    const single = new Float32Array(3 * model.config.embeddingSize!);
    for (let i = 0; i < 3; i++) {
      single.set(await embed(model.onnxPath, model.config.inputName, [1, c, h, w], images.slice(i * c * h * w, (i + 1) * c * h * w)), i * model.config.embeddingSize!);
    }
    const folderFiles = () => fs.readdirSync(path.dirname(model.onnxPath)).sort();

    const batched = await registry.variant(model, 3);
    expect(path.basename(batched)).toBe('model.b3.onnx');
    expect(folderFiles()).toEqual(['model.b3.onnx', 'model.onnx', 'model.onnx.data']);
    expectClose(await embed(batched, model.config.inputName, [3, c, h, w], images), single, 1e-5, 1e-5);
    expect(await registry.variant(model, 3)).toBe(batched);
    expect(await registry.variant(model, 1)).toBe(model.onnxPath);

    const half = await registry.variant(model, 3, 'float16');
    expect(path.basename(half)).toBe('model.fp16.b3.onnx');
    expect(folderFiles()).toEqual(['model.b3.onnx', 'model.fp16.b3.onnx', 'model.fp16.onnx', 'model.fp16.onnx.data', 'model.onnx', 'model.onnx.data']);
    const dir = path.dirname(model.onnxPath);
    const dataSize = (name: string) => fs.statSync(path.join(dir, name)).size;
    expect(dataSize('model.fp16.onnx.data')).toBeLessThan(dataSize('model.onnx.data') * 0.6);
    expectClose(await embed(half, model.config.inputName, [3, c, h, w], images), single, 2e-2, 2e-2);

    await registry.remove(model.id);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('needs the checkpoint folder once per new variant, and says so when it is gone; ONNX files have no half-precision build', async () => {
    const folder = copyGolden('timm-gelu');
    const model = await registry.register(folder);
    fs.rmSync(folder, { recursive: true });
    await expect(registry.variant(model, 8)).rejects.toThrow(`${folder}: the checkpoint folder of "${model.name}" cannot be read`);
    expect(await registry.variant(model, 1)).toBe(model.onnxPath);

    const graph = new Graph('plain');
    const x = graph.input('image', 'float32', [1, 4]);
    graph.output(matMul(graph, x, graph.initializer('w', 'float32', [4, 2], randomFloat32(8, seededRandom(5)))), 'features');
    const file = path.join(dir, `plain-${counter++}.onnx`);
    await writeModel(graph, file);
    const onnx = await registry.register(file);
    expect(await registry.variant(onnx, 16)).toBe(file);
    await expect(registry.variant(onnx, 1, 'float16')).rejects.toThrow(/an ONNX file runs as it was exported/);
  });
});
