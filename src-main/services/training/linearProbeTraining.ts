import type { EpochRecord } from '../../contract/trainingSchemas';
import { balancedAccuracy } from '../evaluation/metrics';
import { predictProbabilities } from './linearProbe';
import type { LinearProbe } from './linearProbe';
import { decodeParameters, encodeParameters } from './parameterBlob';
import type { ProbeFitter } from './ProbeFitter';
import { TrainingError } from './TrainingError';

/** The linear probe as stored with an adapter: coefficient rows and intercepts, float32. */
export interface StoredProbe {
  readonly dim: number;
  readonly classCount: number;
  readonly inverseRegularisation: number;
  readonly iterations: number;
  readonly stopReason: LinearProbe['stopReason'];
}

const WEIGHTS = 'probe.weights';
const BIAS = 'probe.bias';

/** Rows of embeddings as one matrix. */
export function featureMatrix(vectors: readonly Float32Array[], what: string): { values: Float32Array; rows: number; columns: number } {
  if (vectors.length === 0) throw new TrainingError(what, 'has no cells');
  const columns = vectors[0]!.length;
  const values = new Float32Array(vectors.length * columns);
  vectors.forEach((vector, row) => {
    if (vector.length !== columns) throw new TrainingError(what, `row ${row} has ${vector.length} values, not ${columns}`);
    values.set(vector, row * columns);
  });
  return { values, rows: vectors.length, columns };
}

/** Mean cross-entropy of the true labels and the predicted class of each row. */
export function evaluateProbabilities(probabilities: ArrayLike<number>, labels: readonly number[], classCount: number): { loss: number; predicted: number[] } {
  let loss = 0;
  const predicted = labels.map((label, row) => {
    let best = 0;
    for (let c = 1; c < classCount; c++) if (probabilities[row * classCount + c]! > probabilities[row * classCount + best]!) best = c;
    loss -= Math.log(Math.max(probabilities[row * classCount + label]!, 1e-12));
    return best;
  });
  return { loss: loss / Math.max(1, labels.length), predicted };
}

export interface ProbeFit {
  readonly probe: LinearProbe;
  readonly blob: Uint8Array;
  readonly record: EpochRecord;
}

/** Fits the probe on the training rows (L-BFGS, scikit-learn's objective) and scores it on the validation rows. */
export async function fitAndValidateProbe(
  fitter: ProbeFitter,
  train: { vectors: readonly Float32Array[]; labels: readonly number[] },
  validation: { vectors: readonly Float32Array[]; labels: readonly number[] },
  classCount: number,
  inverseRegularisation: number | undefined,
): Promise<ProbeFit> {
  const started = performance.now();
  const probe = await fitter.fit(featureMatrix(train.vectors, 'the training cells'), train.labels, { classCount, inverseRegularisation });
  const trainScore = evaluateProbabilities(predictProbabilities(probe, featureMatrix(train.vectors, 'the training cells')), train.labels, classCount);
  const validationScore = validation.vectors.length > 0 ? evaluateProbabilities(predictProbabilities(probe, featureMatrix(validation.vectors, 'the validation cells')), validation.labels, classCount) : null;
  const seconds = (performance.now() - started) / 1000;
  const record: EpochRecord = {
    epoch: 0,
    trainLoss: trainScore.loss,
    validationLoss: validationScore?.loss ?? trainScore.loss,
    validationBalancedAccuracy: validationScore ? balancedAccuracy(validation.labels, validationScore.predicted) : null,
    samplesPerSecond: train.vectors.length / Math.max(seconds, 1e-9),
    provider: 'cpu (L-BFGS in TypeScript)',
    seconds,
  };
  const stored: StoredProbe = { dim: probe.dim, classCount: probe.classCount, inverseRegularisation: probe.inverseRegularisation, iterations: probe.iterations, stopReason: probe.stopReason };
  const blob = encodeParameters({ [WEIGHTS]: Float32Array.from(probe.weights), [BIAS]: Float32Array.from(probe.bias) }, stored);
  return { probe, blob, record };
}

/** The probe back from its stored parameters. */
export function decodeProbe(blob: Uint8Array, what: string): LinearProbe {
  const { tensors, extra } = decodeParameters<StoredProbe>(blob, what);
  const weights = tensors[WEIGHTS];
  const bias = tensors[BIAS];
  if (!weights || !bias) throw new TrainingError(what, 'holds no linear-probe parameters');
  return {
    dim: extra.dim,
    classCount: extra.classCount,
    weights: Float64Array.from(weights),
    bias: Float64Array.from(bias),
    inverseRegularisation: extra.inverseRegularisation,
    iterations: extra.iterations,
    stopReason: extra.stopReason,
  };
}
