import type { CheckpointLayout } from './VitArchitecture';

/**
 * Where the value of one timm parameter (the names `vit.ts` uses) comes from in a checkpoint
 * of a given layout (MODELS.md "Tensor names"):
 * - 'tensor': one stored tensor, as it is;
 * - 'rows': stored tensors concatenated along their first axis (HF query ‖ key ‖ value → qkv);
 * - 'zeros': not stored (qkv biases of a `qkv_bias: false` model).
 */
export type WeightSource =
  | { readonly kind: 'tensor'; readonly name: string }
  | { readonly kind: 'rows'; readonly names: readonly string[] }
  | { readonly kind: 'zeros' };

/** The tensor whose presence identifies each layout (and gives the prefix before the names). */
export const LAYOUT_ANCHOR: Readonly<Record<CheckpointLayout, string>> = {
  timm: 'patch_embed.proj.weight',
  'hf-vit': 'embeddings.patch_embeddings.projection.weight',
  'hf-dinov2': 'embeddings.patch_embeddings.projection.weight',
};

/** Stored names of the layout-specific pieces. */
export const STORED_NAMES = {
  timm: { pos: 'pos_embed', cls: 'cls_token', registers: 'reg_token' },
  hf: { pos: 'embeddings.position_embeddings', cls: 'embeddings.cls_token', registers: 'embeddings.register_tokens' },
} as const;

export function storedNames(layout: CheckpointLayout): (typeof STORED_NAMES)['timm' | 'hf'] {
  return layout === 'timm' ? STORED_NAMES.timm : STORED_NAMES.hf;
}

/** The stored name of block `i`'s first MLP layer, and of its second, in each layout. */
export function storedMlpNames(layout: CheckpointLayout, block: number, swiglu: boolean): { fc1: string; fc2: string } {
  if (layout === 'timm') return { fc1: `blocks.${block}.mlp.fc1`, fc2: `blocks.${block}.mlp.fc2` };
  const layer = `encoder.layer.${block}`;
  if (layout === 'hf-vit') return { fc1: `${layer}.intermediate.dense`, fc2: `${layer}.output.dense` };
  return swiglu ? { fc1: `${layer}.mlp.weights_in`, fc2: `${layer}.mlp.weights_out` } : { fc1: `${layer}.mlp.fc1`, fc2: `${layer}.mlp.fc2` };
}

export interface WeightNameOptions {
  readonly layout: CheckpointLayout;
  /** Prepended to every stored name (e.g. "vit." for ViTForImageClassification). */
  readonly prefix: string;
  readonly swiglu: boolean;
  readonly qkvBias: boolean;
}

const BLOCK = /^blocks\.(\d+)\.(.+)$/;

/**
 * Maps a timm parameter name to its source in the checkpoint. `pos_embed` and `cls_token` map
 * to the stored tensors as they are; resampling and folding are the loader's business.
 */
export function weightSource(timmName: string, options: WeightNameOptions): WeightSource {
  const { layout, prefix, qkvBias } = options;
  const stored = (name: string): WeightSource => ({ kind: 'tensor', name: prefix + name });
  if (layout === 'timm') {
    if (!qkvBias && /\.attn\.qkv\.bias$/.test(timmName)) return { kind: 'zeros' };
    return stored(timmName);
  }
  switch (timmName) {
    case 'patch_embed.proj.weight':
      return stored('embeddings.patch_embeddings.projection.weight');
    case 'patch_embed.proj.bias':
      return stored('embeddings.patch_embeddings.projection.bias');
    case 'cls_token':
      return stored(STORED_NAMES.hf.cls);
    case 'reg_token':
      return stored(STORED_NAMES.hf.registers);
    case 'pos_embed':
      return stored(STORED_NAMES.hf.pos);
    case 'norm.weight':
      return stored('layernorm.weight');
    case 'norm.bias':
      return stored('layernorm.bias');
  }
  const match = BLOCK.exec(timmName);
  if (!match) throw new Error(`no ${layout} name for timm parameter "${timmName}"`);
  const block = Number(match[1]);
  const rest = match[2]!;
  const layer = `encoder.layer.${block}`;
  const vit = layout === 'hf-vit';
  const mlp = storedMlpNames(layout, block, options.swiglu);
  const attention = `${layer}.attention.attention`;
  const table: Record<string, WeightSource> = {
    'norm1.weight': stored(`${layer}.${vit ? 'layernorm_before' : 'norm1'}.weight`),
    'norm1.bias': stored(`${layer}.${vit ? 'layernorm_before' : 'norm1'}.bias`),
    'attn.qkv.weight': { kind: 'rows', names: ['query', 'key', 'value'].map((part) => `${prefix}${attention}.${part}.weight`) },
    'attn.qkv.bias': qkvBias ? { kind: 'rows', names: ['query', 'key', 'value'].map((part) => `${prefix}${attention}.${part}.bias`) } : { kind: 'zeros' },
    'attn.proj.weight': stored(`${layer}.attention.output.dense.weight`),
    'attn.proj.bias': stored(`${layer}.attention.output.dense.bias`),
    'ls1.gamma': stored(`${layer}.layer_scale1.lambda1`),
    'norm2.weight': stored(`${layer}.${vit ? 'layernorm_after' : 'norm2'}.weight`),
    'norm2.bias': stored(`${layer}.${vit ? 'layernorm_after' : 'norm2'}.bias`),
    'mlp.fc1.weight': stored(`${mlp.fc1}.weight`),
    'mlp.fc1.bias': stored(`${mlp.fc1}.bias`),
    'mlp.fc2.weight': stored(`${mlp.fc2}.weight`),
    'mlp.fc2.bias': stored(`${mlp.fc2}.bias`),
    'ls2.gamma': stored(`${layer}.layer_scale2.lambda1`),
  };
  const source = table[rest];
  if (!source) throw new Error(`no ${layout} name for timm parameter "${timmName}"`);
  return source;
}

/** Stored tensors a layout carries that inference does not use (not reported as unexpected). */
export function isKnownUnused(storedName: string, layout: CheckpointLayout): boolean {
  if (layout === 'timm') return /^(head|fc_norm|head_drop)\./.test(storedName);
  return /^(embeddings\.mask_token|pooler\.|classifier\.)/.test(storedName);
}
