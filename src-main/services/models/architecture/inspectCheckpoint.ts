import { CheckpointError } from '../CheckpointError';
import type { TensorSource } from '../safetensors';
import type { ConfiguredVit } from './checkpointConfig';
import type { PositionResampling } from './positionEmbedding';
import type { CheckpointLayout, VitArchitecture } from './VitArchitecture';
import { layoutResampling } from './VitArchitecture';
import { LAYOUT_ANCHOR, storedMlpNames, storedNames } from './weightNames';

/** The tensor listing the inspection needs (a safetensors file, a PyTorch checkpoint, …). */
export type TensorListing = Pick<TensorSource, 'tensors' | 'has' | 'entry'>;

/**
 * A checkpoint's architecture after its config has been checked against its tensors. Where the
 * config cannot say (timm configs hold no `mlp_layer`) or says otherwise, the tensors win and
 * `notes` says so (MODELS.md: "where a real checkpoint disagrees, the checkpoint wins").
 */
export interface InspectedCheckpoint {
  readonly layout: CheckpointLayout;
  readonly architecture: VitArchitecture;
  /** Prepended to every stored name ("vit.", "model.", …; usually ""). */
  readonly prefix: string;
  readonly qkvBias: boolean;
  /** Patch grid (side) of the stored position embedding. */
  readonly storedGrid: number;
  /** HF Dinov2 with registers: the class position is folded into the class token (timm's conversion). */
  readonly foldClassPosition: boolean;
  readonly resampling: PositionResampling;
  readonly description: string;
  readonly nameHints: readonly string[];
  readonly notes: readonly string[];
}

function findPrefix(configured: ConfiguredVit, names: readonly string[], checkpointPath: string): string {
  const anchor = LAYOUT_ANCHOR[configured.layout];
  const prefixes = names.filter((name) => name.endsWith(anchor)).map((name) => name.slice(0, name.length - anchor.length));
  const usable = prefixes.filter((prefix) => prefix === '' || prefix.endsWith('.')).sort((a, b) => a.length - b.length);
  if (usable.length > 0) return usable[0]!;
  const otherLayout = configured.layout === 'timm' ? 'Hugging Face' : 'timm';
  const otherAnchor = configured.layout === 'timm' ? LAYOUT_ANCHOR['hf-vit'] : LAYOUT_ANCHOR.timm;
  if (names.some((name) => name.endsWith(otherAnchor))) {
    throw new CheckpointError(checkpointPath, `config.json declares ${configured.description}, but the tensors are named like a ${otherLayout} checkpoint`, otherAnchor);
  }
  throw new CheckpointError(checkpointPath, `not found: the checkpoint is not a ViT of ${configured.description}`, anchor);
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((dim, i) => dim === b[i]);

function perfectSquareRoot(value: number): number | undefined {
  if (value < 1) return undefined;
  const root = Math.round(Math.sqrt(value));
  return root * root === value ? root : undefined;
}

export function inspectCheckpoint(configured: ConfiguredVit, tensors: TensorListing, checkpointPath: string): InspectedCheckpoint {
  const names = tensors.tensors().map((entry) => entry.name);
  const prefix = findPrefix(configured, names, checkpointPath);
  const { layout } = configured;
  const shapeOf = (name: string): readonly number[] | undefined => (tensors.has(prefix + name) ? tensors.entry(prefix + name).shape : undefined);
  const fail = (name: string, reason: string): never => {
    throw new CheckpointError(checkpointPath, reason, prefix + name);
  };
  const notes: string[] = [];
  const stated = configured.architecture;

  const patchName = LAYOUT_ANCHOR[layout];
  const patch = shapeOf(patchName)!;
  const expectedPatch = [stated.dim, stated.inChannels, stated.patchSize, stated.patchSize];
  if (!sameShape(patch, expectedPatch)) {
    fail(patchName, `has shape [${patch.join(',')}], but config.json gives [dim ${stated.dim}, channels ${stated.inChannels}, patch ${stated.patchSize}, ${stated.patchSize}]`);
  }

  const blockPattern = layout === 'timm' ? /^blocks\.(\d+)\./ : /^encoder\.layer\.(\d+)\./;
  let depth = 0;
  for (const name of names) {
    const match = name.startsWith(prefix) ? blockPattern.exec(name.slice(prefix.length)) : null;
    if (match) depth = Math.max(depth, Number(match[1]) + 1);
  }
  if (depth !== stated.depth) {
    throw new CheckpointError(checkpointPath, `config.json gives depth ${stated.depth}, but the checkpoint holds ${depth} blocks`);
  }

  // MLP kind and width: packed SwiGLU when fc1 has twice the rows of fc2's columns (MODELS.md 4).
  const dinoSwiglu = layout === 'hf-dinov2' && shapeOf(`${storedMlpNames(layout, 0, true).fc1}.weight`) !== undefined;
  const mlpNames = storedMlpNames(layout, 0, dinoSwiglu);
  const fc1 = shapeOf(`${mlpNames.fc1}.weight`) ?? fail(`${mlpNames.fc1}.weight`, 'is missing from the checkpoint');
  const fc2 = shapeOf(`${mlpNames.fc2}.weight`) ?? fail(`${mlpNames.fc2}.weight`, 'is missing from the checkpoint');
  const mlp: VitArchitecture['mlp'] =
    fc1[0] === fc2[1]
      ? 'gelu'
      : fc1[0] === 2 * fc2[1]!
        ? 'swiglu-packed'
        : fail(`${mlpNames.fc2}.weight`, `has shape [${fc2.join(',')}], which fits neither a GELU nor a packed SwiGLU MLP after fc1 [${fc1.join(',')}]`);
  if (layout === 'hf-vit' && mlp === 'swiglu-packed') fail(`${mlpNames.fc1}.weight`, 'has the shape of a gated MLP, which HF ViT does not have');
  const mlpWidth = fc1[0]!;
  if (mlp !== stated.mlp || mlpWidth !== stated.mlpWidth) {
    const statedText = configured.mlpStated ? `config.json gives ${stated.mlp} of width ${stated.mlpWidth}` : `the timm config cannot state the MLP layer (defaults: ${stated.mlp}, width ${stated.mlpWidth})`;
    notes.push(`${statedText}; the tensors show ${mlp === 'gelu' ? 'a GELU MLP' : 'a packed SwiGLU MLP'} with fc1 of ${mlpWidth} rows: using the tensors`);
  }

  let layerScale = stated.layerScale;
  if (layout === 'timm') {
    layerScale = shapeOf('blocks.0.ls1.gamma') !== undefined;
    if (layerScale !== stated.layerScale) {
      notes.push(`config.json ${stated.layerScale ? 'sets' : 'does not set'} init_values, but the checkpoint ${layerScale ? 'holds' : 'lacks'} layer scales (blocks.0.ls1.gamma): using the checkpoint`);
    }
  }

  const stored = storedNames(layout);
  const registerShape = shapeOf(stored.registers);
  const registerTokens = registerShape ? registerShape[1]! : 0;
  if (registerShape && !sameShape(registerShape, [1, registerTokens, stated.dim])) fail(stored.registers, `has shape [${registerShape.join(',')}], expected [1, R, ${stated.dim}]`);
  if (registerTokens !== stated.registerTokens) {
    notes.push(`config.json gives ${stated.registerTokens} register tokens, the checkpoint holds ${registerTokens}: using the checkpoint`);
  }

  const pos = shapeOf(stored.pos) ?? fail(stored.pos, 'is missing from the checkpoint');
  if (pos.length !== 3 || pos[0] !== 1 || pos[2] !== stated.dim) fail(stored.pos, `has shape [${pos.join(',')}], expected [1, tokens, ${stated.dim}]`);
  const positions = pos[1]!;
  let noEmbedClass: boolean;
  let storedGrid: number;
  if (layout === 'timm') {
    const withPrefix = perfectSquareRoot(positions - 1 - registerTokens);
    const patchesOnly = perfectSquareRoot(positions);
    // Tiny grids can fit both readings (4 registers: 1+4+2² = 3²): the config decides then.
    const preferred = stated.noEmbedClass ? patchesOnly : withPrefix;
    if (preferred !== undefined) {
      noEmbedClass = stated.noEmbedClass;
      storedGrid = preferred;
    } else if ((stated.noEmbedClass ? withPrefix : patchesOnly) !== undefined) {
      noEmbedClass = !stated.noEmbedClass;
      storedGrid = (noEmbedClass ? patchesOnly : withPrefix)!;
      notes.push(`config.json gives no_embed_class ${stated.noEmbedClass}, but pos_embed holds ${positions} positions: using no_embed_class ${noEmbedClass}`);
    } else {
      return fail(stored.pos, `holds ${positions} positions, which is neither a square grid nor 1 + ${registerTokens} + a square grid`);
    }
  } else {
    storedGrid = perfectSquareRoot(positions - 1) ?? fail(stored.pos, `holds ${positions} positions, which is not 1 + a square grid`);
    noEmbedClass = registerTokens > 0;
  }
  const configuredGrid = stated.imageSize / stated.patchSize;
  if (storedGrid !== configuredGrid) {
    notes.push(`the position embedding is stored for a ${storedGrid}×${storedGrid} grid, config.json's input ${stated.imageSize} px gives ${configuredGrid}×${configuredGrid}: it is resampled`);
  }

  const qkvProbe = layout === 'timm' ? 'blocks.0.attn.qkv.bias' : 'encoder.layer.0.attention.attention.query.bias';
  const qkvBias = shapeOf(qkvProbe) !== undefined;
  if (qkvBias !== configured.qkvBias) notes.push(`config.json gives qkv_bias ${configured.qkvBias}, the checkpoint ${qkvBias ? 'holds' : 'lacks'} ${qkvProbe}: using the checkpoint`);

  const architecture: VitArchitecture = { ...stated, mlp, mlpWidth, layerScale, registerTokens, noEmbedClass };
  return {
    layout,
    architecture,
    prefix,
    qkvBias,
    storedGrid,
    foldClassPosition: layout !== 'timm' && registerTokens > 0,
    resampling: layoutResampling(layout, configured.hfWithRegisters),
    description: configured.description,
    nameHints: configured.nameHints,
    notes,
  };
}
