import type { StudyCell } from './studyCells';

/** What a LoRA trainer needs of a cell: where it is and its class index in the study. */
export type LoraCell = Pick<StudyCell, 'annotationId' | 'slideNumber' | 'x' | 'y' | 'classIndex'>;

/**
 * LoRA fine-tuning as a study uses it, injected so the study engine does not depend on the trainer
 * (which cuts patches from slides and runs train-step graphs). Validation cells are for early
 * stopping; the answer is the test cells' class probabilities, row-major testCells × classCount.
 */
export interface LoraRequest {
  readonly modelId: number;
  /** The study's classes (class ids), in label order, and its class of interest. */
  readonly classIds: readonly number[];
  readonly positiveClassId: number;
  readonly trainCells: readonly LoraCell[];
  readonly validationCells: readonly LoraCell[];
  readonly testCells: readonly LoraCell[];
  readonly seed: number;
  readonly signal: AbortSignal;
}

export interface LoraRunner {
  trainAndPredict(request: LoraRequest): Promise<Float64Array>;
}
