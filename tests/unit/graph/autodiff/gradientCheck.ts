import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { appendBackwardPass } from '../../../../src-main/services/graph/autodiff';
import type { DType, TypedArray } from '../../../../src-main/services/graph/dtype';
import { Graph } from '../../../../src-main/services/graph/Graph';
import type { Tensor } from '../../../../src-main/services/graph/Graph';
import { floatConstant, mul, reduceSum } from '../../../../src-main/services/graph/ops';
import { writeModel } from '../../../../src-main/services/graph/writeModel';
import { seededRandom } from '../ortHarness';

type FloatArray = Float32Array | Float64Array;

/** A compiled graph kept open, so finite differences rerun one session many times. */
export class GraphSession {
  private constructor(
    private readonly graph: Graph,
    private readonly session: ort.InferenceSession,
  ) {}

  static async open(graph: Graph, dir: string, fileName: string): Promise<GraphSession> {
    const modelPath = path.join(dir, `${fileName}.onnx`);
    await writeModel(graph, modelPath);
    const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    return new GraphSession(graph, session);
  }

  async run(feeds: Readonly<Record<string, TypedArray>>): Promise<Record<string, TypedArray>> {
    const inputs: Record<string, ort.Tensor> = {};
    for (const input of this.graph.inputs) {
      const data = feeds[input.name];
      if (!data) throw new Error(`no feed for ${input.name}`);
      inputs[input.name] = new ort.Tensor(input.dtype as ort.Tensor.Type, data as ort.Tensor.DataType, input.shape);
    }
    const outputs = await this.session.run(inputs);
    return Object.fromEntries(this.graph.outputs.map((output) => [output.name, outputs[output.name]!.data as TypedArray]));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

export interface InputSpec {
  readonly shape: readonly number[];
  readonly dtype?: DType;
  /** Values are uniform in [offset − scale, offset + scale) unless `values` are given. */
  readonly scale?: number;
  readonly offset?: number;
  readonly values?: TypedArray;
  /** Whether the gradient with respect to it is requested (default: floating inputs are). */
  readonly trainable?: boolean;
}

export interface Tolerance {
  readonly epsilon: number;
  readonly relative: number;
  readonly absolute: number;
}

export const FLOAT64_TOLERANCE: Tolerance = { epsilon: 1e-6, relative: 1e-6, absolute: 1e-9 };
export const FLOAT32_TOLERANCE: Tolerance = { epsilon: 1e-2, relative: 2e-2, absolute: 2e-3 };

function randomValues(spec: InputSpec, dtype: DType, random: () => number): TypedArray {
  if (spec.values) return spec.values;
  const length = spec.shape.reduce((product, dim) => product * dim, 1);
  const draw = (): number => (spec.offset ?? 0) + (random() * 2 - 1) * (spec.scale ?? 1);
  return dtype === 'float32' ? Float32Array.from({ length }, draw) : Float64Array.from({ length }, draw);
}

/** Central difference of `loss` along `direction` of one input, by the values actually fed (float32 rounding included). */
export async function directionalDifference(
  session: GraphSession,
  feeds: Readonly<Record<string, TypedArray>>,
  name: string,
  direction: ArrayLike<number>,
  epsilon: number,
): Promise<number> {
  const base = feeds[name] as FloatArray;
  const shifted = (sign: number): FloatArray => base.map((value, i) => value + sign * epsilon * direction[i]!) as FloatArray;
  const plus = shifted(1);
  const minus = shifted(-1);
  const lossAt = async (values: FloatArray): Promise<number> => Number((await session.run({ ...feeds, [name]: values })).loss![0]);
  let step = 0;
  let norm = 0;
  for (let i = 0; i < base.length; i++) {
    step += (plus[i]! - minus[i]!) * direction[i]!;
    norm += direction[i]! * direction[i]!;
  }
  return ((await lossAt(plus)) - (await lossAt(minus))) / (step / norm);
}

export function expectWithin(actual: number, expected: number, tolerance: Tolerance, what: string): void {
  const error = Math.abs(actual - expected);
  const allowed = tolerance.absolute + tolerance.relative * Math.max(Math.abs(actual), Math.abs(expected));
  expect(error, `${what}: analytic ${actual}, finite difference ${expected}`).toBeLessThanOrEqual(allowed);
}

let graphCounter = 0;

/**
 * Builds `build`'s graph over seeded random inputs, reduces its output to a scalar loss with a
 * fixed random weighting (so no gradient is trivially uniform), appends the backward pass and
 * compares every gradient element (up to `maxElements` spread over each input) with central
 * finite differences of the loss run through ORT.
 */
export async function expectGradientsMatchFiniteDifferences(
  dir: string,
  specs: readonly InputSpec[],
  build: (graph: Graph, inputs: Tensor[]) => Tensor,
  options: { dtype?: 'float32' | 'float64'; tolerance?: Tolerance; maxElements?: number; seed?: number } = {},
): Promise<void> {
  const dtype = options.dtype ?? 'float64';
  const tolerance = options.tolerance ?? (dtype === 'float64' ? FLOAT64_TOLERANCE : FLOAT32_TOLERANCE);
  const random = seededRandom(options.seed ?? 7 + graphCounter);
  const graph = new Graph('gradient_check');
  const feeds: Record<string, TypedArray> = {};
  const inputs = specs.map((spec, i) => {
    const inputDType = spec.dtype ?? dtype;
    feeds[`x${i}`] = randomValues(spec, inputDType, random);
    return graph.input(`x${i}`, inputDType, spec.shape);
  });
  const y = build(graph, inputs);
  const weighting = Array.from({ length: y.shape.reduce((product, dim) => product * dim, 1) }, () => random() * 2 - 1);
  const weighted = mul(graph, y, floatConstant(graph, y.dtype as 'float32' | 'float64', y.shape, weighting));
  const loss = y.rank === 0 ? weighted : reduceSum(graph, weighted, y.shape.map((_, i) => i), false);
  const trainable = inputs.filter((input, i) => specs[i]!.trainable ?? (input.dtype === 'float32' || input.dtype === 'float64'));
  const gradients = appendBackwardPass(graph, loss, trainable);
  graph.output(loss, 'loss');
  gradients.forEach((gradient, i) => graph.output(gradient, `grad_${trainable[i]!.name}`));
  const session = await GraphSession.open(graph, dir, `check-${graphCounter++}`);
  try {
    const results = await session.run(feeds);
    for (const input of trainable) {
      const analytic = results[`grad_${input.name}`] as FloatArray;
      const count = analytic.length;
      const step = Math.max(1, Math.floor(count / (options.maxElements ?? 24)));
      for (let element = 0; element < count; element += step) {
        const direction = new Float64Array(count);
        direction[element] = 1;
        const numeric = await directionalDifference(session, feeds, input.name, direction, tolerance.epsilon);
        expectWithin(analytic[element]!, numeric, tolerance, `d loss / d ${input.name}[${element}]`);
      }
    }
  } finally {
    await session.close();
  }
}
