import fs from 'node:fs';
import path from 'node:path';

/** Values scikit-learn gave for the cases (tools/reference/evaluation/make_golden.py); null = NaN. */
export interface GoldenCase {
  name: string;
  classCount: number;
  yTrue: number[];
  yPred: number[];
  positiveScores?: number[];
  scoreRows?: number[][];
  sklearn: {
    accuracy: number;
    balancedAccuracy: number;
    weightedF1: number;
    quadraticKappa: number;
    confusionMatrix: number[][];
    recallPerClass: (number | null)[];
    specificityPerClass: (number | null)[];
    auroc?: number | null;
    averagePrecision?: number;
    rocCurve?: { falsePositiveRate: (number | null)[]; truePositiveRate: (number | null)[]; thresholdsAfterInfinity: number[] };
    macroOneVsRestAuroc?: number | null;
  };
}

export interface AgreementGolden {
  cohen: { firstRater: number[]; secondRater: number[]; kappa: number; linearKappa: number };
  fleiss: { ratingsPerCell: number[][]; kappa: number };
  clinical: {
    predicted: number[];
    annotated: number[];
    meanDifference: number;
    sdDifference: number;
    lowerLimit: number;
    upperLimit: number;
    icc21: number;
  };
}

function readGolden<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'golden', file), 'utf8')) as T;
}

export const metricCases = (): GoldenCase[] => readGolden<{ cases: GoldenCase[] }>('metrics.json').cases;
export const agreementGolden = (): AgreementGolden => readGolden<AgreementGolden>('agreement.json');

export const TOLERANCE = 1e-12;

/** null in the golden file stands for NaN. */
export const orNaN = (value: number | null | undefined): number => value ?? Number.NaN;

/** Equal within `TOLERANCE`, NaN equal to NaN. */
export function closeTo(actual: number, expected: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  return Math.abs(actual - expected) <= TOLERANCE;
}
