/**
 * LoRA training and the linear probe on the CPU.
 *
 *   npm run bench:train [-- --models vit-s,vit-b] [--dropout 0.1] [--rounds N] [--no-probe]
 *
 * `--dropout 0` measures the step without dropout masks (the graph then has no mask inputs).
 *
 * LORA STEP (tests/bench/loraStep.ts): ViT-S/16- and ViT-B/16-shaped models (224 px, random seeded
 * weights), LoRA r = α = 16, dropout 0.1 on qkv, proj, fc1 and fc2, a two-class head, batch 16:
 * the app's generated train-step graph (loss, logits and the 98 LoRA and head gradients) and the
 * inference graph over the same weights, each in its own session worker with the app's options.
 * A step is one `run` through the training loop's own code (DropoutMaskSupply.runStep): the
 * step's pixels moved to the worker and its bool dropout masks lent to it (moved there and back),
 * labels and the trainable tensors copied, loss and gradients moved back, and the next step's
 * masks drawn on the main thread, into the arrays given back, while the worker runs (the Adam update, ~1 ms for ViT-S's 1.2 M trainable
 * values, is not counted). The forward pass is the same batch through the inference graph
 * (probabilities back). After one untimed run of each, train
 * steps and forward passes alternate (step, forward, step, …: 3 rounds for ViT-S, 2 for ViT-B, unless --rounds) so
 * both see the same load on a shared machine; medians. Ratio = step ÷ forward.
 * Target ≤ 2.3 (the analytic FLOP ratio is 2.1: frozen weights get no weight gradients).
 *
 * MEMORY: before the train-step session opens, garbage is collected and the process's peak resident set (VmHWM) is reset
 * (/proc/self/clear_refs); the peak while it is created and runs two steps is reported, and the
 * resident set just before (Node and the graph builder's copy of the random weights).
 * Target for ViT-S at batch 16: ≤ 2 GB.
 *
 * LINEAR PROBE: fitLinearProbe (L-BFGS, scikit-learn's objective, C = dim × classes / 100) on
 * 50,000 synthetic cached-embedding-like rows of dim 1,536 (two classes whose means differ along
 * a random direction, unit Gaussian noise), seeded; wall time of the fit, iterations.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { WorkerTensor } from '../../src-main/services/models/runtime/protocol';
import { SessionWorker } from '../../src-main/services/models/runtime/SessionWorker';
import { seededRandom } from '../../src-main/services/random/seededRandom';
import { fitLinearProbe } from '../../src-main/services/training/linearProbe';
import { DropoutMaskSupply, LOSS, PROBABILITIES, gradientName, trainableParameters } from '../../src-main/services/training/lora';
import { LORA_BATCH, LORA_SHAPES, loraBenchSpec, loraFeeds, writeLoraGraphs } from './loraStep';
import { collectGarbage, peakMiB, residentMiB, resetPeak } from './processMemory';

const WORKER_ENTRY = { file: path.resolve(import.meta.dirname, '../unit/models/runtimeWorkerEntry.mjs') };
const DEFAULT_ROUNDS: Record<string, number> = { 'vit-s': 3, 'vit-b': 2 };
const PROBE_ROWS = 50_000;
const PROBE_DIM = 1536;

const args = process.argv.slice(2);
const modelsArgument = args[args.indexOf('--models') + 1];
const models = args.includes('--models') && modelsArgument ? modelsArgument.split(',') : ['vit-s', 'vit-b'];
const rounds = (name: string): number => (args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : DEFAULT_ROUNDS[name]!);
const dropout = args.includes('--dropout') ? Number(args[args.indexOf('--dropout') + 1]) : undefined;

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timed(worker: SessionWorker, feeds: Record<string, WorkerTensor>, outputs: string[]): Promise<number> {
  const started = performance.now();
  await worker.run(feeds, outputs);
  return performance.now() - started;
}

/** Train steps as the loop runs them (DropoutMaskSupply.runStep). Returns the milliseconds of each of `count` steps. */
async function timedSteps(worker: SessionWorker, masks: DropoutMaskSupply, base: Record<string, WorkerTensor>, outputs: string[], count: number, firstStep: number): Promise<number[]> {
  const times: number[] = [];
  for (let step = firstStep; step < firstStep + count; step++) {
    const started = performance.now();
    const feeds: Record<string, WorkerTensor> = { ...base, pixels: { dims: base.pixels!.dims, data: (base.pixels!.data as Float32Array).slice() } };
    await masks.runStep(worker, feeds, outputs, step, ['pixels']);
    times.push(performance.now() - started);
  }
  return times;
}

async function benchLora(name: string, dir: string): Promise<Record<string, number | string>> {
  const base = loraBenchSpec(name);
  const spec = dropout === undefined ? base : { ...base, lora: { ...base.lora, dropout } };
  const files = await writeLoraGraphs(dir, name, spec);
  const gradients = [LOSS, ...trainableParameters(spec).map(({ name: parameter }) => gradientName(parameter))];
  const trainFeeds = loraFeeds(spec, true, false);
  const masks = new DropoutMaskSupply(spec, 3);
  const forwardFeeds = loraFeeds(spec, false);
  const train = new SessionWorker(WORKER_ENTRY);
  const forward = new SessionWorker(WORKER_ENTRY);
  try {
    collectGarbage();
    const before = residentMiB();
    const canReset = resetPeak();
    await train.open(files.train, 'cpu');
    await timedSteps(train, masks, trainFeeds, gradients, 2, 0);
    const peak = peakMiB();
    await forward.open(files.forward, 'cpu');
    await forward.run(forwardFeeds, [PROBABILITIES]);
    const steps: number[] = [];
    const passes: number[] = [];
    for (let round = 0; round < rounds(name); round++) {
      steps.push(...(await timedSteps(train, masks, trainFeeds, gradients, 1, 2 + round)));
      passes.push(await timed(forward, forwardFeeds, [PROBABILITIES]));
    }
    const stepMs = median(steps);
    const forwardMs = median(passes);
    const row = {
      model: LORA_SHAPES[name]!.label,
      stepMs,
      forwardMs,
      ratio: stepMs / forwardMs,
      samplesPerSecond: (LORA_BATCH * 1000) / stepMs,
      peakMiB: peak,
      beforeMiB: before,
      peakScope: canReset ? 'train session' : 'whole run',
    };
    console.log(
      `${row.model} (dropout ${spec.lora.dropout}): train step ${stepMs.toFixed(0)} ms [${steps.map((v) => v.toFixed(0)).join(', ')}], forward ${forwardMs.toFixed(0)} ms [${passes.map((v) => v.toFixed(0)).join(', ')}], ` +
        `ratio ${row.ratio.toFixed(2)} (target ≤ 2.3), ${row.samplesPerSecond.toFixed(2)} samples/s, peak ${peak.toFixed(0)} MiB (before ${before.toFixed(0)} MiB, ${row.peakScope})`,
    );
    return row;
  } finally {
    await train.close();
    await forward.close();
  }
}

function benchProbe(): void {
  const random = seededRandom(5);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const direction = Float32Array.from({ length: PROBE_DIM }, () => gaussian() / Math.sqrt(PROBE_DIM));
  const values = new Float32Array(PROBE_ROWS * PROBE_DIM);
  const labels = new Int32Array(PROBE_ROWS);
  for (let row = 0; row < PROBE_ROWS; row++) {
    labels[row] = row % 2;
    const shift = labels[row] === 1 ? 1.5 : -1.5;
    for (let d = 0; d < PROBE_DIM; d++) values[row * PROBE_DIM + d] = gaussian() + shift * direction[d]!;
  }
  const started = performance.now();
  const probe = fitLinearProbe({ values, rows: PROBE_ROWS, columns: PROBE_DIM }, labels, { classCount: 2 });
  const seconds = (performance.now() - started) / 1000;
  console.log(`linear probe: ${PROBE_ROWS} × ${PROBE_DIM}, 2 classes, C = ${probe.inverseRegularisation}: fit ${seconds.toFixed(2)} s, ${probe.iterations} iterations (${probe.stopReason})`);
}

const started = performance.now();
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mitobench-bench-train-'));
try {
  console.log(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model}), load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  for (const name of models) await benchLora(name, dir);
  if (!args.includes('--no-probe')) benchProbe();
  console.log(`load average at end: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await fs.rm(dir, { recursive: true, force: true });
}
