import { mlpHiddenWidth, tokenCount } from '../../models/vit';
import type { VitConfig, VitLinearLayer } from '../../models/vit';
import { TrainingError } from '../TrainingError';

/** Low-rank adaptation of the block linear layers, as peft's LoraConfig (bias "none"). */
export interface LoraConfig {
  readonly rank: number;
  readonly alpha: number;
  /** Dropout probability on the LoRA branch's input (peft `lora_dropout`); 0 turns it off. */
  readonly dropout: number;
  readonly targets: readonly VitLinearLayer[];
}

/** The reference code's settings (DESIGN.md, Training). */
export const LORA_DEFAULTS: LoraConfig = { rank: 16, alpha: 16, dropout: 0.1, targets: ['qkv', 'proj', 'fc1', 'fc2'] };

/**
 * Which tokens form the embedding the head sees: the class token, or the class token
 * concatenated with the mean of the patch tokens (UNI's convention), both after the final norm.
 */
export type EmbeddingRule = 'cls' | 'cls+mean';

export interface HeadConfig {
  readonly classCount: number;
  readonly embedding: EmbeddingRule;
}

/** Everything that fixes the shape of a LoRA classifier's graphs. */
export interface LoraModelSpec {
  /** The frozen backbone; `dtype` must be float32 or float64 (no half-precision training). */
  readonly vit: VitConfig;
  readonly lora: LoraConfig;
  readonly head: HeadConfig;
}

/** One adapted linear layer: where it sits, its sizes and the names of its graph inputs. */
export interface LoraTarget {
  readonly block: number;
  readonly layer: VitLinearLayer;
  /** timm module name, e.g. `blocks.0.attn.qkv`. */
  readonly module: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Graph input names: A [rank, in], B [out, rank], the dropout mask [B·T, in]. */
  readonly aName: string;
  readonly bName: string;
  readonly maskName: string;
}

export interface TrainableParameter {
  readonly name: string;
  readonly shape: readonly number[];
}

export const HEAD_WEIGHT = 'head.weight';
export const HEAD_BIAS = 'head.bias';

const LAYERS: readonly VitLinearLayer[] = ['qkv', 'proj', 'fc1', 'fc2'];
const METHOD = 'LoRA';

export function loraScaling(lora: LoraConfig): number {
  return lora.alpha / lora.rank;
}

export function checkLoraSpec(spec: LoraModelSpec): void {
  const { lora, head, vit } = spec;
  const problems: string[] = [];
  if (!Number.isInteger(lora.rank) || lora.rank < 1) problems.push(`rank must be a positive integer, got ${lora.rank}`);
  if (!(lora.alpha > 0)) problems.push(`alpha must be positive, got ${lora.alpha}`);
  if (!(lora.dropout >= 0 && lora.dropout < 1)) problems.push(`dropout must be in [0, 1), got ${lora.dropout}`);
  if (lora.targets.length === 0) problems.push('at least one target layer is needed');
  for (const target of lora.targets) if (!LAYERS.includes(target)) problems.push(`unknown target layer "${target}" (known: ${LAYERS.join(', ')})`);
  if (new Set(lora.targets).size !== lora.targets.length) problems.push(`a target layer is listed twice: ${lora.targets.join(', ')}`);
  if (!Number.isInteger(head.classCount) || head.classCount < 2) problems.push(`classCount must be an integer ≥ 2, got ${head.classCount}`);
  if (head.embedding !== 'cls' && head.embedding !== 'cls+mean') problems.push(`unknown embedding rule "${String(head.embedding)}"`);
  if (vit.dtype !== 'float32' && vit.dtype !== 'float64') problems.push(`LoRA graphs compute in float32 or float64, the model is ${vit.dtype}`);
  if (problems.length > 0) throw new TrainingError(METHOD, problems.join('; '));
}

function linearSizes(vit: VitConfig, layer: VitLinearLayer): [inFeatures: number, outFeatures: number] {
  const hidden = mlpHiddenWidth(vit);
  switch (layer) {
    case 'qkv':
      return [vit.dim, 3 * vit.dim];
    case 'proj':
      return [vit.dim, vit.dim];
    case 'fc1':
      return [vit.dim, hidden];
    case 'fc2':
      return [vit.mlp === 'swiglu-packed' ? hidden / 2 : hidden, vit.dim];
  }
}

export function moduleName(block: number, layer: VitLinearLayer): string {
  return `blocks.${block}.${layer === 'qkv' || layer === 'proj' ? 'attn' : 'mlp'}.${layer}`;
}

/** The adapted layers in graph order (block by block, qkv, proj, fc1, fc2). */
export function loraTargets(spec: LoraModelSpec): LoraTarget[] {
  checkLoraSpec(spec);
  const targets: LoraTarget[] = [];
  for (let block = 0; block < spec.vit.depth; block++) {
    for (const layer of LAYERS) {
      if (!spec.lora.targets.includes(layer)) continue;
      const module = moduleName(block, layer);
      const [inFeatures, outFeatures] = linearSizes(spec.vit, layer);
      targets.push({ block, layer, module, inFeatures, outFeatures, aName: `${module}.lora_A`, bName: `${module}.lora_B`, maskName: `${module}.lora_dropout_mask` });
    }
  }
  return targets;
}

export function embeddingWidth(spec: LoraModelSpec): number {
  return spec.head.embedding === 'cls+mean' ? 2 * spec.vit.dim : spec.vit.dim;
}

/** Every trainable tensor: each target's A and B, then the head's weight and bias. */
export function trainableParameters(spec: LoraModelSpec): TrainableParameter[] {
  const parameters: TrainableParameter[] = loraTargets(spec).flatMap((target) => [
    { name: target.aName, shape: [spec.lora.rank, target.inFeatures] },
    { name: target.bName, shape: [target.outFeatures, spec.lora.rank] },
  ]);
  parameters.push({ name: HEAD_WEIGHT, shape: [spec.head.classCount, embeddingWidth(spec)] }, { name: HEAD_BIAS, shape: [spec.head.classCount] });
  return parameters;
}

/** Masks draw keep decisions in steps of 1/65,536 (dropoutMasks.ts). */
export const DROPOUT_LEVELS = 65536;

/** The exact keep probability of drawn masks, which the graph scales by (1 when the dropout rounds to none). */
export function dropoutKeep(dropout: number): number {
  return Math.round((1 - dropout) * DROPOUT_LEVELS) / DROPOUT_LEVELS;
}

/** The dropout mask inputs of a train step, [B·T, in] each; none when dropout is 0. */
export function dropoutMaskInputs(spec: LoraModelSpec): TrainableParameter[] {
  // The graph has masks only when the drawn keep probability is below 1 (dropoutKeep).
  if (dropoutKeep(spec.lora.dropout) === 1) return [];
  const rows = spec.vit.batchSize * tokenCount(spec.vit);
  return loraTargets(spec).map((target) => ({ name: target.maskName, shape: [rows, target.inFeatures] }));
}
