import { afterAll, describe, expect, it } from 'vitest';
import { buildTrainStepGraph, drawDropoutMasks, gradientName, LABELS, PIXELS, trainableParameters } from '../../../../src-main/services/training/lora';
import type { EmbeddingRule } from '../../../../src-main/services/training/lora';
import { directionalDifference, expectWithin } from '../../graph/autodiff/gradientCheck';
import type { Tolerance } from '../../graph/autodiff/gradientCheck';
import { makeTempDir, removeTempDir, seededRandom } from '../../graph/ortHarness';
import { labelsOf, openSession, randomPixels, randomTrainables, randomVitWeights, tinySpec } from './loraFixtures';
import type { Feeds, FloatArray } from './loraFixtures';

const dir = makeTempDir('mitobench-lora-grad-');
afterAll(() => removeTempDir(dir));

/**
 * Float64 throughout, so central differences are exact to ~1e-9 (in float32 they are ~1e-2
 * noisy, ONNX-TRAINING.md). ORT has no float64 Erf, so the MLP is SwiGLU here; LoRA on fc1/fc2
 * is the same emitter either way, and the peft golden test covers the GELU model in float32.
 * B is non-zero (peft starts it at 0, which would make every A gradient vanish).
 */
const TOLERANCE: Tolerance = { epsilon: 1e-5, relative: 1e-6, absolute: 1e-10 };

async function checkAgainstFiniteDifferences(embedding: EmbeddingRule): Promise<void> {
  const spec = tinySpec({ vit: { dtype: 'float64', mlp: 'swiglu-packed', registerTokens: 1, layerScale: true }, dropout: 0.1, embedding });
  const session = await openSession(buildTrainStepGraph(spec, randomVitWeights(spec.vit, 11)), dir);
  try {
    const feeds: Feeds = {
      ...randomTrainables(spec, 12, 0.2),
      ...drawDropoutMasks(spec, 13, 0),
      [PIXELS]: randomPixels(spec, 14),
      [LABELS]: labelsOf([2, 0, 1]),
    };
    const results = await session.run(feeds);
    const random = seededRandom(15);
    for (const { name } of trainableParameters(spec)) {
      const gradient = Float64Array.from(results[gradientName(name)] as FloatArray);
      expect(gradient.some((value) => value !== 0), `${name} has a gradient`).toBe(true);
      const singleElement = new Float64Array(gradient.length);
      const largest = gradient.reduce((best, value, i) => (Math.abs(value) > Math.abs(gradient[best]!) ? i : best), 0);
      singleElement[largest] = 1;
      const randomDirection = Float64Array.from(gradient, () => random() * 2 - 1);
      for (const direction of [singleElement, randomDirection]) {
        const analytic = gradient.reduce((sum, value, i) => sum + value * direction[i]!, 0);
        const numeric = await directionalDifference(session, feeds, name, direction, TOLERANCE.epsilon);
        expectWithin(analytic, numeric, TOLERANCE, `d loss / d ${name} along a ${direction === singleElement ? 'unit' : 'random'} direction`);
      }
    }
  } finally {
    await session.close();
  }
}

describe('LoRA train step against central finite differences (tiny ViT, float64)', () => {
  it('every A, B and head gradient, class-token head, dropout on', () => checkAgainstFiniteDifferences('cls'));
  it('every A, B and head gradient, class token ‖ patch mean head', () => checkAgainstFiniteDifferences('cls+mean'));
});
