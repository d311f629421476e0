/**
 * GPU check of LoRA training (issue 5), run like gpuCheck.ts (prepare.sh, then
 * `bash tools/gpu-check/run-on-device.sh trainStepCheck` on the GPU machine), or here with
 * `npx tsx tools/gpu-check/trainStepCheck.ts --models vit-s --providers cpu`.
 *
 * For ViT-S/16 and ViT-B/16 shapes (224 px, random seeded weights) with LoRA r = α = 16 and
 * dropout 0.1 on qkv, proj, fc1 and fc2 and a two-class head on the class token, at batch 16, it
 * writes the app's generated train-step graph (buildTrainStepGraph: loss, logits and every LoRA
 * and head gradient) and the matching inference graph (sharing the weights file), then on each
 * available provider:
 *   1. runs one seeded batch (pixels, labels, dropout masks, LoRA matrices with B ≠ 0 so every
 *      gradient is non-zero) and compares the loss and each gradient tensor with the CPU's:
 *      relative error = max |g − g_cpu| / max |g_cpu| per tensor, the worst over all tensors;
 *   2. times a train step and a forward pass (inference graph) in the session worker, after
 *      warm-up (GPU 3 + 10 runs, CPU 1 + 3), and reports the train-step / forward ratio (the
 *      prototype measured 2.2 on a 2-core CPU for ViT-S) and samples/s.
 * Results: a table on stdout and trainStepCheck.json in `--out`.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sharedWeightsOf, writeModel, writeModelSharingData } from '../../src-main/services/graph/writeModel';
import { ModelRuntime } from '../../src-main/services/models/runtime/ModelRuntime';
import type { ExecutionProvider, WorkerTensor } from '../../src-main/services/models/runtime/protocol';
import { SessionWorker } from '../../src-main/services/models/runtime/SessionWorker';
import type { WorkerEntry } from '../../src-main/services/models/runtime/SessionWorker';
import { VIT_DEFAULTS, vitParameters } from '../../src-main/services/models/vit';
import type { VitConfig } from '../../src-main/services/models/vit';
import { seededRandom } from '../../src-main/services/random/seededRandom';
import {
  LORA_DEFAULTS,
  LOSS,
  PROBABILITIES,
  buildInferenceGraph,
  buildTrainStepGraph,
  drawDropoutMasks,
  dropoutMaskInputs,
  gradientName,
  trainableParameters,
} from '../../src-main/services/training/lora';
import type { LoraModelSpec } from '../../src-main/services/training/lora';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const SHAPES: Record<string, { label: string; dim: number; heads: number }> = {
  'vit-s': { label: 'ViT-S/16', dim: 384, heads: 6 },
  'vit-b': { label: 'ViT-B/16', dim: 768, heads: 12 },
};
const BATCH = 16;

function specOf(name: string): LoraModelSpec {
  const { dim, heads } = SHAPES[name]!;
  const vit: VitConfig = { ...VIT_DEFAULTS, imageSize: 224, patchSize: 16, dim, depth: 12, heads, mlpRatio: 4, batchSize: BATCH };
  return { vit, lora: LORA_DEFAULTS, head: { classCount: 2, embedding: 'cls' } };
}

function uniform(length: number, random: () => number, scale: number): Float32Array {
  return Float32Array.from({ length }, () => (random() * 2 - 1) * scale);
}

async function writeGraphs(dir: string, name: string, spec: LoraModelSpec): Promise<{ train: string; forward: string }> {
  const random = seededRandom(7);
  const weights = new Map<string, Float32Array>();
  for (const { name: parameter, shape } of vitParameters(spec.vit)) {
    const length = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 0;
    const values = fanIn ? uniform(length, random, Math.sqrt(3 / fanIn)) : new Float32Array(length);
    if (/norm\d?\.weight$/.test(parameter)) values.fill(1);
    weights.set(parameter, values);
  }
  const vitWeights = ({ name: parameter }: { name: string }) => weights.get(parameter)!;
  const train = path.join(dir, `${name}.train.onnx`);
  const trainGraph = buildTrainStepGraph(spec, vitWeights);
  const shared = sharedWeightsOf(await writeModel(trainGraph, train), trainGraph);
  const forward = path.join(dir, `${name}.forward.onnx`);
  await writeModelSharingData(buildInferenceGraph(spec, vitWeights, { adapter: 'separate' }), forward, shared);
  return { train, forward };
}

function feedsOf(spec: LoraModelSpec, withLabels: boolean): Record<string, WorkerTensor> {
  const random = seededRandom(11);
  const dims = [BATCH, 3, 224, 224];
  const feeds: Record<string, WorkerTensor> = { pixels: { dims, data: uniform(BATCH * 3 * 224 * 224, random, 2) } };
  for (const { name, shape } of trainableParameters(spec)) {
    const length = shape.reduce((a, b) => a * b, 1);
    feeds[name] = { dims: shape, data: uniform(length, random, name.endsWith('lora_B') ? 0.05 : 1 / Math.sqrt(shape[1] ?? 1)) };
  }
  if (!withLabels) return feeds;
  feeds.labels = { dims: [BATCH], data: BigInt64Array.from({ length: BATCH }, (_, i) => BigInt(i % 2)) };
  const masks = drawDropoutMasks(spec, 3, 0);
  for (const { name, shape } of dropoutMaskInputs(spec)) feeds[name] = { dims: shape, data: masks[name]! };
  return feeds;
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale === 0 ? worst : worst / scale;
}

async function timeRuns(worker: SessionWorker, feeds: Record<string, WorkerTensor>, outputs: string[], warmup: number, runs: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await worker.run(feeds, outputs);
  const started = performance.now();
  for (let i = 0; i < runs; i++) await worker.run(feeds, outputs);
  return (performance.now() - started) / runs;
}

async function main(): Promise<void> {
  const outDir = argument('out') ?? process.cwd();
  const entry: WorkerEntry = { file: argument('worker') ?? path.resolve(import.meta.dirname, '../../tests/unit/models/runtimeWorkerEntry.mjs') };
  const wanted = (argument('providers') ?? 'webgpu,cpu').split(',') as ExecutionProvider[];
  const models = (argument('models') ?? 'vit-s,vit-b').split(',');
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'mitobench-train-check-'));
  const started = performance.now();
  const log = (message: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${message}`);
  const rows: Record<string, unknown>[] = [];
  try {
    log(`node ${process.version}, ${os.cpus().length} CPU cores`);
    const statuses = await new ModelRuntime({ entry, candidates: wanted }).providers();
    for (const status of statuses) log(`provider ${status.provider}: ${status.available ? 'available' : `not available: ${status.reason}`}`);
    const providers = statuses.filter((status) => status.available).map((status) => status.provider);
    for (const name of models) {
      const spec = specOf(name);
      const files = await writeGraphs(work, name, spec);
      const gradients = trainableParameters(spec).map(({ name: parameter }) => gradientName(parameter));
      const trainFeeds = feedsOf(spec, true);
      const forwardFeeds = feedsOf(spec, false);
      const results = new Map<ExecutionProvider, Readonly<Record<string, WorkerTensor>>>();
      // CPU first: the reference of the comparison.
      for (const provider of ['cpu' as const, ...providers.filter((p) => p !== 'cpu')]) {
        if (!providers.includes(provider)) continue;
        const train = new SessionWorker(entry);
        const forward = new SessionWorker(entry);
        try {
          await train.open(files.train, provider);
          await forward.open(files.forward, provider);
          results.set(provider, await train.run(trainFeeds, [LOSS, ...gradients]));
          const [warmup, runs] = provider === 'cpu' ? [1, 3] : [3, 10];
          const stepMs = await timeRuns(train, trainFeeds, [LOSS, ...gradients], warmup, runs);
          const forwardMs = await timeRuns(forward, forwardFeeds, [PROBABILITIES], warmup, runs);
          const cpu = results.get('cpu')!;
          const mine = results.get(provider)!;
          const lossError = relativeError(mine[LOSS]!.data as Float32Array, cpu[LOSS]!.data as Float32Array);
          const gradientError = Math.max(...gradients.map((g) => relativeError(mine[g]!.data as Float32Array, cpu[g]!.data as Float32Array)));
          const row = { model: SHAPES[name]!.label, provider, stepMs, forwardMs, ratio: stepMs / forwardMs, samplesPerSecond: (BATCH * 1000) / stepMs, lossError, gradientError, gradients: gradients.length };
          rows.push(row);
          log(`${row.model} on ${provider}: train step ${stepMs.toFixed(1)} ms, forward ${forwardMs.toFixed(1)} ms (×${row.ratio.toFixed(2)}), ${row.samplesPerSecond.toFixed(1)} samples/s; vs CPU: loss ${lossError.toExponential(2)}, worst gradient ${gradientError.toExponential(2)}`);
        } catch (error) {
          log(`${SHAPES[name]!.label} on ${provider}: failed: ${(error as Error).message}`);
        } finally {
          await train.close();
          await forward.close();
        }
      }
    }
    console.log('\n| model | provider | train step ms | forward ms | step/forward | samples/s | loss vs CPU | worst gradient vs CPU |');
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of rows as { model: string; provider: string; stepMs: number; forwardMs: number; ratio: number; samplesPerSecond: number; lossError: number; gradientError: number }[]) {
      console.log(`| ${r.model} | ${r.provider} | ${r.stepMs.toFixed(1)} | ${r.forwardMs.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.samplesPerSecond.toFixed(1)} | ${r.lossError.toExponential(2)} | ${r.gradientError.toExponential(2)} |`);
    }
    await fs.mkdir(outDir, { recursive: true });
    await fs.writeFile(path.join(outDir, 'trainStepCheck.json'), JSON.stringify({ node: process.version, cpus: os.cpus().length, statuses, rows }, null, 2));
    log('done');
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
