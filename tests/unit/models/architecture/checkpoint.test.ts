import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpointConfig } from '../../../../src-main/services/models/architecture/checkpointConfig';
import { VitCheckpoint, compileVitCheckpoint } from '../../../../src-main/services/models/architecture/VitCheckpoint';
import { weightSource } from '../../../../src-main/services/models/architecture/weightNames';
import { CheckpointError } from '../../../../src-main/services/models/CheckpointError';
import { SafetensorsCheckpoint, SafetensorsFile } from '../../../../src-main/services/models/safetensors';
import type { TensorSource } from '../../../../src-main/services/models/safetensors';
import { writeSafetensors } from '../../../../src-main/services/models/safetensorsWriter';
import { makeTempDir, removeTempDir } from '../../graph/ortHarness';

const GOLDEN = path.join(import.meta.dirname, 'golden');
const dir = makeTempDir('mitobench-vit-checkpoint-');
afterAll(() => removeTempDir(dir));

let folderCounter = 0;

/** A copy of a golden folder with its config edited and tensors dropped or renamed. */
async function variant(
  from: string,
  edit: { config?: (config: Record<string, unknown>) => unknown; drop?: string[]; rename?: (name: string) => string } = {},
): Promise<string> {
  const folder = path.join(dir, `case-${folderCounter++}`);
  fs.mkdirSync(folder);
  const config = JSON.parse(fs.readFileSync(path.join(GOLDEN, from, 'config.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify(edit.config ? edit.config(config) : config));
  const source = await SafetensorsFile.open(path.join(GOLDEN, from, 'model.safetensors'));
  const tensors = [];
  for (const entry of source.tensors()) {
    if (edit.drop?.includes(entry.name)) continue;
    tensors.push({ name: edit.rename ? edit.rename(entry.name) : entry.name, dtype: entry.dtype, shape: entry.shape, data: await source.read(entry.name) });
  }
  await source.close();
  await writeSafetensors(path.join(folder, 'model.safetensors'), tensors);
  return folder;
}

async function openError(folder: string): Promise<CheckpointError> {
  try {
    const checkpoint = await VitCheckpoint.open(folder);
    try {
      checkpoint.buildGraph();
    } finally {
      await checkpoint.close();
    }
  } catch (error) {
    if (error instanceof CheckpointError) return error;
    throw error;
  }
  throw new Error(`${folder} was accepted`);
}

describe('reading config.json', () => {
  it('reads a timm hub config: model_args win over the registered architecture and pretrained_cfg', () => {
    const configured = readCheckpointConfig(JSON.parse(fs.readFileSync(path.join(GOLDEN, 'timm-swiglu-ls-reg4', 'config.json'), 'utf8')), 'x/config.json');
    expect(configured).toMatchObject({ layout: 'timm', description: 'timm vit_huge_patch14_224', qkvBias: true });
    expect(configured.architecture).toMatchObject({ imageSize: 32, patchSize: 16, dim: 32, depth: 2, heads: 2, layerScale: true, registerTokens: 4, noEmbedClass: false, mlpWidth: 170 });
  });

  it('reads a Virchow-style config as MODELS.md transcribes it', () => {
    const virchow = {
      architecture: 'vit_huge_patch14_224',
      model_args: { img_size: 224, init_values: 1e-5, num_classes: 0, mlp_ratio: 5.3375, global_pool: '', dynamic_img_size: true },
      pretrained_cfg: { interpolation: 'bicubic', crop_pct: 1.0, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    };
    expect(readCheckpointConfig(virchow, 'config.json').architecture).toMatchObject({ imageSize: 224, patchSize: 14, dim: 1280, depth: 32, heads: 16, mlpWidth: 6832, layerScale: true });
  });

  it('reads HF ViT and Dinov2 configs, with eps and MLP widths as transformers computes them', () => {
    const vit = readCheckpointConfig(JSON.parse(fs.readFileSync(path.join(GOLDEN, 'hf-vit', 'config.json'), 'utf8')), 'config.json');
    expect(vit.architecture).toMatchObject({ mlp: 'gelu', mlpWidth: 64, layerNormEps: 1e-12, layerScale: false });
    const dino = readCheckpointConfig(JSON.parse(fs.readFileSync(path.join(GOLDEN, 'hf-dinov2-swiglu', 'config.json'), 'utf8')), 'config.json');
    // hidden 32·4 = 128 → (⌊128·2/3⌋ + 7) // 8 · 8 = 88, weights_in holds 2 × 88 rows.
    expect(dino.architecture).toMatchObject({ mlp: 'swiglu-packed', mlpWidth: 176, layerNormEps: 1e-6, layerScale: true });
    const registers = readCheckpointConfig(JSON.parse(fs.readFileSync(path.join(GOLDEN, 'hf-dinov2-reg4', 'config.json'), 'utf8')), 'config.json');
    expect(registers).toMatchObject({ hfWithRegisters: true, architecture: { registerTokens: 4, noEmbedClass: true } });
  });

  it('refuses what it cannot build, naming the file and the field', () => {
    const refuse = (config: unknown) => () => readCheckpointConfig(config, '/models/x/config.json');
    expect(refuse({ model_type: 'bert' })).toThrow('/models/x/config.json: field "model_type" is "bert": only ViT');
    expect(refuse({ model_type: 'vit', patch_size: 16, image_size: 224 })).toThrow('/models/x/config.json: field "hidden_size" is missing');
    expect(refuse({ model_type: 'dinov2', hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, patch_size: 14 })).toThrow('field "image_size" is missing');
    expect(refuse({ model_type: 'vit', hidden_size: 'big' })).toThrow('field "hidden_size" must be a positive integer, got "big"');
    expect(refuse({ architecture: 'resnet50' })).toThrow('field "architecture" is "resnet50": only timm Vision Transformers');
    expect(refuse({ architecture: 'vit_mystery_patch16_224', model_args: { img_size: 224 } })).toThrow(
      'field "model_args.embed_dim" is missing, and timm architecture "vit_mystery_patch16_224" is not one this app knows',
    );
    expect(refuse({ architecture: 'vit_base_patch16_224', model_args: { global_pool: 'avg' } })).toThrow('field "model_args.fc_norm"');
    expect(refuse({ architecture: 'vit_base_patch16_224', model_args: { img_size: [224, 256] } })).toThrow('only square inputs');
    expect(refuse({ name: 'x' })).toThrow('has neither "architecture"');
    expect(refuse([1, 2])).toThrow('is not a JSON object');
  });

  it('works from the fields of an unknown timm ViT', () => {
    const configured = readCheckpointConfig({ architecture: 'vit_custom', model_args: { img_size: 64, patch_size: 8, embed_dim: 48, depth: 3, num_heads: 4 } }, 'config.json');
    expect(configured.architecture).toMatchObject({ imageSize: 64, patchSize: 8, dim: 48, depth: 3, heads: 4, mlpWidth: 192, mlp: 'gelu' });
  });
});

describe('HF → timm names', () => {
  const options = { layout: 'hf-vit' as const, prefix: 'vit.', swiglu: false, qkvBias: true };
  it('concatenates query, key and value into qkv and maps the ViT block names', () => {
    expect(weightSource('blocks.3.attn.qkv.weight', options)).toEqual({
      kind: 'rows',
      names: ['vit.encoder.layer.3.attention.attention.query.weight', 'vit.encoder.layer.3.attention.attention.key.weight', 'vit.encoder.layer.3.attention.attention.value.weight'],
    });
    expect(weightSource('blocks.0.norm1.bias', options)).toEqual({ kind: 'tensor', name: 'vit.encoder.layer.0.layernorm_before.bias' });
    expect(weightSource('blocks.0.mlp.fc2.weight', options)).toEqual({ kind: 'tensor', name: 'vit.encoder.layer.0.output.dense.weight' });
    expect(weightSource('norm.weight', options)).toEqual({ kind: 'tensor', name: 'vit.layernorm.weight' });
    expect(weightSource('blocks.0.attn.qkv.bias', { ...options, qkvBias: false })).toEqual({ kind: 'zeros' });
  });

  it('maps Dinov2 layer scales, SwiGLU and registers', () => {
    const dino = { layout: 'hf-dinov2' as const, prefix: '', swiglu: true, qkvBias: true };
    expect(weightSource('blocks.1.ls2.gamma', dino)).toEqual({ kind: 'tensor', name: 'encoder.layer.1.layer_scale2.lambda1' });
    expect(weightSource('blocks.1.mlp.fc1.weight', dino)).toEqual({ kind: 'tensor', name: 'encoder.layer.1.mlp.weights_in.weight' });
    expect(weightSource('blocks.1.mlp.fc2.bias', { ...dino, swiglu: false })).toEqual({ kind: 'tensor', name: 'encoder.layer.1.mlp.fc2.bias' });
    expect(weightSource('reg_token', dino)).toEqual({ kind: 'tensor', name: 'embeddings.register_tokens' });
  });
});

describe('checkpoint folders', () => {
  it('reads prefixed HF names (ViTForImageClassification keeps "vit.") and ignores the classifier', async () => {
    const folder = await variant('hf-vit', { rename: (name) => `vit.${name}` });
    const checkpoint = await VitCheckpoint.open(folder);
    try {
      expect(checkpoint.inspected.prefix).toBe('vit.');
      expect(checkpoint.buildGraph().unusedTensors).toEqual([]);
    } finally {
      await checkpoint.close();
    }
  });

  it('names a missing tensor', async () => {
    const error = await openError(await variant('timm-gelu', { drop: ['blocks.1.mlp.fc2.bias'] }));
    expect(error.tensorName).toBe('blocks.1.mlp.fc2.bias');
    expect(error.message).toMatch(/model\.safetensors: tensor "blocks\.1\.mlp\.fc2\.bias": is missing from the checkpoint/);
  });

  it('names the tensor whose shape disagrees with config.json', async () => {
    const error = await openError(await variant('timm-gelu', { config: (c) => ({ ...c, model_args: { ...(c.model_args as object), embed_dim: 48 } }) }));
    expect(error.tensorName).toBe('patch_embed.proj.weight');
    expect(error.reason).toContain('config.json gives [dim 48');
  });

  it('refuses a depth that disagrees with the blocks stored', async () => {
    const error = await openError(await variant('hf-dinov2-swiglu', { config: (c) => ({ ...c, num_hidden_layers: 3 }) }));
    expect(error.reason).toBe('config.json gives depth 3, but the checkpoint holds 2 blocks');
  });

  it('says when config.json and the tensor names belong to different libraries', async () => {
    const folder = await variant('timm-gelu');
    fs.copyFileSync(path.join(GOLDEN, 'hf-vit', 'config.json'), path.join(folder, 'config.json'));
    expect((await openError(folder)).reason).toContain('declares HF vit, but the tensors are named like a timm checkpoint');
  });

  it('names config.json when it is missing or not JSON', async () => {
    const folder = path.join(dir, 'empty');
    fs.mkdirSync(folder);
    expect((await openError(folder)).filePath).toBe(path.join(folder, 'config.json'));
    fs.writeFileSync(path.join(folder, 'config.json'), '{');
    expect((await openError(folder)).reason).toMatch(/^is not valid JSON/);
  });

  it('uses the checkpoint where a timm config says otherwise, and says so', async () => {
    // The config claims no layer scale and no registers: the tensors hold both.
    const folder = await variant('timm-swiglu-ls-reg4', {
      config: (c) => ({ ...c, model_args: { ...(c.model_args as object), init_values: null, reg_tokens: 0 } }),
    });
    const checkpoint = await VitCheckpoint.open(folder);
    try {
      expect(checkpoint.inspected.architecture).toMatchObject({ layerScale: true, registerTokens: 4, mlp: 'swiglu-packed' });
      expect(checkpoint.inspected.notes.join('\n')).toMatch(/layer scales/);
      expect(checkpoint.inspected.notes.join('\n')).toMatch(/0 register tokens, the checkpoint holds 4/);
    } finally {
      await checkpoint.close();
    }
  });

  it('streams the weights: nothing is read until the model is written, each tensor once', async () => {
    const reads: string[] = [];
    const openTensors = async (folder: string) => {
      const inner = await SafetensorsCheckpoint.open(folder);
      const counting: TensorSource & { filePath: string } = {
        filePath: inner.filePath,
        tensors: () => inner.tensors(),
        has: (name) => inner.has(name),
        entry: (name) => inner.entry(name),
        read: (name) => {
          reads.push(name);
          return inner.read(name);
        },
        close: () => inner.close(),
      };
      return counting;
    };
    const checkpoint = await VitCheckpoint.open(path.join(GOLDEN, 'hf-vit'), { openTensors });
    try {
      checkpoint.buildGraph({ batchSize: 4 });
      expect(reads).toEqual([]);
    } finally {
      await checkpoint.close();
    }
    const modelPath = path.join(dir, 'hf-vit.onnx');
    const compiled = await compileVitCheckpoint(path.join(GOLDEN, 'hf-vit'), modelPath, { openTensors, imageSize: 48 });
    expect(compiled.written.externalBytes).toBeGreaterThan(100_000);
    expect(fs.existsSync(`${modelPath}.data`)).toBe(true);
    // Every stored tensor but the pooler (weight, bias) is read, each exactly once.
    const unique = new Set(reads);
    expect(unique.size).toBe(compiled.checkpoint.tensors.tensors().length - 2);
    expect(reads.length).toBe(unique.size);
  });
});
