import { Graph } from '../graph/Graph';
import type { Tensor, WeightData } from '../graph/Graph';
import { GraphError } from '../graph/GraphError';
import { add, cast, concat, conv, expand, gelu, gemm, layerNormalization, matMul, mul, reshape, silu, softmax, split, transpose } from '../graph/ops';
import type { Shape } from '../graph/shapes';

/**
 * A Vision Transformer of the timm family as pathology foundation models use it (MODELS.md):
 * pre-norm blocks `x += ls1(attn(norm1(x)))`, `x += ls2(mlp(norm2(x)))`, a class token,
 * optional register tokens, a final norm over all tokens.
 */
export interface VitConfig {
  /** Side of the square input image, in pixels (the graph is built for exactly this size). */
  readonly imageSize: number;
  readonly patchSize: number;
  readonly inChannels: number;
  readonly dim: number;
  readonly depth: number;
  readonly heads: number;
  /** MLP hidden width = ⌊dim × mlpRatio⌋, as timm computes it. */
  readonly mlpRatio: number;
  /**
   * 'gelu': fc1 → exact GELU → fc2. 'swiglu-packed': timm's SwiGLUPacked (GluMlp with SiLU,
   * gate first): fc1 gives [gate | value], SiLU(gate)·value → fc2 of half the hidden width.
   */
  readonly mlp: 'gelu' | 'swiglu-packed';
  /** Per-channel scales `ls1.gamma`, `ls2.gamma` on both residual branches. */
  readonly layerScale: boolean;
  readonly registerTokens: number;
  /** timm `no_embed_class`: the position embedding covers the patches only (not class/registers). */
  readonly noEmbedClass: boolean;
  readonly layerNormEps: number;
  /** Static batch size of the graph (one graph per batch size, ONNX-TRAINING.md pitfall 6). */
  readonly batchSize: number;
  /**
   * The type the network computes in. 'float16' halves weight memory and bandwidth on GPU
   * providers: the weights are stored as half floats, while the `pixels` input and the `tokens`
   * output stay float32 (a Cast at each end), so callers feed and read the same tensors.
   */
  readonly dtype: 'float32' | 'float64' | 'float16';
}

export const VIT_DEFAULTS: Pick<VitConfig, 'inChannels' | 'mlp' | 'layerScale' | 'registerTokens' | 'noEmbedClass' | 'layerNormEps' | 'batchSize' | 'dtype'> = {
  inChannels: 3,
  mlp: 'gelu',
  layerScale: false,
  registerTokens: 0,
  noEmbedClass: false,
  layerNormEps: 1e-6,
  batchSize: 1,
  dtype: 'float32',
};

export interface VitParameter {
  readonly name: string;
  readonly shape: Shape;
}

/** Supplies the values of one named parameter (timm names), e.g. from a checkpoint reader. */
export type VitWeights = (parameter: VitParameter) => WeightData;

export function patchGrid(config: VitConfig): number {
  return config.imageSize / config.patchSize;
}

/** Tokens in the sequence: class token, registers, patches. */
export function tokenCount(config: VitConfig): number {
  return 1 + config.registerTokens + patchGrid(config) ** 2;
}

export function mlpHiddenWidth(config: VitConfig): number {
  return Math.floor(config.dim * config.mlpRatio);
}

export function checkVitConfig(config: VitConfig): void {
  const problems: string[] = [];
  const positive = ['imageSize', 'patchSize', 'inChannels', 'dim', 'depth', 'heads', 'batchSize'] as const;
  for (const key of positive) if (!Number.isInteger(config[key]) || config[key] < 1) problems.push(`${key} must be a positive integer, got ${config[key]}`);
  if (config.imageSize % config.patchSize !== 0) problems.push(`imageSize ${config.imageSize} is not a multiple of patchSize ${config.patchSize}`);
  if (config.dim % config.heads !== 0) problems.push(`dim ${config.dim} is not divisible by heads ${config.heads}`);
  if (!Number.isInteger(config.registerTokens) || config.registerTokens < 0) problems.push(`registerTokens must be ≥ 0, got ${config.registerTokens}`);
  const hidden = mlpHiddenWidth(config);
  if (hidden < 1) problems.push(`mlpRatio ${config.mlpRatio} gives no hidden units`);
  if (config.mlp === 'swiglu-packed' && hidden % 2 !== 0) problems.push(`SwiGLU needs an even hidden width, dim × mlpRatio gives ${hidden}`);
  if (problems.length > 0) throw new GraphError('ViT', undefined, problems.join('; '));
}

/** Every parameter of the model, in timm's names and layouts (Linear weights are [out, in]). */
export function vitParameters(config: VitConfig): VitParameter[] {
  checkVitConfig(config);
  const { dim, patchSize, inChannels, registerTokens } = config;
  const hidden = mlpHiddenWidth(config);
  const fc2In = config.mlp === 'swiglu-packed' ? hidden / 2 : hidden;
  const positions = patchGrid(config) ** 2 + (config.noEmbedClass ? 0 : 1 + registerTokens);
  const parameters: VitParameter[] = [
    { name: 'patch_embed.proj.weight', shape: [dim, inChannels, patchSize, patchSize] },
    { name: 'patch_embed.proj.bias', shape: [dim] },
    { name: 'cls_token', shape: [1, 1, dim] },
  ];
  if (registerTokens > 0) parameters.push({ name: 'reg_token', shape: [1, registerTokens, dim] });
  parameters.push({ name: 'pos_embed', shape: [1, positions, dim] });
  for (let i = 0; i < config.depth; i++) {
    const block = `blocks.${i}`;
    parameters.push(
      { name: `${block}.norm1.weight`, shape: [dim] },
      { name: `${block}.norm1.bias`, shape: [dim] },
      { name: `${block}.attn.qkv.weight`, shape: [3 * dim, dim] },
      { name: `${block}.attn.qkv.bias`, shape: [3 * dim] },
      { name: `${block}.attn.proj.weight`, shape: [dim, dim] },
      { name: `${block}.attn.proj.bias`, shape: [dim] },
    );
    if (config.layerScale) parameters.push({ name: `${block}.ls1.gamma`, shape: [dim] });
    parameters.push(
      { name: `${block}.norm2.weight`, shape: [dim] },
      { name: `${block}.norm2.bias`, shape: [dim] },
      { name: `${block}.mlp.fc1.weight`, shape: [hidden, dim] },
      { name: `${block}.mlp.fc1.bias`, shape: [hidden] },
      { name: `${block}.mlp.fc2.weight`, shape: [dim, fc2In] },
      { name: `${block}.mlp.fc2.bias`, shape: [dim] },
    );
    if (config.layerScale) parameters.push({ name: `${block}.ls2.gamma`, shape: [dim] });
  }
  parameters.push({ name: 'norm.weight', shape: [dim] }, { name: 'norm.bias', shape: [dim] });
  return parameters;
}

export function vitParameterCount(config: VitConfig): number {
  return vitParameters(config).reduce((sum, { shape }) => sum + shape.reduce((product, dim) => product * dim, 1), 0);
}

/** The four linear layers of each block that adapters (LoRA) attach to, in timm's names. */
export type VitLinearLayer = 'qkv' | 'proj' | 'fc1' | 'fc2';

export interface VitLinear {
  readonly block: number;
  readonly layer: VitLinearLayer;
  /** The layer's input, [B·T, in]. */
  readonly input: Tensor;
  /** Frozen weight [out, in] and bias [out], as initializers. */
  readonly weight: Tensor;
  readonly bias: Tensor;
}

/**
 * Emits one block linear layer. The default is `input · weightᵀ + bias` as one Gemm(transB)
 * (pitfall 7); the training issue's LoRA builder adds its low-rank branch here.
 */
export type VitLinearEmitter = (graph: Graph, linear: VitLinear) => Tensor;

export const plainLinear: VitLinearEmitter = (graph, { input, weight, bias }) => gemm(graph, input, weight, bias, { transB: true });

/**
 * Builds the forward graph: input `pixels` [B, C, H, W] (already normalised), output `tokens`
 * [B, T, D], the final-normed sequence (class token, registers, patches). Which tokens form
 * the embedding is the preset's business.
 */
export function buildVitGraph(config: VitConfig, weights: VitWeights, name = 'vit', linear: VitLinearEmitter = plainLinear): Graph {
  const graph = new Graph(name);
  const shapes = new Map(vitParameters(config).map((parameter) => [parameter.name, parameter]));
  const param = (parameterName: string): Tensor => {
    const parameter = shapes.get(parameterName)!;
    return graph.initializer(parameterName, config.dtype, parameter.shape, weights(parameter));
  };
  const blockLinear = (block: number, layer: VitLinearLayer, input: Tensor): Tensor => {
    const prefix = `blocks.${block}.${layer === 'qkv' || layer === 'proj' ? 'attn' : 'mlp'}.${layer}`;
    return linear(graph, { block, layer, input, weight: param(`${prefix}.weight`), bias: param(`${prefix}.bias`) });
  };
  const { batchSize: batch, dim, imageSize } = config;
  const half = config.dtype === 'float16';
  const input = graph.input('pixels', half ? 'float32' : config.dtype, [batch, config.inChannels, imageSize, imageSize]);
  const pixels = half ? cast(graph, input, 'float16') : input;
  const tokens = tokenCount(config);

  let x = graph.scope('patch_embed', () => {
    const patches = conv(graph, pixels, param('patch_embed.proj.weight'), param('patch_embed.proj.bias'), {
      strides: [config.patchSize, config.patchSize],
    });
    return transpose(graph, reshape(graph, patches, [batch, dim, -1]), [0, 2, 1]);
  });
  x = graph.scope('pos_embed', () => {
    const prefix = [expand(graph, param('cls_token'), [batch, 1, dim])];
    if (config.registerTokens > 0) prefix.push(expand(graph, param('reg_token'), [batch, config.registerTokens, dim]));
    if (config.noEmbedClass) return concat(graph, [...prefix, add(graph, x, param('pos_embed'))], 1);
    return add(graph, concat(graph, [...prefix, x], 1), param('pos_embed'));
  });

  // Blocks work on the 2-D [B·T, D] view so every linear layer is one Gemm(transB) (pitfall 7).
  let h = reshape(graph, x, [batch * tokens, dim]);
  for (let i = 0; i < config.depth; i++) {
    const block = `blocks.${i}`;
    h = graph.scope(block, () => {
      const normed1 = layerNormalization(graph, h, param(`${block}.norm1.weight`), param(`${block}.norm1.bias`), config.layerNormEps);
      let attention = graph.scope('attn', () => attentionBranch(graph, config, normed1, (layer, input) => blockLinear(i, layer, input)));
      if (config.layerScale) attention = mul(graph, attention, param(`${block}.ls1.gamma`));
      const afterAttention = add(graph, h, attention);
      const normed2 = layerNormalization(graph, afterAttention, param(`${block}.norm2.weight`), param(`${block}.norm2.bias`), config.layerNormEps);
      let mlp = graph.scope('mlp', () => mlpBranch(graph, config, normed2, (layer, input) => blockLinear(i, layer, input)));
      if (config.layerScale) mlp = mul(graph, mlp, param(`${block}.ls2.gamma`));
      return add(graph, afterAttention, mlp);
    });
  }
  const normed = layerNormalization(graph, h, param('norm.weight'), param('norm.bias'), config.layerNormEps);
  graph.output(reshape(graph, half ? cast(graph, normed, 'float32') : normed, [batch, tokens, dim]), 'tokens');
  return graph;
}

type BlockLinear = (layer: VitLinearLayer, input: Tensor) => Tensor;

function attentionBranch(graph: Graph, config: VitConfig, x: Tensor, linear: BlockLinear): Tensor {
  const { batchSize: batch, dim, heads } = config;
  const tokens = tokenCount(config);
  const headDim = dim / heads;
  const qkv = linear('qkv', x);
  // [B·T, 3D] → [3, B, heads, T, headDim], as timm's reshape(B, N, 3, heads, hd).permute(2, 0, 3, 1, 4).
  // Split rather than three Gathers: its gradient is one Concat, not three zero-padded copies summed.
  const stacked = transpose(graph, reshape(graph, qkv, [batch, tokens, 3, heads, headDim]), [2, 0, 3, 1, 4]);
  const [q0, k, v] = split(graph, stacked, [1, 1, 1], 0).map((part) => reshape(graph, part, [batch, heads, tokens, headDim])) as [Tensor, Tensor, Tensor];
  const q = mul(graph, q0, headDim ** -0.5);
  const weights = softmax(graph, matMul(graph, q, transpose(graph, k, [0, 1, 3, 2])), -1);
  const context = transpose(graph, matMul(graph, weights, v), [0, 2, 1, 3]);
  return linear('proj', reshape(graph, context, [batch * tokens, dim]));
}

function mlpBranch(graph: Graph, config: VitConfig, x: Tensor, linear: BlockLinear): Tensor {
  const hidden = linear('fc1', x);
  let activated: Tensor;
  if (config.mlp === 'gelu') {
    activated = gelu(graph, hidden);
  } else {
    const half = mlpHiddenWidth(config) / 2;
    const [gate, value] = split(graph, hidden, [half, half], 1) as [Tensor, Tensor];
    activated = mul(graph, silu(graph, gate), value);
  }
  return linear('fc2', activated);
}
