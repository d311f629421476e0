import type { VitConfig } from '../vit';

/**
 * The timm ViT architectures that pathology checkpoints name in their `config.json`
 * ("architecture"), with the settings timm registers for them. A hub config only carries
 * `model_args` that override these, and never callables (`mlp_layer`, `act_layer`: MODELS.md
 * point 10), so the registered defaults are needed to read it.
 *
 * Source: timm `timm/models/vision_transformer.py` registrations, checked by building each on
 * the meta device with timm 1.0.29 (img/patch, dim, depth, heads, fc1/fc2 shapes, LayerScale,
 * registers, no_embed_class, norm eps 1e-6, qkv bias; pretrained_cfg mean/std/interpolation).
 * `mlpRatio` is timm's `mlp_ratio`; `layerScale` means registered with `init_values`.
 */
export type TimmArchitectureDefaults = Pick<VitConfig, 'imageSize' | 'patchSize' | 'dim' | 'depth' | 'heads' | 'mlpRatio' | 'mlp' | 'layerScale' | 'registerTokens' | 'noEmbedClass'>;

const vit = (imageSize: number, patchSize: number, dim: number, depth: number, heads: number, mlpRatio = 4): TimmArchitectureDefaults => ({
  imageSize,
  patchSize,
  dim,
  depth,
  heads,
  mlpRatio,
  mlp: 'gelu',
  layerScale: false,
  registerTokens: 0,
  noEmbedClass: false,
});

/** DINOv2 ports: 518 px, LayerScale; the giant ones use packed SwiGLU of ratio 2.66667·2. */
const dinov2 = (dim: number, depth: number, heads: number, registers: 0 | 4, swiglu = false): TimmArchitectureDefaults => ({
  ...vit(518, 14, dim, depth, heads, swiglu ? 2.66667 * 2 : 4),
  mlp: swiglu ? 'swiglu-packed' : 'gelu',
  layerScale: true,
  registerTokens: registers,
  noEmbedClass: registers > 0,
});

export const TIMM_ARCHITECTURES: Readonly<Record<string, TimmArchitectureDefaults>> = {
  vit_tiny_patch16_224: vit(224, 16, 192, 12, 3),
  vit_small_patch16_224: vit(224, 16, 384, 12, 6),
  vit_small_patch8_224: vit(224, 8, 384, 12, 6),
  vit_base_patch16_224: vit(224, 16, 768, 12, 12),
  vit_base_patch8_224: vit(224, 8, 768, 12, 12),
  vit_large_patch16_224: vit(224, 16, 1024, 24, 16),
  vit_huge_patch14_224: vit(224, 14, 1280, 32, 16),
  // 48/11: timm's ViT-g/14 (not DINOv2) ratio, fc1 [6144, 1408].
  vit_giant_patch14_224: vit(224, 14, 1408, 40, 16, 48 / 11),
  vit_small_patch14_dinov2: dinov2(384, 12, 6, 0),
  vit_base_patch14_dinov2: dinov2(768, 12, 12, 0),
  vit_large_patch14_dinov2: dinov2(1024, 24, 16, 0),
  vit_giant_patch14_dinov2: dinov2(1536, 40, 24, 0, true),
  vit_small_patch14_reg4_dinov2: dinov2(384, 12, 6, 4),
  vit_base_patch14_reg4_dinov2: dinov2(768, 12, 12, 4),
  vit_large_patch14_reg4_dinov2: dinov2(1024, 24, 16, 4),
  vit_giant_patch14_reg4_dinov2: dinov2(1536, 40, 24, 4, true),
};

/** Strips a pretrained tag ("vit_small_patch16_224.dino" → "vit_small_patch16_224"). */
export function timmArchitectureName(architecture: string): string {
  return architecture.split('.')[0]!;
}
