import fs from 'node:fs/promises';
import path from 'node:path';
import type { Graph, Tensor } from '../../graph/Graph';
import { writeModel } from '../../graph/writeModel';
import type { WriteModelOptions, WrittenModel } from '../../graph/writeModel';
import { CheckpointError } from '../CheckpointError';
import { PYTORCH_INDEX_NAME, PYTORCH_SINGLE_NAME, PyTorchCheckpoint } from '../checkpoints/PyTorchCheckpoint';
import { SAFETENSORS_INDEX_NAME, SAFETENSORS_SINGLE_NAME, SafetensorsCheckpoint } from '../safetensors';
import type { TensorSource } from '../safetensors';
import type { VitConfig } from '../vit';
import { buildVitGraph } from '../vit';
import type { ConfiguredVit } from './checkpointConfig';
import { readCheckpointConfig } from './checkpointConfig';
import { checkpointWeights } from './checkpointWeights';
import { addEmbeddingOutput } from './embeddingOutput';
import type { InspectedCheckpoint } from './inspectCheckpoint';
import { inspectCheckpoint } from './inspectCheckpoint';
import type { PresetRecognition } from './recognisePreset';
import { recognisePreset } from './recognisePreset';
import type { EmbeddingRule, VitBuildOptions } from './VitArchitecture';
import { toVitConfig } from './VitArchitecture';

export const CONFIG_FILE_NAME = 'config.json';

export interface OpenVitCheckpointOptions {
  /** Opens the folder's tensors (default: `openCheckpointTensors`). */
  readonly openTensors?: (folder: string) => Promise<TensorSource & { readonly filePath: string }>;
}

export interface VitGraphOptions extends VitBuildOptions {
  /** Default: the recognised preset's rule, else the class token. */
  readonly embedding?: EmbeddingRule;
}

export interface CompiledVit {
  readonly graph: Graph;
  readonly config: VitConfig;
  readonly embedding: EmbeddingRule;
  readonly tokens: Tensor;
  readonly unusedTensors: readonly string[];
}

/**
 * A Hugging Face / timm checkpoint folder (config.json + weights) read as a ViT: what its
 * config declares, checked against its tensors, and which known model it is. The tensors stay
 * open (weights are streamed when a graph is written): `close` when done.
 */
export class VitCheckpoint {
  private constructor(
    readonly folder: string,
    readonly configPath: string,
    /** The weights file (or shard index). */
    readonly weightsPath: string,
    readonly tensors: TensorSource,
    readonly configured: ConfiguredVit,
    readonly inspected: InspectedCheckpoint,
    readonly recognition: PresetRecognition,
  ) {}

  static async open(folder: string, options: OpenVitCheckpointOptions = {}): Promise<VitCheckpoint> {
    const configPath = path.join(folder, CONFIG_FILE_NAME);
    const configured = readCheckpointConfig(await readJson(configPath), configPath);
    const tensors = await (options.openTensors ?? openCheckpointTensors)(folder);
    try {
      const inspected = inspectCheckpoint(configured, tensors, tensors.filePath);
      const hints = [...inspected.nameHints, path.resolve(folder)];
      const recognition = recognisePreset(inspected.architecture, inspected.layout, hints);
      return new VitCheckpoint(folder, configPath, tensors.filePath, tensors, configured, inspected, recognition);
    } catch (error) {
      await tensors.close();
      throw error;
    }
  }

  /** The embedding rule of the recognised preset, else the class token. */
  get defaultEmbedding(): EmbeddingRule {
    return this.recognition.kind === 'matched' ? this.recognition.preset.embedding : 'cls';
  }

  /** The graph: input `pixels` [B,3,S,S], outputs `tokens` [B,T,D] and `embedding`. */
  buildGraph(options: VitGraphOptions = {}): CompiledVit {
    const config = toVitConfig(this.inspected.architecture, options);
    const embedding = options.embedding ?? this.defaultEmbedding;
    const { weights, unusedTensors } = checkpointWeights(this.tensors, this.weightsPath, this.inspected, config);
    const graph = buildVitGraph(config, weights, path.basename(path.resolve(this.folder)));
    const tokens = graph.outputs[0]!;
    addEmbeddingOutput(graph, tokens, config, embedding);
    return { graph, config, embedding, tokens, unusedTensors };
  }

  /** Builds the graph and writes it as an ONNX file with external data, streaming the weights. */
  async writeModel(modelPath: string, options: VitGraphOptions = {}, writeOptions: WriteModelOptions = {}): Promise<CompiledVit & { written: WrittenModel }> {
    const compiled = this.buildGraph(options);
    const written = await writeModel(compiled.graph, modelPath, writeOptions);
    return { ...compiled, written };
  }

  async close(): Promise<void> {
    await this.tensors.close();
  }
}

/** Opens the folder, writes its ONNX model and closes it again. */
export async function compileVitCheckpoint(
  folder: string,
  modelPath: string,
  options: VitGraphOptions & OpenVitCheckpointOptions = {},
  writeOptions: WriteModelOptions = {},
): Promise<CompiledVit & { written: WrittenModel; checkpoint: VitCheckpoint }> {
  const checkpoint = await VitCheckpoint.open(folder, options);
  try {
    return { ...(await checkpoint.writeModel(modelPath, options, writeOptions)), checkpoint };
  } finally {
    await checkpoint.close();
  }
}

/**
 * The folder's weights: safetensors (single or sharded) when present, since they need no
 * unpickling; otherwise `pytorch_model.bin` (single or sharded) through the restricted reader.
 */
export async function openCheckpointTensors(folder: string): Promise<TensorSource & { readonly filePath: string }> {
  const exists = (name: string) => fs.stat(path.join(folder, name)).then((stat) => stat.isFile(), () => false);
  if ((await exists(SAFETENSORS_INDEX_NAME)) || (await exists(SAFETENSORS_SINGLE_NAME))) return SafetensorsCheckpoint.open(folder);
  if ((await exists(PYTORCH_INDEX_NAME)) || (await exists(PYTORCH_SINGLE_NAME))) return PyTorchCheckpoint.open(folder);
  throw new CheckpointError(folder, `holds no weights: neither ${SAFETENSORS_SINGLE_NAME}, ${SAFETENSORS_INDEX_NAME}, ${PYTORCH_SINGLE_NAME} nor ${PYTORCH_INDEX_NAME}`);
}

async function readJson(filePath: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(filePath, 'utf8');
  } catch (error) {
    throw new CheckpointError(filePath, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CheckpointError(filePath, `is not valid JSON (${(error as Error).message})`);
  }
}
