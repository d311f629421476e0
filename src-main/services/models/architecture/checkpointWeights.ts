import type { TypedArray } from '../../graph/dtype';
import { float32ToFloat16 } from '../../graph/halfPrecision';
import { CheckpointError } from '../CheckpointError';
import type { TensorSource, TensorValues } from '../safetensors';
import type { VitConfig, VitParameter, VitWeights } from '../vit';
import { patchGrid, vitParameters } from '../vit';
import type { InspectedCheckpoint } from './inspectCheckpoint';
import { resamplePositionEmbedding } from './positionEmbedding';
import type { WeightSource } from './weightNames';
import { isKnownUnused, storedNames, weightSource } from './weightNames';

export interface CheckpointWeights {
  /** Lazy: each parameter is read (and converted) only when the emitter asks for it. */
  readonly weights: VitWeights;
  /** Stored tensors no parameter reads, other than the layout's known extras (pooler, mask token, head). */
  readonly unusedTensors: readonly string[];
}

const product = (shape: readonly number[]) => shape.reduce((total, dim) => total * dim, 1);

function floatValues(values: TensorValues, filePath: string, name: string): Float32Array | Float64Array {
  if (values instanceof Float32Array || values instanceof Float64Array) return values;
  throw new CheckpointError(filePath, `holds ${values.constructor.name} values, not floating point`, name);
}

function toDType(values: ArrayLike<number>, dtype: VitConfig['dtype']): TypedArray {
  if (dtype === 'float32') return values instanceof Float32Array ? values : Float32Array.from(values);
  if (dtype === 'float16') return float32ToFloat16(values);
  return values instanceof Float64Array ? values : Float64Array.from(values);
}

/**
 * The weights of `config` from a checkpoint, in timm names: HF query/key/value concatenated
 * into qkv, the position embedding resampled to the configured grid (its prefix entries kept),
 * and for HF Dinov2 with registers the class position folded into the class token. Every mapped
 * tensor's presence and shape is checked now, so a bad checkpoint fails before any graph is
 * written, naming the tensor.
 */
export function checkpointWeights(tensors: TensorSource, checkpointPath: string, inspected: InspectedCheckpoint, config: VitConfig): CheckpointWeights {
  const { layout, prefix, architecture } = inspected;
  const options = { layout, prefix, swiglu: config.mlp === 'swiglu-packed', qkvBias: inspected.qkvBias };
  const stored = storedNames(layout);
  const posName = prefix + stored.pos;
  const clsName = prefix + stored.cls;
  const used = new Set<string>();
  const sources = new Map<string, WeightSource>();

  const expectShape = (name: string, shape: readonly number[]) => {
    if (!tensors.has(name)) throw new CheckpointError(checkpointPath, 'is missing from the checkpoint', name);
    const actual = tensors.entry(name).shape;
    if (actual.length !== shape.length || actual.some((dim, i) => dim !== shape[i])) {
      throw new CheckpointError(checkpointPath, `has shape [${actual.join(',')}], but the architecture needs [${shape.join(',')}]`, name);
    }
    used.add(name);
  };

  for (const parameter of vitParameters(config)) {
    const source = weightSource(parameter.name, options);
    sources.set(parameter.name, source);
    if (parameter.name === 'pos_embed') {
      const prefixTokens = inspected.foldClassPosition ? 1 : architecture.noEmbedClass ? 0 : 1 + architecture.registerTokens;
      expectShape(posName, [1, prefixTokens + inspected.storedGrid ** 2, config.dim]);
    } else if (source.kind === 'tensor') {
      expectShape(source.name, parameter.shape);
    } else if (source.kind === 'rows') {
      const rows = parameter.shape[0]! / source.names.length;
      for (const name of source.names) expectShape(name, [rows, ...parameter.shape.slice(1)]);
    }
  }

  const read = async (name: string) => floatValues(await tensors.read(name), checkpointPath, name);

  const positionEmbedding = async (): Promise<ArrayLike<number>> => {
    let values: ArrayLike<number> = await read(posName);
    let prefixTokens = architecture.noEmbedClass ? 0 : 1 + architecture.registerTokens;
    if (inspected.foldClassPosition) {
      values = (values as Float32Array | Float64Array).subarray(config.dim);
      prefixTokens = 0;
    }
    const grid = patchGrid(config);
    if (grid === inspected.storedGrid) return values;
    return resamplePositionEmbedding(values, config.dim, prefixTokens, inspected.storedGrid, grid, inspected.resampling);
  };

  const classToken = async (): Promise<ArrayLike<number>> => {
    const cls = await read(clsName);
    if (!inspected.foldClassPosition) return cls;
    const pos = await read(posName);
    return Float64Array.from(cls, (value, d) => value + pos[d]!);
  };

  const load = async ({ name, shape }: VitParameter): Promise<TypedArray> => {
    if (name === 'pos_embed') return toDType(await positionEmbedding(), config.dtype);
    if (name === 'cls_token') return toDType(await classToken(), config.dtype);
    const source = sources.get(name)!;
    if (source.kind === 'zeros') return toDType(new Float64Array(product(shape)), config.dtype);
    if (source.kind === 'tensor') return toDType(await read(source.name), config.dtype);
    const out = config.dtype === 'float64' ? new Float64Array(product(shape)) : new Float32Array(product(shape));
    let offset = 0;
    for (const part of source.names) {
      const values = await read(part);
      out.set(values, offset);
      offset += values.length;
    }
    return toDType(out, config.dtype);
  };

  const unusedTensors = tensors
    .tensors()
    .map((entry) => entry.name)
    .filter((name) => !used.has(name) && !(name.startsWith(prefix) && isKnownUnused(name.slice(prefix.length), layout)));
  return { weights: (parameter) => () => load(parameter), unusedTensors };
}
