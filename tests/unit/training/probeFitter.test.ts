import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fitLinearProbe } from '../../../src-main/services/training/linearProbe';
import type { FeatureMatrix } from '../../../src-main/services/training/linearProbe';
import { WorkerProbeFitter } from '../../../src-main/services/training/ProbeFitter';
import { TrainingError } from '../../../src-main/services/training/TrainingError';
import { seededRandom } from '../../../src-main/services/random/seededRandom';

const fitter = new WorkerProbeFitter({ file: path.join(import.meta.dirname, 'probeWorkerEntry.mjs') });
afterAll(() => fitter.close());

/** Two Gaussian classes whose means differ along one random direction. */
function problem(rows: number, columns: number, seed: number): { matrix: () => FeatureMatrix; labels: number[] } {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const direction = Array.from({ length: columns }, () => gaussian() / Math.sqrt(columns));
  const values = new Float32Array(rows * columns);
  const labels = Array.from({ length: rows }, (_, row) => row % 2);
  for (let row = 0; row < rows; row++) {
    for (let d = 0; d < columns; d++) values[row * columns + d] = gaussian() + (labels[row] ? 1 : -1) * direction[d]!;
  }
  return { matrix: () => ({ values: values.slice(), rows, columns }), labels };
}

/** The longest wait of a 5 ms timer while `work` runs: how long the thread was blocked. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(longest, performance.now() - last);
}

describe('linear probes fitted on a worker thread', () => {
  it('give exactly the in-thread probe', async () => {
    const { matrix, labels } = problem(400, 24, 3);
    const expected = fitLinearProbe(matrix(), labels, { classCount: 2 });
    const probe = await fitter.fit(matrix(), labels, { classCount: 2 });
    expect(Array.from(probe.weights)).toEqual(Array.from(expected.weights));
    expect(Array.from(probe.bias)).toEqual(Array.from(expected.bias));
    expect(probe.iterations).toBe(expected.iterations);
  });

  it('leave the calling thread free while L-BFGS runs (it would block it for the whole fit)', async () => {
    const { matrix, labels } = problem(20_000, 512, 5);
    const started = performance.now();
    const blocked = await longestStall(async () => fitLinearProbe(matrix(), labels, { classCount: 2 }));
    const inThread = performance.now() - started;
    const free = await longestStall(() => fitter.fit(matrix(), labels, { classCount: 2 }));
    expect(blocked).toBeGreaterThan(0.8 * inThread);
    expect(free).toBeLessThan(Math.min(250, inThread / 2));
  });

  it('report a fit that cannot work as the same TrainingError, naming the class', async () => {
    const { matrix } = problem(10, 4, 7);
    const labels = Array.from({ length: 10 }, () => 0);
    const inThread = (() => {
      try {
        fitLinearProbe(matrix(), labels, { classCount: 2 });
      } catch (error) {
        return error as TrainingError;
      }
    })();
    expect(inThread).toBeInstanceOf(TrainingError);
    const fromWorker = await fitter.fit(matrix(), labels, { classCount: 2 }).catch((error: unknown) => error);
    expect(fromWorker).toBeInstanceOf(TrainingError);
    expect((fromWorker as TrainingError).message).toBe(inThread!.message);
  });
});
