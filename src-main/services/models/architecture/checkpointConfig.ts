import { CheckpointError } from '../CheckpointError';
import { ConfigFields, isJsonObject } from './configFields';
import { TIMM_ARCHITECTURES, timmArchitectureName } from './timmArchitectures';
import type { TimmArchitectureDefaults } from './timmArchitectures';
import type { CheckpointLayout, VitArchitecture } from './VitArchitecture';

/** What a checkpoint folder's config.json says, read into timm terms. */
export interface ConfiguredVit {
  readonly layout: CheckpointLayout;
  readonly architecture: VitArchitecture;
  /** The attention projections carry biases (timm/HF `qkv_bias`; zeros are used when false). */
  readonly qkvBias: boolean;
  /** Where the MLP kind came from: false when timm's config cannot say it (callables). */
  readonly mlpStated: boolean;
  /** HF model_type 'dinov2_with_registers' (antialiased position resampling). */
  readonly hfWithRegisters: boolean;
  /** "timm vit_huge_patch14_224", "HF dinov2 (Dinov2Model)": what the config declares. */
  readonly description: string;
  /** Names in the config that may identify a known model (hub ids, paths). */
  readonly nameHints: readonly string[];
}

const HF_VIT_TYPES = new Set(['vit']);
const HF_DINOV2_TYPES = new Set(['dinov2', 'dinov2_with_registers']);

/**
 * Reads a Hugging Face or timm `config.json` (already parsed). timm hub configs have
 * "architecture" + "model_args" + "pretrained_cfg"; transformers configs have "model_type"
 * ('vit', 'dinov2', 'dinov2_with_registers'). Anything else is refused, naming the field.
 */
export function readCheckpointConfig(json: unknown, configPath: string): ConfiguredVit {
  if (!isJsonObject(json)) throw new CheckpointError(configPath, 'is not a JSON object');
  const fields = new ConfigFields(configPath, json);
  if (fields.has('architecture')) return readTimmConfig(fields);
  const modelType = fields.string('model_type');
  if (modelType !== undefined) {
    if (HF_VIT_TYPES.has(modelType)) return readHfVitConfig(fields, modelType);
    if (HF_DINOV2_TYPES.has(modelType)) return readHfDinov2Config(fields, modelType);
    fields.fail('model_type', `is "${modelType}": only ViT ("vit") and DINOv2 ("dinov2", "dinov2_with_registers") image encoders are supported`);
  }
  throw new CheckpointError(configPath, 'has neither "architecture" (a timm config) nor "model_type" (a Hugging Face config): not a model config this app can read');
}

function readTimmConfig(fields: ConfigFields): ConfiguredVit {
  const name = fields.string('architecture')!;
  const base = TIMM_ARCHITECTURES[timmArchitectureName(name)];
  if (!name.startsWith('vit_')) fields.fail('architecture', `is "${name}": only timm Vision Transformers ("vit_*") are supported`);
  const args = fields.child('model_args') ?? new ConfigFields(fields.filePath, {}, 'model_args');
  const pretrained = fields.child('pretrained_cfg');
  // A field the registered architecture would supply: required in model_args when it is unknown.
  const needed = (key: string, fromBase: (defaults: TimmArchitectureDefaults) => number): number => {
    if (args.has(key)) return args.positiveInteger(key);
    if (base) return fromBase(base);
    return args.fail(key, `is missing, and timm architecture "${name}" is not one this app knows the defaults of`);
  };
  if (!args.boolean('class_token', true)) args.fail('class_token', 'is false: models without a class token are not supported');
  if (args.boolean('pre_norm', false)) args.fail('pre_norm', 'is true: pre-norm ViTs (CLIP style) are not supported');
  // With fc_norm (explicit, or implied by an average pool) timm drops the final norm of the tokens.
  const pool = args.string('global_pool') ?? fields.string('global_pool') ?? 'token';
  const fcNorm = args.raw('fc_norm');
  if (fcNorm === true || ((fcNorm === undefined || fcNorm === null) && ['avg', 'avgmax', 'max'].includes(pool))) {
    args.fail('fc_norm', `is ${JSON.stringify(fcNorm ?? null)} with global_pool "${pool}": the pooled-norm head (no final norm on the tokens) is not supported`);
  }
  const imageSize = args.squareSize('img_size') ?? pretrained?.squareSize('input_size') ?? needed('img_size', (defaults) => defaults.imageSize);
  const dim = needed('embed_dim', (defaults) => defaults.dim);
  const mlpRatio = args.positiveNumber('mlp_ratio', base?.mlpRatio ?? 4);
  const initValues = args.raw('init_values');
  if (initValues !== undefined && initValues !== null && (typeof initValues !== 'number' || !Number.isFinite(initValues))) {
    args.fail('init_values', `must be a number or null, got ${JSON.stringify(initValues)}`);
  }
  const architecture: VitArchitecture = {
    imageSize,
    patchSize: needed('patch_size', (defaults) => defaults.patchSize),
    inChannels: args.positiveInteger('in_chans', 3),
    dim,
    depth: needed('depth', (defaults) => defaults.depth),
    heads: needed('num_heads', (defaults) => defaults.heads),
    mlp: base?.mlp ?? 'gelu',
    mlpWidth: Math.floor(dim * mlpRatio),
    layerScale: args.has('init_values') ? (initValues as number) !== 0 : (base?.layerScale ?? false),
    registerTokens: args.nonNegativeInteger('reg_tokens', base?.registerTokens ?? 0),
    noEmbedClass: args.boolean('no_embed_class', base?.noEmbedClass ?? false),
    layerNormEps: 1e-6,
  };
  const hints = [name, pretrained?.string('hf_hub_id')].filter((hint): hint is string => hint !== undefined);
  return {
    layout: 'timm',
    architecture,
    qkvBias: args.boolean('qkv_bias', true),
    // The hub config cannot hold mlp_layer (MODELS.md point 10): the weights decide.
    mlpStated: false,
    hfWithRegisters: false,
    description: `timm ${name}`,
    nameHints: hints,
  };
}

function hfHints(fields: ConfigFields): string[] {
  const path = fields.string('_name_or_path');
  return path !== undefined && path !== '' ? [path] : [];
}

/** The sizes that HF ViT and DINOv2 configs name alike. */
function hfTrunk(fields: ConfigFields, dim: number): Pick<VitArchitecture, 'imageSize' | 'patchSize' | 'inChannels' | 'dim' | 'depth' | 'heads'> {
  return {
    imageSize: fields.squareSize('image_size') ?? fields.fail('image_size', 'is missing'),
    patchSize: fields.positiveInteger('patch_size'),
    inChannels: fields.positiveInteger('num_channels', 3),
    dim,
    depth: fields.positiveInteger('num_hidden_layers'),
    heads: fields.positiveInteger('num_attention_heads'),
  };
}

function readHfVitConfig(fields: ConfigFields, modelType: string): ConfiguredVit {
  const act = fields.string('hidden_act') ?? 'gelu';
  if (act !== 'gelu') fields.fail('hidden_act', `is "${act}": only exact GELU ("gelu") is supported for HF ViT`);
  const dim = fields.positiveInteger('hidden_size');
  return {
    layout: 'hf-vit',
    architecture: {
      ...hfTrunk(fields, dim),
      mlp: 'gelu',
      mlpWidth: fields.positiveInteger('intermediate_size'),
      layerScale: false,
      registerTokens: 0,
      noEmbedClass: false,
      // ViTConfig's default (MODELS.md point 8): it changes outputs by about 1e-4 against 1e-6.
      layerNormEps: fields.positiveNumber('layer_norm_eps', 1e-12),
    },
    qkvBias: fields.boolean('qkv_bias', true),
    mlpStated: true,
    hfWithRegisters: false,
    description: `HF ${modelType}`,
    nameHints: hfHints(fields),
  };
}

function readHfDinov2Config(fields: ConfigFields, modelType: string): ConfiguredVit {
  const dim = fields.positiveInteger('hidden_size');
  const swiglu = fields.boolean('use_swiglu_ffn', false);
  if (!swiglu) {
    const act = fields.string('hidden_act') ?? 'gelu';
    if (act !== 'gelu') fields.fail('hidden_act', `is "${act}": only exact GELU ("gelu") or use_swiglu_ffn is supported`);
  }
  const hidden = Math.trunc(dim * fields.positiveNumber('mlp_ratio', 4));
  // Dinov2SwiGLUFFN: hidden = (⌊hidden·2/3⌋ + 7) // 8 · 8, fc1 ("weights_in") holds gate ‖ value.
  const swigluHidden = Math.floor((Math.trunc((hidden * 2) / 3) + 7) / 8) * 8;
  const registers = fields.nonNegativeInteger('num_register_tokens', 0);
  return {
    layout: 'hf-dinov2',
    architecture: {
      ...hfTrunk(fields, dim),
      mlp: swiglu ? 'swiglu-packed' : 'gelu',
      mlpWidth: swiglu ? 2 * swigluHidden : hidden,
      layerScale: true,
      registerTokens: registers,
      // HF positions cover class + patches; registers come after the add. The loader folds the
      // class position into the class token, which is timm's no_embed_class (MODELS.md 5, 8).
      noEmbedClass: registers > 0,
      layerNormEps: fields.positiveNumber('layer_norm_eps', 1e-6),
    },
    qkvBias: fields.boolean('qkv_bias', true),
    mlpStated: true,
    hfWithRegisters: modelType === 'dinov2_with_registers',
    description: `HF ${modelType}`,
    nameHints: hfHints(fields),
  };
}
