import type { CheckpointLayout, EmbeddingRule, VitArchitecture } from './VitArchitecture';
import { embeddingWidth } from './VitArchitecture';

/** How pixels are prepared before the network (timm eval transform or the model card's code). */
export interface Preprocessing {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  readonly interpolation: 'bicubic' | 'bilinear';
}

/**
 * The known settings of a pathology foundation model. Facts come from /work/shared/MODELS.md
 * (compiled from model cards and config files); each preset names its sources, and says where a
 * value is not stated publicly. Where a checkpoint's own config.json disagrees, the checkpoint
 * wins and the loader reports the difference.
 */
export interface FoundationModelPreset {
  readonly id: string;
  readonly name: string;
  /** Hugging Face repository ids (and mirrors) the model is published under; compared case-insensitively. */
  readonly hubIds: readonly string[];
  readonly layout: CheckpointLayout;
  /** The timm architecture its config names (timm layout only). */
  readonly timmArchitecture?: string;
  readonly architecture: VitArchitecture;
  readonly preprocessing: Preprocessing;
  /** Microns per pixel of the tiles it expects; undefined where no public source states one. */
  readonly umPerPixel: number | undefined;
  readonly embedding: EmbeddingRule;
  /** Public sources, and what is unverified. */
  readonly source: string;
}

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } as const;
const H_OPTIMUS = { mean: [0.707223, 0.578729, 0.703617], std: [0.211883, 0.230117, 0.177517] } as const;
const HALF = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } as const;

/** timm's LayerNorm eps in every timm ViT (MODELS.md, common facts). */
const TIMM_EPS = 1e-6;
/** HF ViTConfig default; Phikon's own value is unverified (MODELS.md "Not verified"). */
const HF_VIT_EPS = 1e-12;
/** HF Dinov2Config default in transformers 5.18 (checked; MODELS.md says 1e-12): config wins. */
const HF_DINOV2_EPS = 1e-6;

const gelu = (dim: number, width = 4 * dim) => ({ mlp: 'gelu' as const, mlpWidth: width });
/** Packed SwiGLU: fc1 rows = 2 × hidden (MODELS.md point 4). */
const swiglu = (fc1Rows: number) => ({ mlp: 'swiglu-packed' as const, mlpWidth: fc1Rows });

function arch(
  imageSize: number,
  patchSize: number,
  dim: number,
  depth: number,
  heads: number,
  mlp: Pick<VitArchitecture, 'mlp' | 'mlpWidth'>,
  rest: Partial<Pick<VitArchitecture, 'layerScale' | 'registerTokens' | 'noEmbedClass' | 'layerNormEps'>> = {},
): VitArchitecture {
  return {
    imageSize,
    patchSize,
    inChannels: 3,
    dim,
    depth,
    heads,
    ...mlp,
    layerScale: rest.layerScale ?? false,
    registerTokens: rest.registerTokens ?? 0,
    noEmbedClass: rest.noEmbedClass ?? false,
    layerNormEps: rest.layerNormEps ?? TIMM_EPS,
  };
}

const H_OPTIMUS_0: FoundationModelPreset = {
  // MODELS.md H-optimus-0 [P S6, T, D]: vit_giant_patch14_reg4_dinov2, 40 blocks, SwiGLUPacked
  // 8192→4096, 4 registers, no_embed_class; HO mean/std; 224 px tiles at 0.5 µm/px.
  // Interpolation: the card feeds 224 px tiles without resizing; bicubic is the registered
  // architecture's pretrained_cfg (timm), unverified for the hub config.
  id: 'h-optimus-0',
  name: 'H-optimus-0',
  hubIds: ['bioptimus/H-optimus-0'],
  layout: 'timm',
  timmArchitecture: 'vit_giant_patch14_reg4_dinov2',
  architecture: arch(224, 14, 1536, 40, 24, swiglu(8192), { layerScale: true, registerTokens: 4, noEmbedClass: true }),
  preprocessing: { ...H_OPTIMUS, interpolation: 'bicubic' },
  umPerPixel: 0.5,
  embedding: 'cls',
  source: 'MODELS.md H-optimus-0 row (bioptimus/releases README at c369f8f; HF card copy)',
};

export const FOUNDATION_MODEL_PRESETS: readonly FoundationModelPreset[] = [
  {
    // MODELS.md UNI [P S3, D]: vit_large_patch16_224, init_values 1e-5 (ls1.gamma present).
    // Interpolation: the card's Resize(224) is torchvision's default bilinear; the hub
    // pretrained_cfg value is unverified. 0.5 µm/px is inferred from TRIDENT's 20×.
    id: 'uni',
    name: 'UNI',
    hubIds: ['MahmoodLab/uni'],
    layout: 'timm',
    timmArchitecture: 'vit_large_patch16_224',
    architecture: arch(224, 16, 1024, 24, 16, gelu(1024), { layerScale: true }),
    preprocessing: { ...IMAGENET, interpolation: 'bilinear' },
    umPerPixel: 0.5,
    embedding: 'cls',
    source: 'MODELS.md UNI row (MahmoodLab/UNI README, get_encoder.py; TRIDENT for 20×)',
  },
  {
    // MODELS.md UNI2-h [P S3, D]: card kwargs patch 14, 1536, depth 24, heads 24, mlp_ratio
    // 2.66667·2 with SwiGLUPacked → fc1 [8192,1536]; reg_tokens 8, no_embed_class True.
    // Interpolation as UNI (card Resize default, bilinear; unverified in pretrained_cfg).
    id: 'uni2-h',
    name: 'UNI2-h',
    hubIds: ['MahmoodLab/UNI2-h'],
    layout: 'timm',
    timmArchitecture: 'vit_giant_patch14_224',
    architecture: arch(224, 14, 1536, 24, 24, swiglu(8192), { layerScale: true, registerTokens: 8, noEmbedClass: true }),
    preprocessing: { ...IMAGENET, interpolation: 'bilinear' },
    umPerPixel: 0.5,
    embedding: 'cls',
    source: 'MODELS.md UNI2-h row (MahmoodLab/UNI README; TRIDENT for 20×)',
  },
  {
    // MODELS.md Virchow [P S4, T, D]: config vit_huge_patch14_224, mlp_ratio 5.3375 with
    // SwiGLUPacked given in code → fc1 [6832,1280]; pretrained_cfg bicubic, IN; 0.5 µm/px;
    // embedding = cat(x[:,0], x[:,1:].mean(1)), 2560.
    id: 'virchow',
    name: 'Virchow',
    hubIds: ['paige-ai/Virchow'],
    layout: 'timm',
    timmArchitecture: 'vit_huge_patch14_224',
    architecture: arch(224, 14, 1280, 32, 16, swiglu(6832), { layerScale: true }),
    preprocessing: { ...IMAGENET, interpolation: 'bicubic' },
    umPerPixel: 0.5,
    embedding: 'cls-mean-patches',
    source: 'MODELS.md Virchow row (paige-ai/Virchow card; config.json transcription)',
  },
  {
    // MODELS.md Virchow2 [T S1 S2, D]: as Virchow plus reg_tokens 4, no_embed_class False (pos
    // covers class and registers, 261); embedding = cat(x[:,0], x[:,5:].mean(1)).
    // Trained on mixed scales (0.25/0.5/1/2 µm/px, paper); 0.5 is our default, not a card value.
    id: 'virchow2',
    name: 'Virchow2',
    hubIds: ['paige-ai/Virchow2'],
    layout: 'timm',
    timmArchitecture: 'vit_huge_patch14_224',
    architecture: arch(224, 14, 1280, 32, 16, swiglu(6832), { layerScale: true, registerTokens: 4 }),
    preprocessing: { ...IMAGENET, interpolation: 'bicubic' },
    umPerPixel: 0.5,
    embedding: 'cls-mean-patches',
    source: 'MODELS.md Virchow2 row (config transcription in TRIDENT/eva; Virchow2 paper for scales)',
  },
  H_OPTIMUS_0,
  {
    // MODELS.md H-optimus-1 [T S14, I]: same architecture as H-optimus-0 (inferred from the
    // TRIDENT local path), HO mean/std, 224, 0.5 µm/px. Interpolation as H-optimus-0.
    ...H_OPTIMUS_0,
    id: 'h-optimus-1',
    name: 'H-optimus-1',
    hubIds: ['bioptimus/H-optimus-1'],
    source: 'MODELS.md H-optimus-1 row (third-party registry S14, TRIDENT); architecture inferred equal to H-optimus-0',
  },
  {
    // MODELS.md Prov-GigaPath [P S7, T S1, D]: vit_giant_patch14_dinov2 with patch_size 16,
    // 1536, 40, 24; SwiGLUPacked inherited from the architecture → fc1 [8192,1536]; no registers,
    // no_embed_class False (197 positions); Resize(256, bicubic) + CenterCrop(224), IN, 0.5 mpp.
    id: 'prov-gigapath',
    name: 'Prov-GigaPath (tile encoder)',
    hubIds: ['prov-gigapath/prov-gigapath'],
    layout: 'timm',
    timmArchitecture: 'vit_giant_patch14_dinov2',
    architecture: arch(224, 16, 1536, 40, 24, swiglu(8192), { layerScale: true }),
    preprocessing: { ...IMAGENET, interpolation: 'bicubic' },
    umPerPixel: 0.5,
    embedding: 'cls',
    source: 'MODELS.md Prov-GigaPath row (prov-gigapath README, demo; config transcription)',
  },
  {
    // MODELS.md Phikon [P S8]: HF ViTModel, ViT-B/16 224, GELU 3072, no LayerScale; IN via
    // ViTImageProcessor (its default resample is bilinear, transformers source); 0.5 µm/px (20×).
    // layer_norm_eps unverified: HF default 1e-12 here, the checkpoint's config.json wins.
    id: 'phikon',
    name: 'Phikon',
    hubIds: ['owkin/phikon'],
    layout: 'hf-vit',
    architecture: arch(224, 16, 768, 12, 12, gelu(768), { layerNormEps: HF_VIT_EPS }),
    preprocessing: { ...IMAGENET, interpolation: 'bilinear' },
    umPerPixel: 0.5,
    embedding: 'cls',
    source: 'MODELS.md Phikon row (owkin/HistoSSLscaling README); eps unverified',
  },
  {
    // MODELS.md Phikon-v2 [P S1 S2, T]: HF Dinov2Model, ViT-L/16 (1024, 24, 16), GELU, no
    // registers; BitImageProcessor bicubic, IN; 20×. Unverified: MLP width (4096 assumed from
    // Dinov2's default mlp_ratio 4), image_size 224, eps.
    id: 'phikon-v2',
    name: 'Phikon-v2',
    hubIds: ['owkin/phikon-v2'],
    layout: 'hf-dinov2',
    architecture: arch(224, 16, 1024, 24, 16, gelu(1024), { layerScale: true, layerNormEps: HF_DINOV2_EPS }),
    preprocessing: { ...IMAGENET, interpolation: 'bicubic' },
    umPerPixel: 0.5,
    embedding: 'cls',
    source: 'MODELS.md Phikon-v2 row (TRIDENT, eva); MLP width, image size and eps unverified',
  },
  {
    // MODELS.md Hibou [P S9, D]: custom Dinov2 with registers (trust_remote_code), 224/14,
    // 768/12/12, SwiGLU hidden 2048 (weights_in [4096,768]), LayerScale, 4 registers inserted
    // after the position add (pos = class + patches: folded to no_embed_class on load).
    // Hibou mean/std, resize 224 bicubic. Scale not stated. eps unverified.
    id: 'hibou-b',
    name: 'Hibou-B',
    hubIds: ['histai/hibou-b'],
    layout: 'hf-dinov2',
    architecture: arch(224, 14, 768, 12, 12, swiglu(4096), { layerScale: true, registerTokens: 4, noEmbedClass: true, layerNormEps: HF_DINOV2_EPS }),
    preprocessing: { mean: [0.7068, 0.5755, 0.722], std: [0.195, 0.2316, 0.1816], interpolation: 'bicubic' },
    umPerPixel: undefined,
    embedding: 'cls',
    source: 'MODELS.md Hibou row (HistAI/hibou README and code; eva); µm/px and eps unverified',
  },
  {
    // As Hibou-B with ViT-L: 1024/24/16, SwiGLU hidden 2736 (weights_in [5472,1024]).
    id: 'hibou-l',
    name: 'Hibou-L',
    hubIds: ['histai/hibou-L'],
    layout: 'hf-dinov2',
    architecture: arch(224, 14, 1024, 24, 16, swiglu(5472), { layerScale: true, registerTokens: 4, noEmbedClass: true, layerNormEps: HF_DINOV2_EPS }),
    preprocessing: { mean: [0.7068, 0.5755, 0.722], std: [0.195, 0.2316, 0.1816], interpolation: 'bicubic' },
    umPerPixel: undefined,
    embedding: 'cls',
    source: 'MODELS.md Hibou row (HistAI/hibou README and code; eva); µm/px and eps unverified',
  },
  // kaiko (MODELS.md kaiko row [P S10, D]): timm architectures via torch.hub; Resize(224) +
  // CenterCrop(224) with torchvision's default (bilinear) interpolation; mean = std = 0.5;
  // scale not stated (0.5 µm/px inferred from TRIDENT's 20×); embedding CLS.
  ...(
    [
      ['kaiko-vits16', 'kaiko ViT-S/16', 'vit_small_patch16_224', arch(224, 16, 384, 12, 6, gelu(384))],
      ['kaiko-vits8', 'kaiko ViT-S/8', 'vit_small_patch8_224', arch(224, 8, 384, 12, 6, gelu(384))],
      ['kaiko-vitb16', 'kaiko ViT-B/16', 'vit_base_patch16_224', arch(224, 16, 768, 12, 12, gelu(768))],
      ['kaiko-vitb8', 'kaiko ViT-B/8', 'vit_base_patch8_224', arch(224, 8, 768, 12, 12, gelu(768))],
      // Built at 224 → pos [1,256,1024] with no_embed_class (the 1aurent mirror stores 518: resampled on load).
      ['kaiko-vitl14', 'kaiko ViT-L/14', 'vit_large_patch14_reg4_dinov2', arch(224, 14, 1024, 24, 16, gelu(1024), { layerScale: true, registerTokens: 4, noEmbedClass: true })],
    ] as const
  ).map(
    ([id, name, timmArchitecture, architecture]): FoundationModelPreset => ({
      id,
      name,
      hubIds: [`1aurent/${timmArchitecture}.kaiko_ai_towards_large_pathology_fms`],
      layout: 'timm',
      timmArchitecture,
      architecture,
      preprocessing: { ...HALF, interpolation: 'bilinear' },
      umPerPixel: 0.5,
      embedding: 'cls',
      source: 'MODELS.md kaiko row (kaiko-ai/towards_large_pathology_fms hubconf.py, eva); µm/px inferred',
    }),
  ),
  // Lunit DINO ViT-S (MODELS.md Lunit row [P S11 S2]): timm VisionTransformer 384/12/6, GELU,
  // no LayerScale; mean/std "used for training" from eva (the 1aurent mirror's cfg differs);
  // interpolation and µm/px not stated (pre-trained at 20× and 40×).
  ...(
    [
      ['lunit-vits16', 'Lunit DINO ViT-S/16', 'vit_small_patch16_224', 16],
      ['lunit-vits8', 'Lunit DINO ViT-S/8', 'vit_small_patch8_224', 8],
    ] as const
  ).map(
    ([id, name, timmArchitecture, patch]): FoundationModelPreset => ({
      id,
      name,
      // The 1aurent mirror's repository name is not recorded in MODELS.md: none listed.
      hubIds: [],
      layout: 'timm',
      timmArchitecture,
      architecture: arch(224, patch, 384, 12, 6, gelu(384)),
      preprocessing: { mean: [0.70322989, 0.53606487, 0.66096631], std: [0.21716536, 0.26081574, 0.20723464], interpolation: 'bicubic' },
      umPerPixel: undefined,
      embedding: 'cls',
      source: 'MODELS.md Lunit row (lunit-io/benchmark-ssl-pathology README; eva); interpolation and µm/px unverified',
    }),
  ),
];

export function presetById(id: string): FoundationModelPreset | undefined {
  return FOUNDATION_MODEL_PRESETS.find((preset) => preset.id === id);
}

export function presetEmbeddingWidth(preset: FoundationModelPreset): number {
  return embeddingWidth(preset.architecture.dim, preset.embedding);
}
