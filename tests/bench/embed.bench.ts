/**
 * Embedding inference on the CPU: ViT-S/16- and ViT-B/16-shaped models (224 px, random seeded
 * weights) built by buildVitGraph, written with writeModel and run in a session worker exactly
 * as the app runs them (SessionWorker + workerMain: graphOptimizationLevel 'all',
 * enableMemPattern false, ONNX-TRAINING.md pitfalls 10, 11), at batch sizes 1, 8 and 32.
 *
 *   npm run bench:embed [-- --models vit-s,vit-b] [--batches 1,8,32] [--keep]
 *
 * TIMING: each (model, batch) gets its own model file (one static batch per graph) and its own
 * worker. Untimed warm-up runs first (pitfall 14), then timed runs, each timed inside the worker
 * around session.run alone (input generation and message passing not counted); the median is
 * reported. Repetitions, kept small so the whole run stays near 6 minutes on a 2-core machine:
 *   ViT-S  batch 1: 2 warm-up + 10 timed; batch 8: 2 + 5; batch 32: 1 + 3
 *   ViT-B  batch 1: 2 warm-up + 5 timed;  batch 8: 1 + 3; batch 32: 1 + 2 (fewest: ~35 GFLOP/image)
 *
 * FLOPs per image, analytic (one multiply-add = 2 FLOPs; N = patches = (224/16)² = 196,
 * T = N + 1 tokens, D = width, M = MLP hidden width = 4D, L = depth, P = 16, C = 3):
 *   patch embed conv   2·N·(C·P²)·D
 *   per block: qkv 2·T·D·3D, proj 2·T·D·D, QKᵀ 2·T²·D, attention·V 2·T²·D, MLP fc1+fc2 2·2·T·D·M
 *   total = 2·N·C·P²·D + L·(8·T·D² + 4·T²·D + 4·T·D·M)
 * LayerNorm, softmax, GELU, biases and residual adds are left out (< 1 % of the work).
 * ViT-S/16 (D 384, L 12): 9.20 GFLOP/image; ViT-B/16 (D 768, L 12): 35.1 GFLOP/image.
 *
 * BASELINE: one large MatMul, [2048, 2048] input × [2048, 2048] float32 weight (2·2048³ FLOPs),
 * in its own session worker with the same session options, kept open all run (2 warm-up runs at
 * the start). Its runs alternate with the model's timed runs (MatMul, model, MatMul, …, MatMul),
 * so both see the same load on a shared machine whose speed drifts; each ratio is the model's
 * median GFLOP/s over the median GFLOP/s of the MatMul runs around it.
 * Target: model FLOP rate ≥ 65 % of the MatMul's.
 *
 * MEMORY: sessions run in worker threads of this process, so the process's resident set covers
 * them. Before each session opens, the peak (VmHWM) is reset through /proc/self/clear_refs; the
 * table gives the peak reached while the session was created and run, and the resident set just
 * before it opened (Node, the baseline session, ~50 MB of it; the MatMul runs in between add
 * their 2 × 16 MB of input and output to the peak). Elsewhere than Linux only
 * process.resourceUsage().maxRSS is available, a peak over the whole run.
 *
 * SLIDE TO EMBEDDING (both models, every batch size; --no-slide skips it): the app's pipeline,
 * extractEmbeddings (src-main/services/embeddings), on a fresh project holding the shared
 * CMU-1-Small-Region.svs (0.5 µm/px) with seeded random labelled point cells, through the same
 * worker right after its timed runs: 8 batches at batch 1, 4 at batch 8, 3 at batch 32 (each cell read from the
 * slide through SlideLibrary + a 256 MB TileCache as the app's, resized, normalised; the next
 * batch prepared while the model runs; every batch stored in the project's embedding cache). The
 * model gets a second output, the class token [B, D], as the embedding. Ratio: cells/s of the
 * whole run ÷ patches/s of inference alone (the timed runs above, same session and batch size).
 * Target ≥ 80 %. The first batch's patches cannot be hidden, so fewer batches understate it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AnnotationStore } from '../../src-main/services/annotations/AnnotationStore';
import { extractEmbeddings, workerEmbeddingSession } from '../../src-main/services/embeddings/EmbeddingExtractor';
import { Graph } from '../../src-main/services/graph/Graph';
import { gather } from '../../src-main/services/graph/ops/gather';
import { matMul } from '../../src-main/services/graph/ops/matMul';
import { ProjectDatabase } from '../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../src-main/services/slides/SlideCatalog';
import { SlideLibrary } from '../../src-main/services/slides/SlideLibrary';
import { TileCache } from '../../src-main/services/slides/TileCache';
import { writeModel } from '../../src-main/services/graph/writeModel';
import { SessionWorker } from '../../src-main/services/models/runtime/SessionWorker';
import { peakMiB, residentMiB, resetPeak } from './processMemory';
import { VIT_DEFAULTS, buildVitGraph, mlpHiddenWidth, patchGrid, tokenCount, vitParameterCount } from '../../src-main/services/models/vit';
import type { VitConfig } from '../../src-main/services/models/vit';
import { seededRandom } from '../../src-main/services/random/seededRandom';

/** The session worker's TypeScript through tsx, as the unit tests load it. */
const WORKER_ENTRY = { file: path.resolve(import.meta.dirname, '../unit/models/runtimeWorkerEntry.mjs') };

const MATMUL_SIZE = 2048;
const BASELINE_WARMUP = 2;

type ModelName = 'vit-s' | 'vit-b';
const MODELS: Record<ModelName, { label: string; dim: number; depth: number; heads: number }> = {
  'vit-s': { label: 'ViT-S/16', dim: 384, depth: 12, heads: 6 },
  'vit-b': { label: 'ViT-B/16', dim: 768, depth: 12, heads: 12 },
};

/** [warm-up, timed] runs per model and batch size (see the header). */
const REPETITIONS: Record<ModelName, Record<number, [number, number]>> = {
  'vit-s': { 1: [2, 10], 8: [2, 5], 32: [1, 3] },
  'vit-b': { 1: [2, 5], 8: [1, 3], 32: [1, 2] },
};

const args = process.argv.slice(2);
function listArgument(flag: string): string[] | undefined {
  const value = args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined;
  return value ? value.split(',') : undefined;
}
const modelNames = (listArgument('--models') ?? ['vit-s', 'vit-b']) as ModelName[];
const batchSizes = (listArgument('--batches') ?? ['1', '8', '32']).map(Number);
const keep = args.includes('--keep');
const slidePart = !args.includes('--no-slide');
const SLIDE_FILE = path.resolve(import.meta.dirname, '../../../shared/data/slides/CMU-1-Small-Region.svs');
/** Batches of cells in the slide-to-embedding run, per batch size. */
const SLIDE_BATCHES: Record<number, number> = { 1: 8, 8: 4, 32: 3 };
for (const name of modelNames) if (!(name in MODELS)) throw new Error(`--models: unknown model "${name}" (known: ${Object.keys(MODELS).join(', ')})`);
for (const batch of batchSizes) if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batches: "${batch}" is not a positive integer`);

function vitConfig(name: ModelName, batchSize: number): VitConfig {
  const { dim, depth, heads } = MODELS[name];
  return { ...VIT_DEFAULTS, imageSize: 224, patchSize: 16, dim, depth, heads, mlpRatio: 4, batchSize };
}

/** The formula of the header, per image. */
function vitFlopsPerImage(config: VitConfig): number {
  const patches = patchGrid(config) ** 2;
  const tokens = tokenCount(config);
  const { dim, depth, inChannels, patchSize } = config;
  const hidden = mlpHiddenWidth(config);
  const patchEmbed = 2 * patches * inChannels * patchSize ** 2 * dim;
  const linear = 2 * tokens * dim * 3 * dim + 2 * tokens * dim * dim + 2 * 2 * tokens * dim * hidden;
  const attention = 2 * 2 * tokens ** 2 * dim;
  return patchEmbed + depth * (linear + attention);
}

/** Deterministic weights: small (timm-like 0.02 scale, so no overflow or denormals), seeded per tensor. */
function seededFill(length: number, seed: number, scale: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length }, () => (random() * 2 - 1) * scale);
}

function seedOf(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash >>> 0;
}

async function writeVit(config: VitConfig, modelPath: string): Promise<void> {
  const graph = buildVitGraph(config, ({ name, shape }) => () => {
    const length = shape.reduce((product, dim) => product * dim, 1);
    // LayerNorm scales near 1, everything else small.
    if (/norm\d?\.weight$/.test(name)) return seededFill(length, seedOf(name), 0.1).map((value) => value + 1);
    return seededFill(length, seedOf(name), 0.02);
  });
  // The embedding as the app takes it from a compiled checkpoint ('cls'): the class token, [B, D].
  graph.output(gather(graph, graph.outputs[0]!, 0, 1), 'embedding');
  await writeModel(graph, modelPath);
}

async function writeMatMul(modelPath: string): Promise<void> {
  const graph = new Graph('matmul');
  const a = graph.input('a', 'float32', [MATMUL_SIZE, MATMUL_SIZE]);
  const b = graph.initializer('b', 'float32', [MATMUL_SIZE, MATMUL_SIZE], () => seededFill(MATMUL_SIZE ** 2, 11, 0.02));
  graph.output(matMul(graph, a, b), 'c');
  await writeModel(graph, modelPath);
}

function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Per-run milliseconds of the model and of the baseline, alternating (baseline run, model run, …)
 * so both see the same load; the model's warm-up runs come first, untimed.
 */
async function timeInterleaved(
  worker: SessionWorker,
  baseline: SessionWorker,
  dims: readonly number[],
  warmup: number,
  runs: number,
): Promise<{ modelMs: number[]; baselineMs: number[] }> {
  const modelMs: number[] = [];
  const baselineMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    baselineMs.push(await baseline.time('a', [MATMUL_SIZE, MATMUL_SIZE], 1, 0));
    modelMs.push(await worker.time('pixels', dims, 1, i === 0 ? warmup : 0));
  }
  baselineMs.push(await baseline.time('a', [MATMUL_SIZE, MATMUL_SIZE], 1, 0));
  return { modelMs, baselineMs };
}

// ---- slide to embedding ----

interface SlideRun {
  cells: number;
  wallMs: number;
  inferenceMs: number;
  waitMs: number;
}

/** extractEmbeddings over `cellCount` seeded random labelled cells of the shared slide, on `worker`'s session. */
async function slideToEmbedding(worker: SessionWorker, config: VitConfig, label: string, cellCount: number, dir: string): Promise<SlideRun> {
  const folder = fs.mkdtempSync(path.join(dir, 'project-'));
  const project = ProjectDatabase.create(path.join(folder, 'project'), 'bench embed');
  const library = new SlideLibrary(new SlideCatalog(project.db), path.join(folder, 'thumbnails'), new TileCache(256 * 1024 * 1024), project.projectKey);
  try {
    const added = await library.add([SLIDE_FILE]);
    const slide = added.added[0];
    if (!slide) throw new Error(`${SLIDE_FILE}: ${added.failed[0]?.message ?? 'not added'}`);
    const store = new AnnotationStore(project.db);
    const actor = store.ensureAnnotator('bench').id;
    const classId = store.listClasses()[0]!.id;
    const margin = config.imageSize / 2;
    const unit = seededFill(2 * cellCount, 5, 0.5);
    for (let i = 0; i < cellCount; i++) {
      const x = margin + (unit[2 * i]! + 0.5) * (slide.width - 2 * margin);
      const y = margin + (unit[2 * i + 1]! + 0.5) * (slide.height - 2 * margin);
      store.createAnnotation(slide.id, { shape: 'point', x, y }, actor, classId);
    }
    const model = {
      name: label,
      fileHash: `bench-${label}-b${config.batchSize}`,
      embeddingOutput: 'embedding',
      config: {
        architecture: `${label} (random weights)`,
        inputName: 'pixels',
        inputShape: [1, config.inChannels, config.imageSize, config.imageSize],
        imageSize: config.imageSize,
        patchSize: config.patchSize,
        dim: config.dim,
        depth: config.depth,
        heads: config.heads,
        mlp: config.mlp,
        mean: null,
        std: null,
        interpolation: 'bicubic',
        umPerPixel: 0.5,
        embeddingRule: 'cls',
        embeddingSize: config.dim,
      },
    };
    const result = await extractEmbeddings({
      db: project.db,
      library,
      model,
      session: workerEmbeddingSession(worker, model, config.batchSize),
      slideIds: [slide.id],
      batchSize: config.batchSize,
    });
    if (result.embedded !== cellCount || result.dims !== config.dim) {
      throw new Error(`${label}: embedded ${result.embedded} of ${cellCount} cells with ${result.dims} dims (expected ${config.dim})`);
    }
    return { cells: result.embedded, wallMs: result.wallMs, inferenceMs: result.inferenceMs, waitMs: result.waitMs };
  } finally {
    await library.close();
    project.close();
  }
}

// ---- memory (Linux: /proc/self/status; the workers are threads of this process) ----

// ---- run ----

interface Row {
  model: string;
  batch: number;
  runs: number;
  msPerBatch: number;
  patchesPerSecond: number;
  gflops: number;
  baselineGflops: number;
  peakMiB: number;
  beforeMiB: number;
  buildSeconds: number;
  slide?: SlideRun;
}

const slideRate = (slide: SlideRun) => slide.cells / (slide.wallMs / 1000);
const pad = (value: string | number, width: number) => String(value).padStart(width);

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = os.loadavg();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-bench-embed-'));
  console.log(`Embedding benchmark: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  console.log(`load average at start: ${loadBefore.map((value) => value.toFixed(2)).join(' ')}`);
  console.log(`models in ${dir}${keep ? ' (kept)' : ''}\n`);

  const baselinePath = path.join(dir, 'matmul.onnx');
  await writeMatMul(baselinePath);
  const baseline = new SessionWorker(WORKER_ENTRY);
  await baseline.open(baselinePath, 'cpu');
  const matMulFlops = 2 * MATMUL_SIZE ** 3;
  const baselineSamples: number[] = [];
  const warmStarted = performance.now();
  await baseline.time('a', [MATMUL_SIZE, MATMUL_SIZE], 1, BASELINE_WARMUP);
  console.log(`MatMul warm-up: ${((performance.now() - warmStarted) / 1000).toFixed(1)} s`);

  const canResetPeak = resetPeak();
  const rows: Row[] = [];
  try {
    for (const name of modelNames) {
      for (const batch of batchSizes) {
        const config = vitConfig(name, batch);
        const label = MODELS[name].label;
        const modelPath = path.join(dir, `${name}-b${batch}.onnx`);
        const buildStarted = performance.now();
        await writeVit(config, modelPath);
        const buildSeconds = (performance.now() - buildStarted) / 1000;

        const beforeMiB = residentMiB();
        resetPeak();
        const worker = new SessionWorker(WORKER_ENTRY);
        try {
          await worker.open(modelPath, 'cpu');
          const dims = [batch, config.inChannels, config.imageSize, config.imageSize];
          if (batch === batchSizes[0]) {
            // Sanity: random weights must still give finite numbers (NaN or denormals would distort timing).
            const pixels = seededFill(dims.reduce((product, dim) => product * dim, 1), 3, 1);
            const { tokens } = await worker.run({ pixels: { dims, data: pixels } }, ['tokens']);
            if (!tokens || !tokens.data.every(Number.isFinite)) throw new Error(`${label}: the output has non-finite values`);
          }
          const [warmup, runs] = REPETITIONS[name][batch] ?? [1, 3];
          const { modelMs, baselineMs } = await timeInterleaved(worker, baseline, dims, warmup, runs);
          const msPerBatch = median(modelMs);
          const baselineGflops = matMulFlops / (median(baselineMs) / 1000) / 1e9;
          for (const ms of baselineMs) baselineSamples.push(matMulFlops / (ms / 1000) / 1e9);
          const flops = vitFlopsPerImage(config) * batch;
          const slideBatches = SLIDE_BATCHES[batch];
          const slide = slidePart && slideBatches ? await slideToEmbedding(worker, config, label, slideBatches * batch, dir) : undefined;
          rows.push({
            model: label,
            batch,
            runs,
            msPerBatch,
            patchesPerSecond: batch / (msPerBatch / 1000),
            gflops: flops / (msPerBatch / 1000) / 1e9,
            baselineGflops,
            peakMiB: peakMiB(),
            beforeMiB,
            buildSeconds,
            ...(slide ? { slide } : {}),
          });
          const row = rows.at(-1)!;
          console.log(
            `${label} batch ${batch}: ${msPerBatch.toFixed(0)} ms/batch, ${row.patchesPerSecond.toFixed(2)} patches/s, ${row.gflops.toFixed(1)} GFLOP/s ` +
              `(MatMul ${baselineGflops.toFixed(1)}), peak RSS ${row.peakMiB.toFixed(0)} MiB (model written in ${buildSeconds.toFixed(1)} s)`,
          );
          if (slide) {
            console.log(
              `  slide to embedding: ${slide.cells} cells in ${(slide.wallMs / 1000).toFixed(1)} s = ${slideRate(slide).toFixed(2)} cells/s ` +
                `(in the model ${(slide.inferenceMs / 1000).toFixed(1)} s, waiting for patches ${(slide.waitMs / 1000).toFixed(1)} s)`,
            );
          }
        } finally {
          await worker.close();
          if (!keep) {
            fs.rmSync(modelPath, { force: true });
            fs.rmSync(`${modelPath}.data`, { force: true });
          }
        }
      }
    }
  } finally {
    await baseline.close();
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }

  console.log('');
  for (const name of modelNames) {
    const config = vitConfig(name, 1);
    console.log(`${MODELS[name].label}: ${(vitParameterCount(config) / 1e6).toFixed(1)} M parameters, ${(vitFlopsPerImage(config) / 1e9).toFixed(2)} GFLOP/image`);
  }
  console.log(
    `MatMul ${MATMUL_SIZE}³ baseline: median ${median(baselineSamples).toFixed(1)} GFLOP/s over ${baselineSamples.length} runs ` +
      `(min ${Math.min(...baselineSamples).toFixed(1)}, max ${Math.max(...baselineSamples).toFixed(1)})\n`,
  );
  const header = [
    'model'.padEnd(9),
    pad('batch', 5),
    pad('runs', 4),
    pad('ms/batch', 9),
    pad('patches/s', 9),
    pad('GFLOP/s', 8),
    pad('MatMul', 7),
    pad('ratio', 6),
    pad('peak MiB', 8),
    pad('before', 7),
    pad('slide/s', 7),
    pad('slide', 6),
  ].join(' ');
  console.log(header);
  console.log('-'.repeat(header.length));
  for (const row of rows) {
    console.log(
      [
        row.model.padEnd(9),
        pad(row.batch, 5),
        pad(row.runs, 4),
        pad(row.msPerBatch.toFixed(0), 9),
        pad(row.patchesPerSecond.toFixed(2), 9),
        pad(row.gflops.toFixed(1), 8),
        pad(row.baselineGflops.toFixed(1), 7),
        pad(`${((100 * row.gflops) / row.baselineGflops).toFixed(0)} %`, 6),
        pad(row.peakMiB.toFixed(0), 8),
        pad(row.beforeMiB.toFixed(0), 7),
        pad(row.slide ? slideRate(row.slide).toFixed(2) : '-', 7),
        pad(row.slide ? `${((100 * slideRate(row.slide)) / row.patchesPerSecond).toFixed(0)} %` : '-', 6),
      ].join(' '),
    );
  }
  console.log(
    `\nratio: model GFLOP/s ÷ GFLOP/s of the MatMul runs alternating with its runs (target ≥ 65 %). ` +
      (canResetPeak ? 'peak MiB: process VmHWM while the session was created and run; before: VmRSS just before.' : 'peak MiB: process maxRSS over the run so far (no per-session reset here).'),
  );
  console.log('slide/s: cells per second from slide to stored embedding (extractEmbeddings); slide: that ÷ patches/s of inference alone (target ≥ 80 %).');
  console.log(`load average at end: ${os.loadavg().map((value) => value.toFixed(2)).join(' ')}; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

await main();
