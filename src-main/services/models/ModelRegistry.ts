import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { UserFacingError } from '../../contract/errors';
import type { ModelConfig, ModelInfo, Precision } from '../../contract/modelsSchemas';
import { GraphError } from '../graph/GraphError';
import { writeModelSharingData } from '../graph/writeModel';
import type { SharedWeights } from '../graph/writeModel';
import { VitCheckpoint } from './architecture/VitCheckpoint';
import { embeddingWidth } from './architecture/VitArchitecture';
import type { EmbeddingRule } from './architecture/VitArchitecture';
import { CheckpointError } from './CheckpointError';
import { OnnxModelFile } from './checkpoints/OnnxModelFile';
import type { OnnxValueInfo } from './checkpoints/OnnxModelFile';
import { defaultInputShape, defaultNormalisation, discoverOutputShape, embeddingCandidates, embeddingWidthOf, findEmbeddingTensor, isPaddleExport, writeDerivedModel } from './onnxEmbedder';
import type { EmbeddingCandidate } from './onnxEmbedder';

export interface RegisterOptions {
  /**
   * ONNX files: the tensor that is the embedding (default: the first output). A tensor that is
   * not a graph output makes a derived copy of the model in the cache with it added as one.
   */
  readonly embeddingOutput?: string;
  /** ONNX files: the NCHW shape fed at batch 1 (default: from the model's input). */
  readonly inputShape?: readonly number[];
  /** ONNX files: per-channel normalisation (default: 0.5/0.5 for PaddlePaddle exports, else ImageNet's). */
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  readonly signal?: AbortSignal;
  readonly progress?: (done: number, total: number | null, message?: string) => void;
}

interface ModelRow {
  id: number;
  name: string;
  kind: 'checkpoint-folder' | 'onnx-file';
  source_path: string;
  file_hash: string;
  preset_id: string | null;
  config_json: string;
  embedding_output: string;
  parameter_count: number;
  onnx_path: string;
  created_at: string;
}

/** The outputs a user may choose as an ONNX file's embedding, and the intermediate values it declares. */
export interface OnnxOutputChoice {
  readonly outputs: readonly OnnxValueInfo[];
  readonly valueInfo: readonly OnnxValueInfo[];
}

/** SHA-256 of a file, read as a stream (weights files are gigabytes). */
export async function hashFile(filePath: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const stream = createReadStream(filePath, { highWaterMark: 4 << 20, signal });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The project's foundation models. A checkpoint folder is compiled into
 * `<cache>/models/<hash>/model.onnx` (+ `.data`); an ONNX file is used where it is, with a chosen
 * output as the embedding. Failures name the file and the tensor or field (the readers' words)
 * and register nothing.
 */
export class ModelRegistry {
  constructor(
    private readonly db: Database,
    private readonly cacheFolder: string,
  ) {}

  list(): ModelInfo[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY id').all() as ModelRow[]).map(toInfo);
  }

  get(modelId: number): ModelInfo {
    const row = this.db.prepare('SELECT * FROM models WHERE id = ?').get(modelId) as ModelRow | undefined;
    if (!row) throw new UserFacingError('not-found', `There is no model ${modelId} in this project.`);
    return toInfo(row);
  }

  /** Registers a checkpoint folder or an .onnx file. */
  async register(sourcePath: string, options: RegisterOptions = {}): Promise<ModelInfo> {
    const resolved = path.resolve(sourcePath);
    const stat = await fs.stat(resolved).catch(() => null);
    if (!stat) throw new UserFacingError('not-found', `${resolved}: no such file or folder`, resolved);
    try {
      if (stat.isDirectory()) return await this.registerCheckpoint(resolved, options);
      if (resolved.toLowerCase().endsWith('.onnx')) return await this.registerOnnx(resolved, options);
    } catch (error) {
      if (error instanceof CheckpointError) throw new UserFacingError('invalid-argument', error.message, error.filePath);
      if (error instanceof GraphError) throw new UserFacingError('invalid-argument', `${resolved}: ${error.message}`, resolved);
      throw error;
    }
    throw new UserFacingError('invalid-argument', `${resolved}: not a checkpoint folder (config.json + weights) or an .onnx file`, resolved);
  }

  /** An ONNX file's outputs and declared intermediate values, for choosing the embedding. */
  async onnxOutputs(filePath: string): Promise<OnnxOutputChoice> {
    const model = await OnnxModelFile.open(filePath);
    try {
      return { outputs: model.outputs, valueInfo: model.valueInfo };
    } finally {
      await model.close();
    }
  }

  /** The tensors of an ONNX file a user may choose as the embedding: outputs, then pooled/projected intermediates. */
  async embeddingCandidates(filePath: string): Promise<EmbeddingCandidate[]> {
    const resolved = path.resolve(filePath);
    try {
      const model = await OnnxModelFile.open(resolved);
      try {
        return embeddingCandidates(model);
      } finally {
        await model.close();
      }
    } catch (error) {
      if (error instanceof CheckpointError) throw new UserFacingError('invalid-argument', error.message, error.filePath);
      throw error;
    }
  }

  async remove(modelId: number): Promise<void> {
    const model = this.get(modelId);
    this.db.prepare('DELETE FROM models WHERE id = ?').run(modelId);
    const stillUsed = this.db.prepare('SELECT 1 FROM models WHERE onnx_path = ?').get(model.onnxPath) !== undefined;
    const derived = model.kind === 'onnx-file' && model.onnxPath !== model.sourcePath;
    if ((model.kind === 'checkpoint-folder' || derived) && !stillUsed) {
      await fs.rm(path.dirname(model.onnxPath), { recursive: true, force: true });
    }
  }

  /**
   * The ONNX file that runs `model` at a static batch size and precision. A compiled checkpoint
   * gets variants beside its model.onnx: `model.b16.onnx` shares model.onnx's weight file
   * (only the small graph is written), and `model.fp16.onnx` (+ its own half-size weights,
   * read again from the checkpoint folder) with its batch variants likewise. Each variant is
   * written once and reused. An ONNX file runs as it is (its own batch dimension), in float32.
   */
  async variant(model: ModelInfo, batchSize: number, precision: Precision = 'float32'): Promise<string> {
    if (model.kind === 'onnx-file') {
      if (precision !== 'float32') {
        throw new UserFacingError('invalid-argument', `${model.sourcePath}: an ONNX file runs as it was exported; half precision is offered for checkpoint folders that Mitobench compiles`, model.sourcePath);
      }
      return model.onnxPath;
    }
    const base = precision === 'float32' ? model.onnxPath : model.onnxPath.replace(/\.onnx$/, '.fp16.onnx');
    const target = batchSize === 1 ? base : base.replace(/\.onnx$/, `.b${batchSize}.onnx`);
    if (await exists(target)) return target;
    const checkpoint = await VitCheckpoint.open(model.sourcePath).catch((error: unknown) => {
      throw new UserFacingError(
        'not-found',
        `${model.sourcePath}: the checkpoint folder of "${model.name}" cannot be read (${(error as Error).message}); it is needed once to build the ${precision} batch-${batchSize} model`,
        model.sourcePath,
      );
    });
    try {
      const options = { dtype: precision, embedding: (model.config.embeddingRule as EmbeddingRule | null) ?? undefined, imageSize: model.config.imageSize ?? undefined };
      if (!(await exists(base))) await checkpoint.writeModel(base, options);
      if (target !== base) await writeModelSharingData(checkpoint.buildGraph({ ...options, batchSize }).graph, target, await sharedWeightsOfFile(base));
      return target;
    } finally {
      await checkpoint.close();
    }
  }

  private async registerCheckpoint(folder: string, options: RegisterOptions): Promise<ModelInfo> {
    options.progress?.(0, 3, path.basename(folder));
    const checkpoint = await VitCheckpoint.open(folder);
    try {
      const fileHash = await hashFile(checkpoint.weightsPath, options.signal);
      options.progress?.(1, 3, path.basename(checkpoint.weightsPath));
      const outputFolder = path.join(this.cacheFolder, 'models', fileHash);
      const onnxPath = path.join(outputFolder, 'model.onnx');
      await fs.mkdir(outputFolder, { recursive: true });
      let compiled;
      try {
        compiled = await checkpoint.writeModel(onnxPath);
      } catch (error) {
        if (this.db.prepare('SELECT 1 FROM models WHERE onnx_path = ?').get(onnxPath) === undefined) await fs.rm(outputFolder, { recursive: true, force: true });
        throw error;
      }
      options.progress?.(2, 3, path.basename(onnxPath));
      const { config, embedding } = compiled;
      const architecture = checkpoint.inspected.architecture;
      const preset = checkpoint.recognition.kind === 'matched' ? checkpoint.recognition.preset : null;
      const preprocessing = preset?.preprocessing ?? (await configPreprocessing(checkpoint.configPath));
      const parameterCount = compiled.graph.initializers.reduce((sum, { tensor }) => sum + tensor.shape.reduce((product, dim) => product * dim, 1), 0);
      const imageSize = config.imageSize;
      const modelConfig: ModelConfig = {
        architecture: checkpoint.configured.description,
        inputName: compiled.graph.inputs[0]!.name,
        inputShape: [1, architecture.inChannels, imageSize, imageSize],
        imageSize,
        patchSize: architecture.patchSize,
        dim: architecture.dim,
        depth: architecture.depth,
        heads: architecture.heads,
        mlp: architecture.mlp,
        mean: preprocessing ? [...preprocessing.mean] : null,
        std: preprocessing ? [...preprocessing.std] : null,
        interpolation: preprocessing?.interpolation ?? null,
        umPerPixel: preset?.umPerPixel ?? null,
        embeddingRule: embedding,
        embeddingSize: embeddingWidth(architecture.dim, embedding),
      };
      const row = this.insert({
        name: path.basename(folder),
        kind: 'checkpoint-folder',
        sourcePath: folder,
        fileHash,
        presetId: preset?.id ?? null,
        config: modelConfig,
        embeddingOutput: 'embedding',
        parameterCount,
        onnxPath,
      });
      options.progress?.(3, 3);
      return row;
    } finally {
      await checkpoint.close();
    }
  }

  private async registerOnnx(filePath: string, options: RegisterOptions): Promise<ModelInfo> {
    options.progress?.(0, 3, path.basename(filePath));
    const model = await OnnxModelFile.open(filePath);
    const fail = (reason: string, tensor?: string): never => {
      throw new CheckpointError(filePath, reason, tensor);
    };
    try {
      if (options.embeddingOutput === undefined && !model.outputs[0]) fail('has no outputs');
      const chosen = findEmbeddingTensor(model, options.embeddingOutput ?? model.outputs[0]!.name);
      const input = model.inputs[0] ?? fail('has no inputs to feed');
      if (input.dtype !== 'F32') fail(`input "${input.name}" is ${input.dtype ?? 'not a tensor'}; an image embedder takes float32 pixels`);
      let inputShape: number[];
      try {
        inputShape = defaultInputShape(input, isPaddleExport(model), options.inputShape);
      } catch (error) {
        return fail((error as Error).message);
      }
      const normalisation = defaultNormalisation(isPaddleExport(model));
      const mean = options.mean ? [...options.mean] : normalisation.mean;
      const std = options.std ? [...options.std] : normalisation.std;
      const channels = inputShape.length === 4 ? inputShape[1]! : mean.length;
      if (mean.length !== channels || std.length !== channels) fail(`input "${input.name}" has ${channels} channels, but mean/std give ${mean.length}/${std.length} values`);
      if (std.some((value) => !(value > 0))) fail(`std ${std.join(', ')} must be positive`);
      const fileHash = await hashFile(filePath, options.signal);
      options.progress?.(1, 3, path.basename(filePath));
      let onnxPath = filePath;
      let outputShape = chosen.info.shape;
      if (!chosen.isOutput) {
        const tensorKey = createHash('sha256').update(chosen.info.name).digest('hex').slice(0, 12);
        const folder = path.join(this.cacheFolder, 'models', `${fileHash}-${tensorKey}`);
        onnxPath = await writeDerivedModel(model, chosen.info, folder);
        if (embeddingWidthOf(outputShape) === null) {
          try {
            outputShape = await discoverOutputShape(onnxPath, input.name, inputShape, chosen.info.name);
          } catch (error) {
            if (this.db.prepare('SELECT 1 FROM models WHERE onnx_path = ?').get(onnxPath) === undefined) await fs.rm(folder, { recursive: true, force: true });
            fail(`a test run to learn its shape failed: ${(error as Error).message}`, chosen.info.name);
          }
        }
      }
      options.progress?.(2, 3, path.basename(onnxPath));
      const parameterCount = model.tensors().reduce((sum, entry) => sum + entry.shape.reduce((product, dim) => product * dim, 1), 0);
      const spatial = inputShape.length === 4 && inputShape[2] === inputShape[3] ? inputShape[2]! : null;
      const modelConfig: ModelConfig = {
        architecture: `ONNX ${model.graphName || path.basename(filePath)}${model.producerName ? ` (${model.producerName})` : ''}`,
        inputName: input.name,
        inputShape,
        imageSize: spatial,
        patchSize: null,
        dim: null,
        depth: null,
        heads: null,
        mlp: null,
        mean,
        std,
        interpolation: null,
        umPerPixel: null,
        embeddingRule: null,
        embeddingSize: embeddingWidthOf(outputShape),
      };
      const info = this.insert({
        name: path.basename(filePath, path.extname(filePath)),
        kind: 'onnx-file',
        sourcePath: filePath,
        fileHash,
        presetId: null,
        config: modelConfig,
        embeddingOutput: chosen.info.name,
        parameterCount,
        onnxPath,
      });
      options.progress?.(3, 3);
      return info;
    } finally {
      await model.close();
    }
  }

  private insert(model: Omit<ModelInfo, 'id' | 'createdAt'>): ModelInfo {
    const existing = this.db
      .prepare('SELECT id FROM models WHERE source_path = ? AND file_hash = ? AND embedding_output = ?')
      .get(model.sourcePath, model.fileHash, model.embeddingOutput) as { id: number } | undefined;
    if (existing) throw new UserFacingError('invalid-argument', `${model.sourcePath}: already registered as model ${existing.id}`, model.sourcePath);
    const createdAt = new Date().toISOString();
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO models (name, kind, source_path, file_hash, preset_id, config_json, embedding_output, parameter_count, onnx_path, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(model.name, model.kind, model.sourcePath, model.fileHash, model.presetId, JSON.stringify(model.config), model.embeddingOutput, model.parameterCount, model.onnxPath, createdAt)
        .lastInsertRowid,
    );
    return { ...model, id, createdAt };
  }
}

function toInfo(row: ModelRow): ModelInfo {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    sourcePath: row.source_path,
    fileHash: row.file_hash,
    presetId: row.preset_id,
    config: JSON.parse(row.config_json) as ModelConfig,
    embeddingOutput: row.embedding_output,
    parameterCount: row.parameter_count,
    onnxPath: row.onnx_path,
    createdAt: row.created_at,
  };
}

/** The weights file of an ONNX model written by writeModel, to share with another graph. */
export async function sharedWeightsOfFile(onnxPath: string): Promise<SharedWeights> {
  const file = await OnnxModelFile.open(onnxPath);
  try {
    return file.sharedWeights();
  } finally {
    await file.close();
  }
}

async function exists(filePath: string): Promise<boolean> {
  return fs.access(filePath).then(
    () => true,
    () => false,
  );
}

/** mean/std/interpolation from a timm config's pretrained_cfg, when it states them. */
async function configPreprocessing(configPath: string): Promise<{ mean: number[]; std: number[]; interpolation: string | undefined } | null> {
  const parsed = JSON.parse(await fs.readFile(configPath, 'utf8')) as { pretrained_cfg?: { mean?: unknown; std?: unknown; interpolation?: unknown } };
  const cfg = parsed.pretrained_cfg;
  const triple = (value: unknown) => (Array.isArray(value) && value.length === 3 && value.every((x) => typeof x === 'number') ? (value as number[]) : null);
  const mean = triple(cfg?.mean);
  const std = triple(cfg?.std);
  if (!mean || !std) return null;
  return { mean, std, interpolation: typeof cfg?.interpolation === 'string' ? cfg.interpolation : undefined };
}
