import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdapterInfo, TrainingSpecInput } from '../../../src-main/contract/trainingSchemas';
import { loraSettingsSchema, trainingSpecSchema } from '../../../src-main/contract/trainingSchemas';
import { AnnotationStore } from '../../../src-main/services/annotations/AnnotationStore';
import { JobRunner } from '../../../src-main/services/jobs/JobRunner';
import { ModelRegistry } from '../../../src-main/services/models/ModelRegistry';
import { ModelRuntime } from '../../../src-main/services/models/runtime/ModelRuntime';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { SlideLibrary } from '../../../src-main/services/slides/SlideLibrary';
import { TileCache } from '../../../src-main/services/slides/TileCache';
import { trainingCells } from '../../../src-main/services/training/labelSnapshot';
import { TrainingService } from '../../../src-main/services/training/TrainingService';
import type { ModelInfo } from '../../../src-main/contract/modelsSchemas';
import { squareCentre, writeSyntheticPyramid } from '../../fixtures/syntheticSlides';

const GOLDEN = path.join(import.meta.dirname, '..', 'models', 'architecture', 'golden', 'timm-gelu');
const SESSION_ENTRY = { file: path.join(import.meta.dirname, '..', 'models', 'runtimeWorkerEntry.mjs') };
const AUGMENT_ENTRY = { file: path.join(import.meta.dirname, 'data', 'augmentWorkerEntry.mjs') };
const MITOTIC = 1;
const IMPOSTER = 2;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-training-'));
let project: ProjectDatabase;
let library: SlideLibrary;
let jobs: JobRunner;
let service: TrainingService;
let model: ModelInfo;
const slideIds: number[] = [];

beforeAll(async () => {
  project = ProjectDatabase.create(path.join(dir, 'project'), 'Training');
  library = new SlideLibrary(new SlideCatalog(project.db), path.join(project.cacheFolder, 'thumbnails'), new TileCache(32 << 20), project.projectKey);
  const store = new AnnotationStore(project.db);
  const person = store.ensureAnnotator('Ada').id;
  // Three slides at 0.25 µm/px; the model's 32-pixel patches at 0.5 µm/px cover one 64-pixel square.
  // Red squares are "mitotic figures", blue ones "imposters": a task the tiny ViT's features separate.
  for (const name of ['a.tif', 'b.tif', 'c.tif']) {
    const slide = await writeSyntheticPyramid(dir, { width: 1024, height: 768, compression: 'lzw', mpp: 0.25, fileName: name });
    const id = (await library.add([slide.path])).added[0]!.id;
    slideIds.push(id);
    for (let column = 1; column < 7; column++) {
      for (let row = 1; row < 5; row++) {
        const colour = (column + 3 * row) % 4;
        if (colour !== 0 && colour !== 2) continue;
        store.createAnnotation(id, { shape: 'point', ...squareCentre(column, row) }, person, colour === 0 ? MITOTIC : IMPOSTER);
      }
    }
  }
  const folder = path.join(dir, 'tiny-vit');
  fs.mkdirSync(folder);
  for (const file of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(GOLDEN, file), path.join(folder, file));
  const registry = new ModelRegistry(project.db, project.cacheFolder);
  model = await registry.register(folder);
  jobs = new JobRunner(project.db, () => undefined);
  service = new TrainingService({
    db: project.db,
    library,
    registry,
    runtime: new ModelRuntime({ entry: SESSION_ENTRY, candidates: ['cpu'] }),
    jobs,
    appVersion: 'test',
    augmentEntry: AUGMENT_ENTRY,
  });
}, 60_000);

afterAll(async () => {
  await jobs?.stopAll();
  await library?.close();
  project?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function spec(input: Partial<TrainingSpecInput>) {
  return trainingSpecSchema.parse({ modelId: model.id, method: 'linear-probe', slideIds, classIds: [MITOTIC, IMPOSTER], ...input });
}

async function train(input: Partial<TrainingSpecInput>): Promise<AdapterInfo> {
  const { adapterId, finished } = service.start(spec(input));
  await finished;
  return service.store.get(adapterId);
}

describe('linear probe', () => {
  it('extracts the missing embeddings, fits on the training slides, validates on a held-out slide and records how to reproduce it', async () => {
    const adapter = await train({ validationFraction: 0.34, seed: 3 });
    expect(adapter.status).toBe('ready');
    expect(adapter.error).toBeNull();
    expect(adapter.record).toMatchObject({ modelHash: model.fileHash, classNames: ['mitotic figure', 'non-mitotic figure (imposter)'], seed: 3, appVersion: 'test' });
    expect(adapter.record.validationSlides).toHaveLength(1);
    expect(adapter.record.trainSlides).not.toContain(adapter.record.validationSlides[0]);
    expect(adapter.record.labelSnapshotHash).toMatch(/^[0-9a-f]{64}$/);
    expect(adapter.history).toHaveLength(1);
    // Red versus blue squares: the probe tells every held-out cell apart.
    expect(adapter.history[0]!.validationBalancedAccuracy).toBe(1);

    const result = await service.predict(adapter.id, { slideIds: adapter.record.validationSlides, points: [{ slideId: slideIds[0]!, ...squareCentre(3, 3) }] });
    expect(result).toEqual({ predicted: adapter.record.validationCells + 1, cancelled: false });
    const predictions = service.predictions(adapter.id, undefined, 1000);
    expect(predictions).toHaveLength(adapter.record.validationCells + 1);
    const point = predictions.find((p) => p.annotationId === null)!;
    // Square (3, 3): colour (3 + 9) % 4 = 0, red: a "mitotic figure" (class index 0).
    expect(point.predicted).toBe(0);
    for (const p of predictions) expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('refuses a task whose training cells lack a class, naming it, and creates no adapter', async () => {
    const before = service.store.list().length;
    const unused = new AnnotationStore(project.db).createClass({ name: 'prophase', colour: '#ff00ff' });
    expect(() => service.start(spec({ classIds: [MITOTIC, unused.id] }))).toThrow(/The training cells have no "prophase" \(counts: mitotic figure \d+, prophase 0\)/);
    expect(() => service.start(spec({ method: 'lora', positiveClassId: unused.id }))).toThrow(/positive class/);
    expect(() => service.start(spec({ classIds: [MITOTIC, 999] }))).toThrow('There is no class 999 in this project.');
    expect(service.store.list()).toHaveLength(before);
  });
});

describe('LoRA', () => {
  const lora = { batchSize: 4, patchesPerEpoch: 8, maxEpochs: 3, patience: 10, learningRate: 1e-3 };

  it('trains pseudo-epochs with validation, keeps the best parameters, and a cancelled run resumes on the same trajectory', async () => {
    const whole = await train({ method: 'lora', seed: 5, lora });
    expect(whole.status).toBe('ready');
    expect(whole.history.map((record) => record.epoch)).toEqual([0, 1, 2]);
    for (const record of whole.history) {
      expect(record.trainLoss).toBeGreaterThan(0);
      expect(record.validationLoss).toBeGreaterThan(0);
      expect(record.provider).toBe('cpu');
    }

    // The same spec again, cancelled once its first pseudo-epoch is stored, then resumed.
    const { adapterId, finished } = service.start(spec({ method: 'lora', seed: 5, lora }));
    await waitFor(() => service.store.get(adapterId).history.length >= 1);
    const running = jobs.list().find((job) => job.state === 'running' && job.kind === 'training')!;
    jobs.cancel(running.id);
    await finished;
    const cancelled = service.store.get(adapterId);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.resumable).toBe(true);
    expect(cancelled.history.length).toBeLessThan(3);
    await service.resume(adapterId).finished;
    const resumed = service.store.get(adapterId);
    expect(resumed.status).toBe('ready');
    expect(resumed.history.map(({ trainLoss, validationLoss }) => [trainLoss, validationLoss])).toEqual(whole.history.map(({ trainLoss, validationLoss }) => [trainLoss, validationLoss]));

    const result = await service.predict(adapterId, { slideIds: [slideIds[0]!] });
    expect(result.cancelled).toBe(false);
    const predictions = service.predictions(adapterId, slideIds[0], 100);
    expect(predictions.length).toBe(result.predicted);
    for (const p of predictions) expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  }, 120_000);

  it('trains and predicts in memory for a study run (the study engine\'s LoraRunner), storing no adapter', async () => {
    const before = service.store.list().length;
    const cells = trainingCells(project.db, slideIds, [MITOTIC, IMPOSTER], { kind: 'consensus' });
    const asStudy = (cell: (typeof cells)[number]) => ({ annotationId: cell.annotationId, slideNumber: cell.slideId, x: cell.x, y: cell.y, classIndex: cell.label });
    const onSlide = (index: number) => cells.filter((cell) => cell.slideId === slideIds[index]).map(asStudy);
    const runner = service.loraRunner(loraSettingsSchema.parse(lora));
    const probabilities = await runner.trainAndPredict({
      modelId: model.id,
      classIds: [MITOTIC, IMPOSTER],
      positiveClassId: MITOTIC,
      trainCells: onSlide(0),
      validationCells: onSlide(1),
      testCells: onSlide(2),
      seed: 1,
      signal: new AbortController().signal,
    });
    expect(probabilities).toHaveLength(onSlide(2).length * 2);
    for (let row = 0; row < onSlide(2).length; row++) expect(probabilities[2 * row]! + probabilities[2 * row + 1]!).toBeCloseTo(1, 5);
    expect(service.store.list()).toHaveLength(before);
  }, 60_000);

  it('is refused for a model that is an ONNX file', async () => {
    const ocr = path.join(import.meta.dirname, '..', '..', '..', 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
    const onnx = await new ModelRegistry(project.db, project.cacheFolder).register(ocr, { embeddingOutput: 'p2o.GlobalAveragePool.19' });
    expect(() => service.start(spec({ method: 'lora', modelId: onnx.id }))).toThrow(/ONNX file; LoRA adapts the ViT/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
