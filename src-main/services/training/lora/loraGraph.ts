import { appendBackwardPass, softmaxCrossEntropy } from '../../graph/autodiff';
import type { Graph, Tensor } from '../../graph/Graph';
import { where } from '../../graph/autodiff/extraOps';
import { concat, gather, gemm, reduceMean, scalar, slice, softmax } from '../../graph/ops';
import { buildVitGraph, plainLinear } from '../../models/vit';
import type { VitLinearEmitter, VitWeights } from '../../models/vit';
import { checkLoraSpec, dropoutKeep, embeddingWidth, HEAD_BIAS, HEAD_WEIGHT, loraScaling, loraTargets, trainableParameters } from './loraConfig';
import type { LoraModelSpec } from './loraConfig';

/** Graph input and output names shared by the graphs and the code that feeds them. */
export const PIXELS = 'pixels';
export const LABELS = 'labels';
export const LOSS = 'loss';
export const LOGITS = 'logits';
export const PROBABILITIES = 'probabilities';

export function gradientName(parameter: string): string {
  return `grad.${parameter}`;
}

type FloatDType = 'float32' | 'float64';

/**
 * Whether the backward pass can compute `tensor` again instead of keeping it: a LayerNormalization
 * or GELU result is one fused pass over inputs the backward keeps anyway (the residual stream,
 * GELU's input). Attention's output is not: it would take the attention product again.
 */
function cheapToRecompute(graph: Graph, tensor: Tensor): boolean {
  const producer = tensor.producer;
  if (!producer) return false;
  return producer.op.opType === 'LayerNormalization' || graph.functionOf(producer)?.name === 'Gelu';
}

/**
 * The LoRA form of one block linear layer, `y = x·Wᵀ + b + (alpha/r)·(dropout(x)·Aᵀ)·Bᵀ`, as three
 * Gemms with transB so the frozen W is read in place and never transposed or copied (pitfall 7).
 * The scale (and the 1/keep of inverted dropout) rides on the last Gemm's alpha, so the branch
 * costs no extra elementwise pass beyond the mask itself. Layers that are not targets stay plain.
 */
export function loraLinear(spec: LoraModelSpec, withDropout: boolean): VitLinearEmitter {
  const byModule = new Map(loraTargets(spec).map((target) => [`${target.block}.${target.layer}`, target]));
  const dtype = spec.vit.dtype as FloatDType;
  const keep = withDropout ? dropoutKeep(spec.lora.dropout) : 1;
  const alpha = loraScaling(spec.lora) / keep;
  return (graph, linear) => {
    const target = byModule.get(`${linear.block}.${linear.layer}`);
    if (!target) return plainLinear(graph, linear);
    const frozen = gemm(graph, linear.input, linear.weight, linear.bias, { transB: true });
    const a = graph.input(target.aName, dtype, [spec.lora.rank, target.inFeatures]);
    const b = graph.input(target.bName, dtype, [target.outFeatures, spec.lora.rank]);
    return graph.scope('lora', () => {
      // A's gradient reads the (masked) input: where that input is cheap to compute again, the
      // backward does so rather than keep it (ViT-S, batch 16: ~0.3 GB of the step's peak).
      const recompute = cheapToRecompute(graph, linear.input);
      const input = recompute ? graph.recomputeInBackward(linear.input) : linear.input;
      // Where(mask, x, 0): one pass and no float copy of the mask (a Cast and a Mul took two).
      let x = input;
      if (keep < 1) {
        x = where(graph, graph.input(target.maskName, 'bool', input.shape), input, scalar(graph, 0, dtype));
        if (recompute) graph.recomputeInBackward(x);
      }
      const down = gemm(graph, x, a, undefined, { transB: true });
      return gemm(graph, down, b, frozen, { transB: true, alpha });
    });
  };
}

/** The head's input [B, width]: class token, or class token ‖ mean of the patch tokens. */
function embedding(graph: Graph, spec: LoraModelSpec, tokens: Tensor): Tensor {
  const classToken = gather(graph, tokens, 0, 1);
  if (spec.head.embedding === 'cls') return classToken;
  const patches = slice(graph, tokens, { starts: [1 + spec.vit.registerTokens], ends: [Infinity], axes: [1] });
  return concat(graph, [classToken, reduceMean(graph, patches, [1], false)], 1);
}

/**
 * The backbone (its `tokens` output taken back: these graphs output only what training and
 * prediction read) and a linear head whose weight and bias are graph inputs.
 */
function buildClassifier(spec: LoraModelSpec, weights: VitWeights, name: string, linear: VitLinearEmitter): { graph: Graph; logits: Tensor } {
  const graph = buildVitGraph(spec.vit, weights, name, linear);
  const [tokens] = graph.outputs.splice(0, graph.outputs.length) as [Tensor];
  const logits = graph.scope('head', () => {
    const dtype = spec.vit.dtype as FloatDType;
    const weight = graph.input(HEAD_WEIGHT, dtype, [spec.head.classCount, embeddingWidth(spec)]);
    const bias = graph.input(HEAD_BIAS, dtype, [spec.head.classCount]);
    return gemm(graph, embedding(graph, spec, tokens), weight, bias, { transB: true });
  });
  return { graph, logits };
}

/**
 * One training step as an ordinary inference graph. Inputs: `pixels` [B, C, H, W] (normalised),
 * `labels` int64 [B], each target's `…lora_A`/`…lora_B` (and `…lora_dropout_mask`, bool,
 * when dropout > 0), `head.weight`, `head.bias`. Outputs: `loss` (mean cross-entropy), `logits`
 * [B, classes] and `grad.<name>` for every trainable input. Frozen weights are initializers from
 * `weights` and get no gradient nodes.
 */
export function buildTrainStepGraph(spec: LoraModelSpec, weights: VitWeights, name = 'lora_train_step'): Graph {
  checkLoraSpec(spec);
  const { graph, logits } = buildClassifier(spec, weights, name, loraLinear(spec, dropoutKeep(spec.lora.dropout) < 1));
  const labels = graph.input(LABELS, 'int64', [spec.vit.batchSize]);
  const loss = softmaxCrossEntropy(graph, logits, labels);
  const byName = new Map(graph.inputs.map((input) => [input.name, input]));
  const trainable = trainableParameters(spec).map(({ name: parameter }) => byName.get(parameter)!);
  const gradients = appendBackwardPass(graph, loss, trainable);
  graph.output(loss, LOSS);
  graph.output(logits, LOGITS);
  gradients.forEach((gradient, i) => graph.output(gradient, gradientName(trainable[i]!.name)));
  return graph;
}

export interface InferenceGraphOptions {
  /**
   * 'separate': A and B are graph inputs beside the frozen weights (no dropout). 'merged': the
   * layers are plain and `weights` must already hold W + (alpha/r)·B·A (`mergedVitWeights`), the
   * faster form for prediction; the head stays an input either way.
   */
  readonly adapter: 'separate' | 'merged';
  readonly name?: string;
}

/** The forward pass for prediction: outputs `logits` and `probabilities` (Softmax over classes). */
export function buildInferenceGraph(spec: LoraModelSpec, weights: VitWeights, options: InferenceGraphOptions): Graph {
  checkLoraSpec(spec);
  const linear = options.adapter === 'merged' ? plainLinear : loraLinear(spec, false);
  const { graph, logits } = buildClassifier(spec, weights, options.name ?? `lora_inference_${options.adapter}`, linear);
  graph.output(logits, LOGITS);
  graph.output(softmax(graph, logits, 1), PROBABILITIES);
  return graph;
}
