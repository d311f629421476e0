import { derivedSeed } from '../../random/seededRandom';
import { DROPOUT_LEVELS, dropoutKeep, dropoutMaskInputs } from './loraConfig';
import type { LoraModelSpec } from './loraConfig';


/**
 * One training step's dropout masks, by graph input name: bytes fed as ONNX bool, 1 (keep) with
 * probability `dropoutKeep(dropout)`, else 0 (the graph selects with Where and applies the 1/keep
 * scale). A step's
 * masks cover every target's input, ~10⁸ values for ViT-S at batch 16, so they are drawn two per
 * xorshift32 output (16 bits each) into bytes: float masks drawn one Math-style random at a time
 * took longer to draw and post than the train step itself. Reproducible from (seed, step), so a
 * resumed run draws the same masks. Empty when dropout is 0 (the graph then has no mask inputs).
 */
export function drawDropoutMasks(spec: LoraModelSpec, seed: number, step: number): Record<string, Uint8Array> {
  const threshold = dropoutKeep(spec.lora.dropout) * DROPOUT_LEVELS;
  let state = derivedSeed(seed, `dropout ${step}`) || 0x9e3779b9;
  const masks: Record<string, Uint8Array> = {};
  for (const { name, shape } of dropoutMaskInputs(spec)) {
    const mask = new Uint8Array(shape[0]! * shape[1]!);
    for (let i = 0; i < mask.length; i += 2) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      mask[i] = (state & 0xffff) < threshold ? 1 : 0;
      if (i + 1 < mask.length) mask[i + 1] = state >>> 16 < threshold ? 1 : 0;
    }
    masks[name] = mask;
  }
  return masks;
}
