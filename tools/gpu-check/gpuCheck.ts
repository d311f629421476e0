/**
 * GPU check of the model runtime (issue 4), run on a machine with a GPU through
 * `tools/gpu-check/run-on-device.sh` (bundled by `prepare.sh`, because that machine has no
 * Node.js or npm of its own), or here with `npx tsx tools/gpu-check/gpuCheck.ts`.
 *
 * It builds a ViT-B/16-shaped network (224 px, 12 blocks, dim 768, 12 heads, random seeded
 * weights) with the app's own builder, in float32 and in float16, at batch sizes 1, 8 and 32
 * (each precision's weights written once; the other batch sizes share the data file), then:
 *   1. detects the execution providers exactly as the app does (ModelRuntime: a tiny probe
 *      model on each of WebGPU, CUDA and CPU, each failure's own reason kept);
 *   2. runs one seeded batch of 8 images on every available provider and compares the tokens
 *      with the CPU's in float32: relative error = max |x − x_cpu| / max |x_cpu| (the issue's
 *      bound: ≤ 1e-3), plus the smallest cosine similarity of the class-token embeddings;
 *   3. times session.run (inside the session worker, after warm-up, like bench:embed) at each
 *      batch size and precision: patches/s, and the FLOP rate against one 4096³ float32 MatMul
 *      on the same provider in the same run (ViT-B/16: 35.13 GFLOP per image, the formula in
 *      tests/bench/embed.bench.ts).
 * Results: a table on stdout and JSON in `--out` (default: the working directory).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Graph } from '../../src-main/services/graph/Graph';
import { gather, matMul } from '../../src-main/services/graph/ops';
import { float32ToFloat16 } from '../../src-main/services/graph/halfPrecision';
import { sharedWeightsOf, writeModel, writeModelSharingData } from '../../src-main/services/graph/writeModel';
import type { SharedWeights } from '../../src-main/services/graph/writeModel';
import { ModelRuntime } from '../../src-main/services/models/runtime/ModelRuntime';
import type { ExecutionProvider, WorkerTensor } from '../../src-main/services/models/runtime/protocol';
import { SessionWorker } from '../../src-main/services/models/runtime/SessionWorker';
import type { WorkerEntry } from '../../src-main/services/models/runtime/SessionWorker';
import { VIT_DEFAULTS, buildVitGraph, vitParameters } from '../../src-main/services/models/vit';
import { seededRandom } from '../../src-main/services/random/seededRandom';
import type { VitConfig } from '../../src-main/services/models/vit';
import { relativeError } from './compare';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const VIT_B: VitConfig = { ...VIT_DEFAULTS, imageSize: 224, patchSize: 16, dim: 768, depth: 12, heads: 12, mlpRatio: 4 };
const GFLOP_PER_IMAGE = 35.13;
const BATCHES = (argument('batches') ?? '1,8,32').split(',').map(Number);
const COMPARE_BATCH = 8;
const MATMUL_SIZE = 4096;
const BOUND = 1e-3;
type Precision = 'float32' | 'float16';

/** Weights of a plausible scale (norms near 1, linear weights ~ 1/√fan-in), seeded by name order. */
function randomWeights(config: VitConfig): Map<string, Float32Array> {
  const random = seededRandom(7);
  const weights = new Map<string, Float32Array>();
  for (const { name, shape } of vitParameters(config)) {
    const length = shape.reduce((product, dim) => product * dim, 1);
    const scale = shape.length >= 2 ? 1 / Math.sqrt(shape.slice(1).reduce((product, dim) => product * dim, 1)) : 0.02;
    const values = Float32Array.from({ length }, () => (random() * 2 - 1) * scale * Math.sqrt(3));
    if (/norm\d?\.weight$/.test(name)) values.fill(1);
    if (/norm\d?\.bias$/.test(name)) values.fill(0);
    weights.set(name, values);
  }
  return weights;
}

/** The ViT plus a second output, the class token [B, D] (the default embedding). */
function vitGraph(config: VitConfig, weights: Map<string, Float32Array>): Graph {
  const graph = buildVitGraph(config, ({ name }) => () => (config.dtype === 'float16' ? float32ToFloat16(weights.get(name)!) : weights.get(name)!), `vit-b-${config.dtype}-b${config.batchSize}`);
  graph.output(gather(graph, graph.outputs[0]!, 0, 1), 'embedding');
  return graph;
}

async function writeVariants(dir: string, weights: Map<string, Float32Array>): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  for (const precision of ['float32', 'float16'] as const) {
    let shared: SharedWeights | undefined;
    for (const batchSize of BATCHES) {
      const config = { ...VIT_B, dtype: precision, batchSize };
      const graph = vitGraph(config, weights);
      const modelPath = path.join(dir, `vit-b-${precision}.b${batchSize}.onnx`);
      if (shared) await writeModelSharingData(graph, modelPath, shared);
      else shared = sharedWeightsOf(await writeModel(graph, modelPath), graph);
      paths.set(`${precision}:${batchSize}`, modelPath);
    }
  }
  return paths;
}

async function writeMatMul(dir: string): Promise<string> {
  const graph = new Graph('matmul');
  const x = graph.input('x', 'float32', [MATMUL_SIZE, MATMUL_SIZE]);
  const random = seededRandom(3);
  const w = graph.initializer('w', 'float32', [MATMUL_SIZE, MATMUL_SIZE], Float32Array.from({ length: MATMUL_SIZE ** 2 }, () => random() - 0.5));
  graph.output(matMul(graph, x, w), 'y');
  const modelPath = path.join(dir, 'matmul.onnx');
  await writeModel(graph, modelPath);
  return modelPath;
}

function smallestCosine(actual: Float32Array, expected: Float32Array, dims: number): number {
  let smallest = 1;
  for (let row = 0; row < actual.length / dims; row++) {
    let dot = 0;
    let a2 = 0;
    let b2 = 0;
    for (let d = row * dims; d < (row + 1) * dims; d++) {
      dot += actual[d]! * expected[d]!;
      a2 += actual[d]! ** 2;
      b2 += expected[d]! ** 2;
    }
    smallest = Math.min(smallest, dot / Math.sqrt(a2 * b2));
  }
  return smallest;
}

interface Timing {
  provider: ExecutionProvider;
  precision: Precision;
  batch: number;
  msPerBatch: number;
  patchesPerSecond: number;
  gflopPerSecond: number;
  matMulGflopPerSecond: number;
  ratio: number;
}

interface Comparison {
  provider: ExecutionProvider;
  precision: Precision;
  tokensRelativeError: number;
  embeddingMinCosine: number;
  withinBound: boolean | null;
}

async function main(): Promise<void> {
  const outDir = argument('out') ?? process.cwd();
  const entry: WorkerEntry = { file: argument('worker') ?? path.resolve(import.meta.dirname, '../../tests/unit/models/runtimeWorkerEntry.mjs') };
  const providersWanted = (argument('providers') ?? 'webgpu,cuda,cpu').split(',') as ExecutionProvider[];
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'mitobench-gpu-check-'));
  const started = performance.now();
  const log = (message: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${message}`);
  try {
    log(`node ${process.version}, ${os.cpus().length} CPU cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}`);
    const runtime = new ModelRuntime({ entry, candidates: providersWanted });
    const statuses = await runtime.providers();
    for (const status of statuses) log(`provider ${status.provider}: ${status.available ? 'available' : `not available: ${status.reason}`}`);
    const available = statuses.filter((status) => status.available).map((status) => status.provider);

    const weights = randomWeights(VIT_B);
    const models = await writeVariants(work, weights);
    const matMulPath = await writeMatMul(work);
    log(`models written (ViT-B/16, ${BATCHES.join('/')} × float32/float16; weights shared across batch sizes)`);

    const random = seededRandom(11);
    const pixels = Float32Array.from({ length: COMPARE_BATCH * 3 * 224 * 224 }, () => random() * 4 - 2);
    const feeds: Record<string, WorkerTensor> = { pixels: { dims: [COMPARE_BATCH, 3, 224, 224], data: pixels } };
    const comparisons: Comparison[] = [];
    const timings: Timing[] = [];

    // CPU last: its float32 tokens are the reference of the comparison.
    const order = [...available.filter((provider) => provider !== 'cpu'), 'cpu' as const];
    const outputsBy = new Map<string, Readonly<Record<string, WorkerTensor<Float32Array>>>>();
    for (const provider of order) {
      const matMulWorker = new SessionWorker(entry);
      let matMulRate = NaN;
      try {
        await matMulWorker.open(matMulPath, provider);
        const ms = await matMulWorker.time('x', [MATMUL_SIZE, MATMUL_SIZE], provider === 'cpu' ? 3 : 20, 2);
        matMulRate = (2 * MATMUL_SIZE ** 3) / (ms * 1e6);
        log(`${provider}: MatMul ${MATMUL_SIZE}³ ${ms.toFixed(2)} ms, ${matMulRate.toFixed(0)} GFLOP/s`);
      } catch (error) {
        log(`${provider}: MatMul failed: ${(error as Error).message}`);
      } finally {
        await matMulWorker.close();
      }
      for (const precision of ['float32', 'float16'] as const) {
        if (provider === 'cpu' && precision === 'float16') continue; // CPU has no half-precision Gemm: ORT casts back to float32.
        for (const batch of BATCHES) {
          const worker = new SessionWorker(entry);
          try {
            const opened = performance.now();
            await worker.open(models.get(`${precision}:${batch}`)!, provider);
            const openMs = performance.now() - opened;
            if (batch === COMPARE_BATCH) outputsBy.set(`${provider}:${precision}`, await worker.runFloat32(feeds, ['tokens', 'embedding']));
            const [warmup, runs] = provider === 'cpu' ? [1, batch === 32 ? 2 : 3] : [3, 20];
            const ms = await worker.time('pixels', [batch, 3, 224, 224], runs, warmup);
            const gflop = (GFLOP_PER_IMAGE * batch) / (ms / 1000);
            timings.push({ provider, precision, batch, msPerBatch: ms, patchesPerSecond: (batch * 1000) / ms, gflopPerSecond: gflop, matMulGflopPerSecond: matMulRate, ratio: gflop / matMulRate });
            log(`${provider} ${precision} batch ${batch}: session ${openMs.toFixed(0)} ms, ${ms.toFixed(1)} ms/batch, ${((batch * 1000) / ms).toFixed(1)} patches/s, ${gflop.toFixed(0)} GFLOP/s`);
          } catch (error) {
            log(`${provider} ${precision} batch ${batch}: failed: ${(error as Error).message}`);
          } finally {
            await worker.close();
          }
        }
      }
    }
    const cpu = outputsBy.get('cpu:float32');
    for (const [key, outputs] of outputsBy) {
      const [provider, precision] = key.split(':') as [ExecutionProvider, Precision];
      if (!cpu || key === 'cpu:float32') continue;
      const tokensRelativeError = relativeError(outputs.tokens!.data, cpu.tokens!.data);
      const embeddingMinCosine = smallestCosine(outputs.embedding!.data, cpu.embedding!.data, VIT_B.dim);
      comparisons.push({ provider, precision, tokensRelativeError, embeddingMinCosine, withinBound: precision === 'float32' ? tokensRelativeError <= BOUND : null });
    }

    console.log('\n| provider | precision | vs CPU float32: max rel. error | min cosine (class token) | within 1e-3 |');
    console.log('| --- | --- | ---: | ---: | --- |');
    for (const c of comparisons) {
      console.log(`| ${c.provider} | ${c.precision} | ${c.tokensRelativeError.toExponential(2)} | ${c.embeddingMinCosine.toFixed(6)} | ${c.withinBound === null ? 'n/a (half precision)' : c.withinBound ? 'yes' : 'NO'} |`);
    }
    console.log('\n| provider | precision | batch | ms/batch | patches/s | GFLOP/s | MatMul GFLOP/s | ratio |');
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const t of timings) {
      console.log(
        `| ${t.provider} | ${t.precision} | ${t.batch} | ${t.msPerBatch.toFixed(1)} | ${t.patchesPerSecond.toFixed(1)} | ${t.gflopPerSecond.toFixed(0)} | ${t.matMulGflopPerSecond.toFixed(0)} | ${(t.ratio * 100).toFixed(0)} % |`,
      );
    }
    await fs.mkdir(outDir, { recursive: true });
    await fs.writeFile(
      path.join(outDir, 'gpu-check.json'),
      JSON.stringify({ node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, statuses, comparisons, timings }, null, 2),
    );
    const failed = comparisons.some((c) => c.withinBound === false);
    log(failed ? 'FAILED: a provider differs from the CPU by more than 1e-3' : 'done');
    process.exitCode = failed ? 1 : 0;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
