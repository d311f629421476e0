import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AugmentPool, defaultPoolSize } from '../../../../src-main/services/training/data/AugmentPool';
import { augmentAndNormalise } from '../../../../src-main/services/training/data/augmentProtocol';
import type { AugmentTask } from '../../../../src-main/services/training/data/augmentProtocol';
import { applyAugmentation, augmentationSourceSize, drawAugmentation } from '../../../../src-main/services/training/data/augment';
import { normaliseInto } from '../../../../src-main/services/embeddings/patches';
import { seededRandom } from '../../../../src-main/services/random/seededRandom';

const ENTRY = { file: path.join(import.meta.dirname, 'augmentWorkerEntry.mjs') };
const pool = new AugmentPool(ENTRY, 2);

afterAll(() => pool.close());

function tasks(count: number, seed: number): AugmentTask[] {
  const random = seededRandom(seed);
  const size = 24;
  const source = augmentationSourceSize(size, size);
  return Array.from({ length: count }, () => ({
    source: { rgb: Uint8Array.from({ length: source.width * source.height * 3 }, () => Math.floor(random() * 256)), ...source },
    width: size,
    height: size,
    params: drawAugmentation(random, { jitterProbability: 0.8, jitterStrength: 0.1, blurProbability: 0.5, blurKernelSize: 5, blurSigmaMin: 0.1, blurSigmaMax: 1, flipProbability: 0.5, rotationProbability: 0.8, maxRotationDegrees: 180 }),
    mean: [0.485, 0.456, 0.406] as const,
    std: [0.229, 0.224, 0.225] as const,
  }));
}

describe('AugmentPool', () => {
  it('gives the same floats as the pure functions, whichever worker ran each task', async () => {
    const work = tasks(12, 8);
    const results = await Promise.all(work.map((task) => pool.augment(task)));
    work.forEach((task, i) => {
      const patch = applyAugmentation(task.source, task.width, task.height, task.params);
      const expected = new Float32Array(3 * task.width * task.height);
      normaliseInto(expected, 0, patch.rgb, task.width, task.height, task.mean, task.std);
      expect(results[i]).toEqual(expected);
      expect(augmentAndNormalise(task)).toEqual(expected);
    });
  });

  it('returns a bad task\'s error and keeps working', async () => {
    const [task] = tasks(1, 9);
    await expect(pool.augment({ ...task!, source: { ...task!.source, width: 5 } })).rejects.toThrow(/RGB source has/);
    expect(await pool.augment(task!)).toEqual(augmentAndNormalise(task!));
  });

  it('sizes itself to the cores, leaving one free, between 1 and 4 workers', () => {
    expect([1, 2, 3, 5, 16].map((cores) => defaultPoolSize(cores))).toEqual([1, 1, 2, 4, 4]);
    expect(() => new AugmentPool(ENTRY, 0)).toThrow(/at least 1 worker/);
  });

  it('fails every task once closed', async () => {
    const closing = new AugmentPool(ENTRY, 1);
    const [task] = tasks(1, 10);
    await closing.close();
    await expect(closing.augment(task!)).rejects.toThrow(/closed/);
  });
});
