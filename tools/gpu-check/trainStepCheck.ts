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
import { ModelRuntime } from '../../src-main/services/models/runtime/ModelRuntime';
import type { ExecutionProvider, WorkerTensor } from '../../src-main/services/models/runtime/protocol';
import { SessionWorker } from '../../src-main/services/models/runtime/SessionWorker';
import type { WorkerEntry } from '../../src-main/services/models/runtime/SessionWorker';
import { LOSS, PROBABILITIES, gradientName, trainableParameters } from '../../src-main/services/training/lora';
import { LORA_BATCH, LORA_SHAPES, loraBenchSpec, loraFeeds, writeLoraGraphs } from '../../tests/bench/loraStep';
import { relativeError } from './compare';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
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
      const spec = loraBenchSpec(name);
      const files = await writeLoraGraphs(work, name, spec);
      const gradients = trainableParameters(spec).map(({ name: parameter }) => gradientName(parameter));
      const trainFeeds = loraFeeds(spec, true);
      const forwardFeeds = loraFeeds(spec, false);
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
          const row = { model: LORA_SHAPES[name]!.label, provider, stepMs, forwardMs, ratio: stepMs / forwardMs, samplesPerSecond: (LORA_BATCH * 1000) / stepMs, lossError, gradientError, gradients: gradients.length };
          rows.push(row);
          log(`${row.model} on ${provider}: train step ${stepMs.toFixed(1)} ms, forward ${forwardMs.toFixed(1)} ms (×${row.ratio.toFixed(2)}), ${row.samplesPerSecond.toFixed(1)} samples/s; vs CPU: loss ${lossError.toExponential(2)}, worst gradient ${gradientError.toExponential(2)}`);
        } catch (error) {
          log(`${LORA_SHAPES[name]!.label} on ${provider}: failed: ${(error as Error).message}`);
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
