import { afterAll, describe, expect, it } from 'vitest';
import { buildVitGraph, tokenCount } from '../../../../src-main/services/models/vit';
import {
  buildInferenceGraph,
  buildTrainStepGraph,
  dropoutMaskInputs,
  drawDropoutMasks,
  gradientName,
  HEAD_BIAS,
  HEAD_WEIGHT,
  LABELS,
  LOGITS,
  LOSS,
  mergedVitWeights,
  PIXELS,
  PROBABILITIES,
  trainableParameters,
} from '../../../../src-main/services/training/lora';
import type { LoraModelSpec } from '../../../../src-main/services/training/lora';
import { TrainingError } from '../../../../src-main/services/training/TrainingError';
import { expectClose, makeTempDir, removeTempDir, runGraph } from '../../graph/ortHarness';
import { labelsOf, randomPixels, randomTrainables, randomVitWeights, tinySpec } from './loraFixtures';
import type { Feeds } from './loraFixtures';

const dir = makeTempDir('mitobench-lora-graph-');
afterAll(() => removeTempDir(dir));

/** Logits of the base model with a linear head on the class token, the head applied in TypeScript. */
async function baseLogits(spec: LoraModelSpec, pixels: Float32Array, head: Float32Array, bias: Float32Array): Promise<number[]> {
  const tokens = (await runGraph(buildVitGraph(spec.vit, randomVitWeights(spec.vit, 1)), { [PIXELS]: pixels }, dir)).tokens!.data as Float32Array;
  const { dim, batchSize } = spec.vit;
  const rowStride = tokenCount(spec.vit) * dim;
  const logits: number[] = [];
  for (let b = 0; b < batchSize; b++) {
    for (let c = 0; c < spec.head.classCount; c++) {
      let sum = bias[c]!;
      for (let d = 0; d < dim; d++) sum += tokens[b * rowStride + d]! * head[c * dim + d]!;
      logits.push(sum);
    }
  }
  return logits;
}

describe('LoRA train-step graph', () => {
  it('has the documented inputs and outputs, and gradients for the trainable set only', () => {
    const spec = tinySpec({ dropout: 0.1 });
    const graph = buildTrainStepGraph(spec, randomVitWeights(spec.vit, 1));
    const trainable = trainableParameters(spec).map(({ name }) => name);
    expect(trainable).toHaveLength(2 * 4 * spec.vit.depth + 2);
    expect(trainable.slice(0, 2)).toEqual(['blocks.0.attn.qkv.lora_A', 'blocks.0.attn.qkv.lora_B']);
    const masks = dropoutMaskInputs(spec);
    expect(masks.map(({ name }) => name)).toContain('blocks.1.mlp.fc2.lora_dropout_mask');
    expect(masks.find(({ name }) => name === 'blocks.1.mlp.fc2.lora_dropout_mask')!.shape).toEqual([spec.vit.batchSize * tokenCount(spec.vit), 64]);
    expect(graph.inputs.map(({ name }) => name).sort()).toEqual([PIXELS, LABELS, ...trainable, ...masks.map(({ name }) => name)].sort());
    expect(graph.outputs.map(({ name }) => name)).toEqual([LOSS, LOGITS, ...trainable.map(gradientName)]);
    for (const parameter of trainableParameters(spec)) {
      expect([...graph.outputs.find(({ name }) => name === gradientName(parameter.name))!.shape]).toEqual(parameter.shape);
    }
  });

  it('reads every frozen weight in place: as Gemm operand B forward (transB) and backward (dX = dY·W), never transposed (pitfall 7)', () => {
    const spec = tinySpec({ dropout: 0.1 });
    const graph = buildTrainStepGraph(spec, randomVitWeights(spec.vit, 1));
    const frozenWeights = graph.initializers.filter(({ tensor }) => /blocks\.\d+\.(attn|mlp)\.\w+\.weight$/.test(tensor.name)).map(({ tensor }) => tensor);
    expect(frozenWeights).toHaveLength(4 * spec.vit.depth);
    for (const weight of frozenWeights) {
      const users = graph.nodes.filter((node) => node.inputs.includes(weight));
      const transposed = users.map((node) => {
        expect(node.op.opType, `${node.name} uses ${weight.name}`).toBe('Gemm');
        expect(node.inputs.indexOf(weight), `${weight.name} is B of ${node.name}`).toBe(1);
        return node.attributes.some(({ name, value }) => name === 'transB' && value === 1);
      });
      // Block 0's qkv input depends on no trainable tensor, so it needs no backward Gemm.
      expect(transposed.sort(), weight.name).toEqual(weight.name === 'blocks.0.attn.qkv.weight' ? [true] : [false, true]);
    }
  });

  it('at step 0 (B = 0) gives the base model’s logits, dropout masks notwithstanding', async () => {
    const spec = tinySpec({ dropout: 0.1 });
    const trainables = randomTrainables(spec, 3, 0);
    const pixels = randomPixels(spec, 4) as Float32Array;
    const feeds: Feeds = { ...trainables, ...drawDropoutMasks(spec, 5, 0), [PIXELS]: pixels, [LABELS]: labelsOf([0, 1, 2]) };
    const results = await runGraph(buildTrainStepGraph(spec, randomVitWeights(spec.vit, 1)), feeds, dir);
    const expected = await baseLogits(spec, pixels, trainables[HEAD_WEIGHT] as Float32Array, trainables[HEAD_BIAS] as Float32Array);
    expectClose(results[LOGITS]!.data as Float32Array, expected, 1e-6, 0);
    expect(results[LOSS]!.data[0]).toBeGreaterThan(0);
  });

  it('errors name the setting at fault', () => {
    const spec = tinySpec();
    const build = (changed: LoraModelSpec): unknown => buildTrainStepGraph(changed, randomVitWeights(changed.vit, 1));
    expect(() => build({ ...spec, lora: { ...spec.lora, rank: 0 } })).toThrow(/rank must be a positive integer, got 0/);
    expect(() => build({ ...spec, lora: { ...spec.lora, dropout: 1 } })).toThrow(/dropout must be in \[0, 1\), got 1/);
    expect(() => build({ ...spec, lora: { ...spec.lora, targets: ['qkv', 'q_proj' as never] } })).toThrow(/unknown target layer "q_proj"/);
    expect(() => build({ ...spec, head: { ...spec.head, classCount: 1 } })).toThrow(/classCount must be an integer ≥ 2/);
    expect(() => build({ ...spec, vit: { ...spec.vit, dtype: 'float16' } })).toThrow(TrainingError);
  });
});

describe('LoRA inference graphs', () => {
  it.each(['cls', 'cls+mean'] as const)('merged and unmerged weights agree (%s embedding)', async (embedding) => {
    const spec = tinySpec({ embedding });
    const trainables = randomTrainables(spec, 6, 0.3);
    const weights = randomVitWeights(spec.vit, 1);
    const feeds: Feeds = { ...trainables, [PIXELS]: randomPixels(spec, 7) };
    const separate = await runGraph(buildInferenceGraph(spec, weights, { adapter: 'separate' }), feeds, dir);
    const mergedGraph = buildInferenceGraph(spec, mergedVitWeights(spec, weights, trainables), { adapter: 'merged' });
    expect(mergedGraph.inputs.map(({ name }) => name)).toEqual([PIXELS, HEAD_WEIGHT, HEAD_BIAS]);
    const merged = await runGraph(mergedGraph, { [PIXELS]: feeds[PIXELS]!, [HEAD_WEIGHT]: trainables[HEAD_WEIGHT]!, [HEAD_BIAS]: trainables[HEAD_BIAS]! }, dir);
    expectClose(merged[LOGITS]!.data as Float32Array, separate[LOGITS]!.data as Float32Array, 1e-5, 1e-5);
    expectClose(merged[PROBABILITIES]!.data as Float32Array, separate[PROBABILITIES]!.data as Float32Array, 1e-5, 0);
    // The adapter changes the model: the unmerged graph does not ignore it.
    const base = await runGraph(buildInferenceGraph(spec, weights, { adapter: 'merged' }), { [PIXELS]: feeds[PIXELS]!, [HEAD_WEIGHT]: trainables[HEAD_WEIGHT]!, [HEAD_BIAS]: trainables[HEAD_BIAS]! }, dir);
    const difference = Math.max(...Array.from(base[LOGITS]!.data as Float32Array, (value, i) => Math.abs(value - (separate[LOGITS]!.data as Float32Array)[i]!)));
    expect(difference).toBeGreaterThan(1e-2);
  });

  it('outputs probabilities that are the softmax of the logits', async () => {
    const spec = tinySpec({ embedding: 'cls+mean' });
    const trainables = randomTrainables(spec, 8, 0.3);
    expect(trainables[HEAD_WEIGHT]).toHaveLength(spec.head.classCount * 2 * spec.vit.dim);
    const results = await runGraph(buildInferenceGraph(spec, randomVitWeights(spec.vit, 1), { adapter: 'separate' }), { ...trainables, [PIXELS]: randomPixels(spec, 9) }, dir);
    const logits = results[LOGITS]!.data as Float32Array;
    const classes = spec.head.classCount;
    const expected = Array.from(logits, (_, i) => {
      const row = logits.subarray(i - (i % classes), i - (i % classes) + classes);
      return Math.exp(logits[i]!) / row.reduce((sum, z) => sum + Math.exp(z), 0);
    });
    expectClose(results[PROBABILITIES]!.data as Float32Array, expected, 1e-6, 1e-5);
  });
});
