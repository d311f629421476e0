import fs from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError } from './CheckpointError';
import { cannotOpen } from './fileReading';
import type { TensorEntry, TensorSource, TensorValues } from './safetensors';

/** The file names a checkpoint format uses in a model folder. */
export interface CheckpointLayout {
  /** The JSON whose `weight_map` names the shard of every tensor, e.g. `model.safetensors.index.json`. */
  readonly indexName: string;
  /** The unsharded file, e.g. `model.safetensors`. */
  readonly singleName: string;
}

/** The shards of a checkpoint and which one holds each tensor. */
export interface Shards<Shard extends TensorSource> {
  /** The index file, or the single file. */
  readonly filePath: string;
  readonly files: readonly Shard[];
  readonly owner: ReadonlyMap<string, Shard>;
}

/**
 * Opens a checkpoint file, an index JSON, or a folder holding either (the index is preferred):
 * an index opens every shard it names, a file opens as the only shard.
 */
export async function openShards<Shard extends TensorSource>(
  target: string,
  layout: CheckpointLayout,
  openFile: (filePath: string) => Promise<Shard>,
): Promise<Shards<Shard>> {
  const filePath = await locateCheckpoint(target, layout);
  if (filePath.endsWith('.json')) return openIndex(filePath, openFile);
  const file = await openFile(filePath);
  return { filePath, files: [file], owner: new Map(file.tensors().map((entry) => [entry.name, file])) };
}

async function locateCheckpoint(target: string, { indexName, singleName }: CheckpointLayout): Promise<string> {
  const stat = await fs.stat(target).catch((error: unknown) => {
    throw cannotOpen(target, error);
  });
  if (!stat.isDirectory()) return target;
  for (const name of [indexName, singleName]) {
    const candidate = path.join(target, name);
    if (await fs.stat(candidate).then((s) => s.isFile(), () => false)) return candidate;
  }
  throw new CheckpointError(target, `holds neither ${indexName} nor ${singleName}`);
}

async function openIndex<Shard extends TensorSource>(indexPath: string, openFile: (filePath: string) => Promise<Shard>): Promise<Shards<Shard>> {
  const weightMap = await readWeightMap(indexPath);
  const folder = path.dirname(indexPath);
  const byName = new Map<string, Shard>();
  const owner = new Map<string, Shard>();
  try {
    for (const [tensor, shardName] of Object.entries(weightMap)) {
      let shard = byName.get(shardName);
      if (!shard) {
        shard = await openFile(path.join(folder, shardName));
        byName.set(shardName, shard);
      }
      if (!shard.has(tensor)) throw new CheckpointError(indexPath, `the weight_map places it in ${shardName}, which does not contain it`, tensor);
      owner.set(tensor, shard);
    }
  } catch (error) {
    await Promise.all([...byName.values()].map((shard) => shard.close()));
    throw error;
  }
  return { filePath: indexPath, files: [...byName.values()], owner };
}

async function readWeightMap(indexPath: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await fs.readFile(indexPath, 'utf8');
  } catch (error) {
    throw new CheckpointError(indexPath, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(indexPath, `is not valid JSON (${(error as Error).message})`);
  }
  const weightMap = isRecord(index) ? index.weight_map : undefined;
  if (!isRecord(weightMap)) throw new CheckpointError(indexPath, 'has no weight_map object');
  for (const [tensor, shard] of Object.entries(weightMap)) {
    // Shards must sit beside the index: no paths that climb out of the model folder.
    if (typeof shard !== 'string' || shard !== path.basename(shard) || shard === '..' || shard === '.') {
      throw new CheckpointError(indexPath, `weight_map entry ${JSON.stringify(shard)} is not a file name beside the index`, tensor);
    }
  }
  return weightMap as Record<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A checkpoint over one or more shard files, each tensor read from the shard that holds it. */
export abstract class ShardedCheckpoint<Shard extends TensorSource> implements TensorSource {
  /** The index file, or the single file. */
  readonly filePath: string;
  protected readonly shards: readonly Shard[];
  private readonly owner: ReadonlyMap<string, Shard>;

  protected constructor({ filePath, files, owner }: Shards<Shard>) {
    this.filePath = filePath;
    this.shards = files;
    this.owner = owner;
  }

  tensors(): readonly TensorEntry[] {
    return [...this.owner.entries()].map(([name, shard]) => shard.entry(name));
  }

  has(name: string): boolean {
    return this.owner.has(name);
  }

  entry(name: string): TensorEntry {
    return this.shardOf(name).entry(name);
  }

  async read(name: string): Promise<TensorValues> {
    return this.shardOf(name).read(name);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.close()));
  }

  private shardOf(name: string): Shard {
    const shard = this.owner.get(name);
    if (!shard) throw new CheckpointError(this.filePath, 'missing from the checkpoint', name);
    return shard;
  }
}
