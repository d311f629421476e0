import { describe, expect, it } from 'vitest';
import { readCheckpointConfig } from '../../../../src-main/services/models/architecture/checkpointConfig';
import { inspectCheckpoint } from '../../../../src-main/services/models/architecture/inspectCheckpoint';
import type { TensorListing } from '../../../../src-main/services/models/architecture/inspectCheckpoint';
import { FOUNDATION_MODEL_PRESETS, presetById, presetEmbeddingWidth } from '../../../../src-main/services/models/architecture/presets';
import type { FoundationModelPreset } from '../../../../src-main/services/models/architecture/presets';
import { recognisePreset } from '../../../../src-main/services/models/architecture/recognisePreset';
import { TIMM_ARCHITECTURES } from '../../../../src-main/services/models/architecture/timmArchitectures';
import { toVitConfig } from '../../../../src-main/services/models/architecture/VitArchitecture';
import { weightSource } from '../../../../src-main/services/models/architecture/weightNames';
import type { TensorEntry } from '../../../../src-main/services/models/safetensors';
import { vitParameterCount, vitParameters } from '../../../../src-main/services/models/vit';

/** A tensor listing (shapes only, no data) with the preset's real names and full-size shapes. */
function listingOf(preset: FoundationModelPreset): TensorListing {
  const config = toVitConfig(preset.architecture);
  const { layout, architecture } = preset;
  const entries = new Map<string, readonly number[]>();
  for (const { name, shape } of vitParameters(config)) {
    const source = weightSource(name, { layout, prefix: '', swiglu: config.mlp === 'swiglu-packed', qkvBias: true });
    if (source.kind === 'tensor') entries.set(source.name, shape);
    if (source.kind === 'rows') for (const part of source.names) entries.set(part, [shape[0]! / 3, ...shape.slice(1)]);
  }
  if (layout !== 'timm') {
    // HF positions always cover class + patches; registers are not positioned.
    entries.set('embeddings.position_embeddings', [1, 1 + (architecture.imageSize / architecture.patchSize) ** 2, architecture.dim]);
    entries.set('pooler.dense.weight', [architecture.dim, architecture.dim]);
  }
  if (layout === 'hf-dinov2') entries.set('embeddings.mask_token', [1, architecture.dim]);
  const entry = (name: string): TensorEntry => ({ name, dtype: 'F32', shape: entries.get(name)!, byteLength: 0, file: 'model.safetensors' });
  return { tensors: () => [...entries.keys()].map(entry), has: (name) => entries.has(name), entry };
}

/** The config.json such a checkpoint carries (timm hub style, or transformers style). */
function configOf(preset: FoundationModelPreset): Record<string, unknown> {
  const a = preset.architecture;
  if (preset.layout === 'timm') {
    const base = TIMM_ARCHITECTURES[preset.timmArchitecture!]!;
    // As on the hub: only overrides of the registered architecture, never mlp_layer.
    const modelArgs: Record<string, unknown> = { img_size: a.imageSize, num_classes: 0 };
    if (a.patchSize !== base.patchSize) modelArgs.patch_size = a.patchSize;
    if (a.layerScale) modelArgs.init_values = 1e-5;
    if (a.registerTokens !== base.registerTokens) modelArgs.reg_tokens = a.registerTokens;
    if (a.noEmbedClass !== base.noEmbedClass) modelArgs.no_embed_class = a.noEmbedClass;
    if (a.dim !== base.dim) Object.assign(modelArgs, { embed_dim: a.dim, depth: a.depth, num_heads: a.heads });
    return { architecture: preset.timmArchitecture, num_classes: 0, model_args: modelArgs, pretrained_cfg: { input_size: [3, 224, 224], interpolation: 'bicubic' } };
  }
  const common = { image_size: a.imageSize, patch_size: a.patchSize, hidden_size: a.dim, num_hidden_layers: a.depth, num_attention_heads: a.heads, layer_norm_eps: a.layerNormEps };
  if (preset.layout === 'hf-vit') return { model_type: 'vit', architectures: ['ViTModel'], intermediate_size: a.mlpWidth, hidden_act: 'gelu', ...common };
  return { model_type: 'dinov2', mlp_ratio: 4, use_swiglu_ffn: a.mlp === 'swiglu-packed', num_register_tokens: a.registerTokens, ...common };
}

describe('foundation-model presets', () => {
  it('covers the models of the issue, each naming its source', () => {
    const ids = FOUNDATION_MODEL_PRESETS.map((preset) => preset.id);
    for (const id of ['uni', 'uni2-h', 'virchow', 'virchow2', 'h-optimus-0', 'h-optimus-1', 'prov-gigapath', 'phikon', 'phikon-v2', 'hibou-b', 'hibou-l', 'kaiko-vits16', 'kaiko-vitl14', 'lunit-vits16']) {
      expect(ids).toContain(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const preset of FOUNDATION_MODEL_PRESETS) {
      expect(preset.source, preset.id).toMatch(/MODELS\.md/);
      expect(() => vitParameters(toVitConfig(preset.architecture)), preset.id).not.toThrow();
    }
  });

  it('gives the parameter counts timm gives (UNI2-h 681 M, Virchow2 631 M, H-optimus-0 1.13 B as in MODELS.md)', () => {
    // Exact counts from timm 1.0.29, built on the meta device with each card's arguments.
    const count = (id: string) => vitParameterCount(toVitConfig(presetById(id)!.architecture));
    expect(count('uni')).toBe(303_350_784);
    expect(count('uni2-h')).toBe(681_394_176);
    expect(count('virchow2')).toBe(631_239_424);
    expect(count('h-optimus-0')).toBe(1_134_774_272);
  });

  it('states the embedding rules and widths of the cards (Virchow: CLS ⊕ mean of patches)', () => {
    expect(presetById('virchow')!.embedding).toBe('cls-mean-patches');
    expect(presetEmbeddingWidth(presetById('virchow')!)).toBe(2560);
    expect(presetEmbeddingWidth(presetById('virchow2')!)).toBe(2560);
    expect(presetEmbeddingWidth(presetById('uni2-h')!)).toBe(1536);
    expect(presetEmbeddingWidth(presetById('lunit-vits8')!)).toBe(384);
  });

  for (const preset of FOUNDATION_MODEL_PRESETS) {
    it(`recognises ${preset.name} from a config.json and tensors in its real layout`, () => {
      const configured = readCheckpointConfig(configOf(preset), '/models/config.json');
      const inspected = inspectCheckpoint(configured, listingOf(preset), '/models/model.safetensors');
      expect(inspected.architecture.mlp).toBe(preset.architecture.mlp);
      expect(inspected.architecture.mlpWidth).toBe(preset.architecture.mlpWidth);
      expect(inspected.architecture.noEmbedClass).toBe(preset.architecture.noEmbedClass);
      expect(inspected.storedGrid).toBe(preset.architecture.imageSize / preset.architecture.patchSize);
      const byName = recognisePreset(inspected.architecture, inspected.layout, preset.hubIds.map((id) => `/cache/models--${id.replace('/', '--')}/snapshots/abc`));
      if (preset.hubIds.length > 0) {
        expect(byName.kind === 'matched' && byName.preset.id).toBe(preset.id);
      } else {
        expect(['matched', 'ambiguous']).toContain(byName.kind);
      }
      // By architecture alone, the preset is one of the candidates.
      const byArchitecture = recognisePreset(inspected.architecture, inspected.layout, []);
      const candidates =
        byArchitecture.kind === 'matched' ? [byArchitecture.preset.id, ...byArchitecture.alternatives] : byArchitecture.kind === 'ambiguous' ? byArchitecture.candidates.map((p) => p.id) : [];
      expect(candidates).toContain(preset.id);
    });
  }

  it('reads the SwiGLU of a timm config from the tensors and says so (Virchow2)', () => {
    const virchow2 = presetById('virchow2')!;
    const configured = readCheckpointConfig(configOf(virchow2), '/m/config.json');
    expect(configured.architecture.mlp).toBe('gelu');
    const inspected = inspectCheckpoint(configured, listingOf(virchow2), '/m/model.safetensors');
    expect(inspected.architecture.mlp).toBe('swiglu-packed');
    expect(inspected.notes.join('\n')).toMatch(/cannot state the MLP layer.*packed SwiGLU MLP with fc1 of 6832 rows/);
  });

  it('tells Virchow from Virchow2 by architecture, and leaves kaiko/Lunit ViT-S/16 for the user', () => {
    const virchow = presetById('virchow')!.architecture;
    expect(recognisePreset({ ...virchow, registerTokens: 4 }, 'timm', [])).toMatchObject({ kind: 'matched', preset: { id: 'virchow2' } });
    const small = recognisePreset(presetById('lunit-vits16')!.architecture, 'timm', []);
    expect(small.kind).toBe('ambiguous');
    expect(small.kind === 'ambiguous' && small.candidates.map((p) => p.id)).toEqual(['kaiko-vits16', 'lunit-vits16']);
  });

  it('reports a named model whose tensors disagree instead of applying its settings', () => {
    const recognition = recognisePreset({ ...presetById('uni')!.architecture, depth: 12 }, 'timm', ['/data/MahmoodLab/uni']);
    expect(recognition).toEqual({ kind: 'name-mismatch', preset: presetById('uni'), differences: ['depth: 24 expected, 12 found'] });
    expect(recognisePreset({ ...presetById('uni')!.architecture, depth: 7 }, 'timm', []).kind).toBe('unknown');
  });

  it('does not take UNI2-h for UNI by name', () => {
    const recognition = recognisePreset(presetById('uni2-h')!.architecture, 'timm', ['MahmoodLab/UNI2-h']);
    expect(recognition).toMatchObject({ kind: 'matched', preset: { id: 'uni2-h' }, by: 'name-and-architecture' });
  });
});
