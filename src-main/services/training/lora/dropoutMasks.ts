import type { SessionWorker } from '../../models/runtime/SessionWorker';
import type { WorkerTensor } from '../../models/runtime/protocol';
import { derivedSeed } from '../../random/seededRandom';
import { DROPOUT_LEVELS, dropoutKeep, dropoutMaskInputs } from './loraConfig';
import type { LoraModelSpec } from './loraConfig';


/** Whether a Uint32 word's low byte comes first in memory (every platform Electron ships on). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * One training step's dropout masks, by graph input name: bytes fed as ONNX bool, 1 (keep) with
 * probability `dropoutKeep(dropout)`, else 0 (the graph selects with Where and applies the 1/keep
 * scale). A step's masks cover every target's input, ~10⁸ values for ViT-S at batch 16, so they
 * are drawn two per xorshift32 output (16 bits each), and stored four bytes per 32-bit write:
 * drawing competes with ONNX Runtime's threads for the cores while a step runs. Reproducible from
 * (seed, step), so a resumed run draws the same masks. Empty when dropout is 0 (the graph then
 * has no mask inputs). Drawn into the arrays of `reuse` where they have the right length.
 */
export function drawDropoutMasks(spec: LoraModelSpec, seed: number, step: number, reuse?: Readonly<Record<string, Uint8Array>>): Record<string, Uint8Array> {
  const threshold = dropoutKeep(spec.lora.dropout) * DROPOUT_LEVELS;
  let state = derivedSeed(seed, `dropout ${step}`) || 0x9e3779b9;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state;
  };
  const masks: Record<string, Uint8Array> = {};
  for (const { name, shape } of dropoutMaskInputs(spec)) {
    const length = shape[0]! * shape[1]!;
    const mask = reuse?.[name]?.length === length ? reuse[name] : new Uint8Array(length);
    // Bytes i..i+3 are (low, high) halves of two successive outputs, as the byte loop below draws them.
    const words = LITTLE_ENDIAN ? new Uint32Array(mask.buffer, 0, mask.length >>> 2) : new Uint32Array(0);
    for (let w = 0; w < words.length; w++) {
      const first = next();
      const second = next();
      words[w] =
        ((first & 0xffff) < threshold ? 1 : 0) |
        (first >>> 16 < threshold ? 0x100 : 0) |
        ((second & 0xffff) < threshold ? 0x10000 : 0) |
        (second >>> 16 < threshold ? 0x1000000 : 0);
    }
    for (let i = words.length * 4; i < mask.length; i += 2) {
      const value = next();
      mask[i] = (value & 0xffff) < threshold ? 1 : 0;
      if (i + 1 < mask.length) mask[i + 1] = value >>> 16 < threshold ? 1 : 0;
    }
    masks[name] = mask;
  }
  return masks;
}

/**
 * A training loop's masks: each step's drawn while the step before runs (the main thread is idle
 * then), into the arrays the worker gave back from the step before that (SessionWorker.runLending),
 * so two sets exist in all and none is allocated per step.
 */
export class DropoutMaskSupply {
  private readonly inputs: ReturnType<typeof dropoutMaskInputs>;
  private ahead: { step: number; masks: Record<string, Uint8Array> } | null = null;
  private spare: Record<string, Uint8Array> | undefined;

  constructor(
    private readonly spec: LoraModelSpec,
    private readonly seed: number,
  ) {
    this.inputs = dropoutMaskInputs(spec);
  }

  /**
   * Runs train step `step` on `worker` as the training loop does (and bench:train measures): its
   * masks added to `feeds` and lent to the worker, the feeds named in `transfer` moved there, and
   * the next step's masks drawn while it runs. Returns the step's outputs.
   */
  async runStep(
    worker: Pick<SessionWorker, 'runLending'>,
    feeds: Record<string, WorkerTensor>,
    outputs: readonly string[],
    step: number,
    transfer: readonly string[] = [],
  ): Promise<Readonly<Record<string, WorkerTensor>>> {
    const masks = this.take(step);
    for (const { name, shape } of this.inputs) feeds[name] = { dims: shape, data: masks[name]! };
    const running = worker.runLending(feeds, outputs, Object.keys(masks), transfer);
    if (this.inputs.length > 0) this.drawAhead(step + 1);
    const { outputs: results, returned } = await running;
    this.giveBack(returned as Record<string, Uint8Array>);
    return results;
  }

  /** The masks of `step`: drawn ahead, or now (into the arrays drawn ahead for another step, if any). */
  take(step: number): Record<string, Uint8Array> {
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead?.step === step) return ahead.masks;
    if (ahead) this.spare ??= ahead.masks;
    return this.draw(step);
  }

  /** Draws the masks of `step` now, to be taken next. */
  drawAhead(step: number): void {
    this.ahead = { step, masks: this.draw(step) };
  }

  /** The arrays of a finished step, to draw into again. */
  giveBack(masks: Record<string, Uint8Array>): void {
    this.spare = masks;
  }

  private draw(step: number): Record<string, Uint8Array> {
    const masks = drawDropoutMasks(this.spec, this.seed, step, this.spare);
    this.spare = undefined;
    return masks;
  }
}
