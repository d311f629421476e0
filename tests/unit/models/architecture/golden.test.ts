import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VitCheckpoint } from '../../../../src-main/services/models/architecture/VitCheckpoint';
import type { EmbeddingRule } from '../../../../src-main/services/models/architecture/VitArchitecture';
import { SafetensorsFile } from '../../../../src-main/services/models/safetensors';
import { expectClose, makeTempDir, removeTempDir, runGraph } from '../../graph/ortHarness';

/**
 * The compiled graph against timm and transformers themselves: tiny random-weight models saved
 * by those libraries (real tensor names and layouts, real config.json files) with an input and
 * the library's output, made by tools/reference/vit/make_golden.py. No Python is needed here.
 */
const GOLDEN = path.join(import.meta.dirname, 'golden');
const TOLERANCE = 1e-4;

interface GoldenMeta {
  readonly description: string;
  readonly embedding: EmbeddingRule;
  readonly family: string;
  readonly prefixTokens: number;
  readonly sizes: readonly number[];
  readonly batch: number;
}

const dir = makeTempDir('mitobench-golden-');
afterAll(() => removeTempDir(dir));

const cases = fs
  .readdirSync(GOLDEN, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe('ViT checkpoints against the PyTorch reference (golden files)', () => {
  it('has the six generated cases', () => {
    expect(cases).toEqual(['hf-dinov2-reg4', 'hf-dinov2-swiglu', 'hf-vit', 'timm-gelu', 'timm-nec-reg8', 'timm-swiglu-ls-reg4']);
  });

  for (const name of cases) {
    const folder = path.join(GOLDEN, name);
    const meta = JSON.parse(fs.readFileSync(path.join(folder, 'golden.json'), 'utf8')) as GoldenMeta;
    for (const size of meta.sizes) {
      it(`${name} at ${size} px: ${meta.description}`, async () => {
        await expectGolden(folder, meta, size);
      });
    }
  }

  it('timm-gelu from its pytorch_model.bin gives the same outputs as from its safetensors', async () => {
    const folder = path.join(GOLDEN, 'timm-gelu');
    const meta = JSON.parse(fs.readFileSync(path.join(folder, 'golden.json'), 'utf8')) as GoldenMeta;
    const binOnly = path.join(dir, 'timm-gelu-bin');
    fs.mkdirSync(binOnly);
    for (const file of ['config.json', 'pytorch_model.bin']) fs.copyFileSync(path.join(folder, file), path.join(binOnly, file));
    for (const size of meta.sizes) await expectGolden(binOnly, meta, size, folder);
  });
});

async function expectGolden(folder: string, meta: GoldenMeta, size: number, goldenFolder = folder): Promise<void> {
  const checkpoint = await VitCheckpoint.open(folder);
  const golden = await SafetensorsFile.open(path.join(goldenFolder, 'golden.safetensors'));
  try {
    const compiled = checkpoint.buildGraph({ imageSize: size, batchSize: meta.batch, embedding: meta.embedding });
    expect(compiled.config.registerTokens + 1).toBe(meta.prefixTokens);
    const pixels = (await golden.read(`pixels_${size}`)) as Float32Array;
    const outputs = await runGraph(compiled.graph, { pixels }, dir);
    expect([...outputs.tokens!.dims]).toEqual(golden.entry(`tokens_${size}`).shape);
    expectClose(outputs.tokens!.data as Float32Array, (await golden.read(`tokens_${size}`)) as Float32Array, TOLERANCE, 0);
    expect([...outputs.embedding!.dims]).toEqual(golden.entry(`embedding_${size}`).shape);
    expectClose(outputs.embedding!.data as Float32Array, (await golden.read(`embedding_${size}`)) as Float32Array, TOLERANCE, 0);
    expect(compiled.unusedTensors).toEqual([]);
  } finally {
    await golden.close();
    await checkpoint.close();
  }
}
