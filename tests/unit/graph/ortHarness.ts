import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import type { Graph } from '../../../src-main/services/graph/Graph';
import type { TypedArray } from '../../../src-main/services/graph/dtype';
import { writeModel } from '../../../src-main/services/graph/writeModel';
import { seededRandom } from '../../../src-main/services/random/seededRandom';
import type { WriteModelOptions } from '../../../src-main/services/graph/writeModel';

export function makeTempDir(prefix = 'mitobench-graph-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The services' seeded generator (mulberry32), so every test sees the same "random" inputs. */
export { seededRandom };

/** Uniform values in [-scale, scale). */
export function randomFloat32(length: number, random: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length }, () => (random() * 2 - 1) * scale);
}

export function randomFloat64(length: number, random: () => number, scale = 1): Float64Array {
  return Float64Array.from({ length }, () => (random() * 2 - 1) * scale);
}

export interface RunResult {
  readonly dims: readonly number[];
  readonly data: TypedArray;
}

let modelCounter = 0;

/** Writes the graph into `dir`, loads it in ORT from its path (pitfall 9) and runs it once. */
export async function runGraph(
  graph: Graph,
  feeds: Record<string, TypedArray>,
  dir: string,
  writeOptions: WriteModelOptions = {},
): Promise<Record<string, RunResult>> {
  const modelPath = path.join(dir, `model-${modelCounter++}.onnx`);
  await writeModel(graph, modelPath, writeOptions);
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const input of graph.inputs) {
      const data = feeds[input.name];
      if (!data) throw new Error(`no feed for ${input.name}`);
      inputs[input.name] = new ort.Tensor(input.dtype as ort.Tensor.Type, data as ort.Tensor.DataType, input.shape);
    }
    const outputs = await session.run(inputs);
    const result: Record<string, RunResult> = {};
    for (const output of graph.outputs) {
      const tensor = outputs[output.name]!;
      // ORT's dims must equal the builder's static shape inference.
      expect([...tensor.dims], `shape of ${output.name}`).toEqual([...output.shape]);
      result[output.name] = { dims: tensor.dims, data: tensor.data as TypedArray };
    }
    return result;
  } finally {
    await session.release();
  }
}

/** Element-wise |actual − expected| ≤ absolute + relative·|expected|, reporting the worst index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, absolute = 1e-5, relative = 1e-5): void {
  expect(actual.length, 'length').toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i]! - expected[i]!) - (absolute + relative * Math.abs(expected[i]!));
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`index ${worst}: got ${actual[worst]}, expected ${expected[worst]} (tolerance ${absolute} + ${relative}·|expected|)`);
  }
}
