import type { VitConfig } from '../../../src-main/services/models/vit';
import { mlpHiddenWidth, patchGrid } from '../../../src-main/services/models/vit';
import { erf } from '../graph/reference';

/**
 * A plain TypeScript ViT forward in float64, written from timm's definition with simple loops:
 * the compiled graph must match it. Returns [B, T, D] row-major.
 */
type Rows = Float64Array[];

export function vitReference(config: VitConfig, weights: ReadonlyMap<string, ArrayLike<number>>, pixels: ArrayLike<number>): Float64Array {
  const w = (name: string): ArrayLike<number> => {
    const values = weights.get(name);
    if (!values) throw new Error(`reference: no weight ${name}`);
    return values;
  };
  const { dim, patchSize: p, imageSize: size, inChannels: channels } = config;
  const grid = patchGrid(config);
  const out: number[] = [];
  for (let b = 0; b < config.batchSize; b++) {
    const patches: Rows = [];
    const proj = w('patch_embed.proj.weight');
    const projBias = w('patch_embed.proj.bias');
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++) {
        const token = new Float64Array(dim);
        for (let d = 0; d < dim; d++) {
          let sum = projBias[d]!;
          for (let c = 0; c < channels; c++) {
            for (let ky = 0; ky < p; ky++) {
              for (let kx = 0; kx < p; kx++) {
                const pixel = pixels[((b * channels + c) * size + gy * p + ky) * size + gx * p + kx]!;
                sum += proj[((d * channels + c) * p + ky) * p + kx]! * pixel;
              }
            }
          }
          token[d] = sum;
        }
        patches.push(token);
      }
    }
    const prefix: Rows = [row(w('cls_token'), 0, dim)];
    for (let r = 0; r < config.registerTokens; r++) prefix.push(row(w('reg_token'), r, dim));
    const pos = w('pos_embed');
    let x: Rows;
    if (config.noEmbedClass) {
      x = [...prefix, ...patches.map((token, i) => addRows(token, row(pos, i, dim)))];
    } else {
      x = [...prefix, ...patches].map((token, i) => addRows(token, row(pos, i, dim)));
    }
    for (let i = 0; i < config.depth; i++) {
      const block = `blocks.${i}`;
      let attention = attend(config, layerNorm(x, w(`${block}.norm1.weight`), w(`${block}.norm1.bias`), config.layerNormEps), w, block);
      if (config.layerScale) attention = scaleRows(attention, w(`${block}.ls1.gamma`));
      x = x.map((token, t) => addRows(token, attention[t]!));
      const normed = layerNorm(x, w(`${block}.norm2.weight`), w(`${block}.norm2.bias`), config.layerNormEps);
      const hidden = linear(normed, w(`${block}.mlp.fc1.weight`), w(`${block}.mlp.fc1.bias`), mlpHiddenWidth(config));
      let activated: Rows;
      if (config.mlp === 'gelu') {
        activated = hidden.map((h) => h.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))));
      } else {
        const half = mlpHiddenWidth(config) / 2;
        activated = hidden.map((h) => Float64Array.from({ length: half }, (_, j) => (h[j]! / (1 + Math.exp(-h[j]!))) * h[half + j]!));
      }
      let mlp = linear(activated, w(`${block}.mlp.fc2.weight`), w(`${block}.mlp.fc2.bias`), dim);
      if (config.layerScale) mlp = scaleRows(mlp, w(`${block}.ls2.gamma`));
      x = x.map((token, t) => addRows(token, mlp[t]!));
    }
    for (const token of layerNorm(x, w('norm.weight'), w('norm.bias'), config.layerNormEps)) out.push(...token);
  }
  return Float64Array.from(out);
}

function row(values: ArrayLike<number>, index: number, width: number): Float64Array {
  return Float64Array.from({ length: width }, (_, j) => values[index * width + j]!);
}

function addRows(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, j) => v + b[j]!);
}

function scaleRows(rows: Rows, gamma: ArrayLike<number>): Rows {
  return rows.map((r) => r.map((v, j) => v * gamma[j]!));
}

/** y = x·Wᵀ + b with W stored [out, in]. */
function linear(rows: Rows, weight: ArrayLike<number>, bias: ArrayLike<number>, outWidth: number): Rows {
  return rows.map((x) => {
    const y = new Float64Array(outWidth);
    for (let o = 0; o < outWidth; o++) {
      let sum = bias[o]!;
      for (let i = 0; i < x.length; i++) sum += weight[o * x.length + i]! * x[i]!;
      y[o] = sum;
    }
    return y;
  });
}

function layerNorm(rows: Rows, weight: ArrayLike<number>, bias: ArrayLike<number>, eps: number): Rows {
  return rows.map((x) => {
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
    return x.map((v, j) => ((v - mean) / Math.sqrt(variance + eps)) * weight[j]! + bias[j]!);
  });
}

function attend(config: VitConfig, x: Rows, w: (name: string) => ArrayLike<number>, block: string): Rows {
  const { dim, heads } = config;
  const headDim = dim / heads;
  const qkv = linear(x, w(`${block}.attn.qkv.weight`), w(`${block}.attn.qkv.bias`), 3 * dim);
  const context: Rows = x.map(() => new Float64Array(dim));
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < x.length; t++) {
      const scores = x.map((_, s) => {
        let dot = 0;
        for (let j = 0; j < headDim; j++) dot += qkv[t]![h * headDim + j]! * qkv[s]![dim + h * headDim + j]!;
        return dot / Math.sqrt(headDim);
      });
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const total = exps.reduce((a, b) => a + b, 0);
      for (let s = 0; s < x.length; s++) {
        for (let j = 0; j < headDim; j++) context[t]![h * headDim + j]! += (exps[s]! / total) * qkv[s]![2 * dim + h * headDim + j]!;
      }
    }
  }
  return linear(context, w(`${block}.attn.proj.weight`), w(`${block}.attn.proj.bias`), dim);
}
