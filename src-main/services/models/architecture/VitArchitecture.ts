import type { VitConfig } from '../vit';
import { VIT_DEFAULTS } from '../vit';
import type { PositionResampling } from './positionEmbedding';

/** How a checkpoint names its tensors (MODELS.md "Tensor names"). */
export type CheckpointLayout = 'timm' | 'hf-vit' | 'hf-dinov2';

/**
 * Which tokens of the final-normed sequence [class, registers…, patches] form the embedding.
 * 'cls-mean-patches': the class token concatenated with the mean of the patch tokens,
 * registers excluded (Virchow, Virchow2).
 */
export type EmbeddingRule = 'cls' | 'cls-mean-patches';

/**
 * A ViT as a checkpoint defines it, in the timm terms of `buildVitGraph`, before the caller
 * picks an input size, batch size and dtype. MLP width is given as stored (fc1 rows) because
 * HF configs state widths and timm ratios; `toVitConfig` turns it back into timm's ratio.
 */
export interface VitArchitecture {
  /** The input size the model was trained/configured for (square), in pixels. */
  readonly imageSize: number;
  readonly patchSize: number;
  readonly inChannels: number;
  readonly dim: number;
  readonly depth: number;
  readonly heads: number;
  readonly mlp: 'gelu' | 'swiglu-packed';
  /** Output width of fc1: the hidden width for GELU, twice it (gate ‖ value) for packed SwiGLU. */
  readonly mlpWidth: number;
  readonly layerScale: boolean;
  readonly registerTokens: number;
  /** timm `no_embed_class` (after folding, for HF Dinov2 with registers). */
  readonly noEmbedClass: boolean;
  readonly layerNormEps: number;
}

export function patchTokens(architecture: Pick<VitArchitecture, 'imageSize' | 'patchSize'>, imageSize = architecture.imageSize): number {
  return (imageSize / architecture.patchSize) ** 2;
}

/** An MLP ratio r with ⌊dim·r⌋ = width exactly, as `vit.ts` (and timm) compute the width. */
export function mlpRatioForWidth(dim: number, width: number): number {
  const ratio = width / dim;
  return Math.floor(dim * ratio) === width ? ratio : (width + 0.5) / dim;
}

export interface VitBuildOptions {
  /** Input side in pixels; a multiple of the patch size (default: the architecture's). */
  readonly imageSize?: number;
  readonly batchSize?: number;
  readonly dtype?: VitConfig['dtype'];
}

export function toVitConfig(architecture: VitArchitecture, options: VitBuildOptions = {}): VitConfig {
  return {
    ...VIT_DEFAULTS,
    imageSize: options.imageSize ?? architecture.imageSize,
    patchSize: architecture.patchSize,
    inChannels: architecture.inChannels,
    dim: architecture.dim,
    depth: architecture.depth,
    heads: architecture.heads,
    mlpRatio: mlpRatioForWidth(architecture.dim, architecture.mlpWidth),
    mlp: architecture.mlp,
    layerScale: architecture.layerScale,
    registerTokens: architecture.registerTokens,
    noEmbedClass: architecture.noEmbedClass,
    layerNormEps: architecture.layerNormEps,
    batchSize: options.batchSize ?? 1,
    dtype: options.dtype ?? 'float32',
  };
}

/** The embedding width a rule gives. */
export function embeddingWidth(dim: number, rule: EmbeddingRule): number {
  return rule === 'cls' ? dim : 2 * dim;
}

/** The position-embedding resampling each layout's own library applies (MODELS.md 6, 8). */
export function layoutResampling(layout: CheckpointLayout, hfWithRegisters: boolean): PositionResampling {
  if (layout === 'timm') return { antialias: true };
  if (layout === 'hf-dinov2' && hfWithRegisters) return { antialias: true };
  return { antialias: false };
}
