import { afterAll, describe, expect, it } from 'vitest';
import {
  AdamW,
  buildInferenceGraph,
  buildTrainStepGraph,
  drawDropoutMasks,
  gradientName,
  initialLoraParameters,
  LABELS,
  LOSS,
  PIXELS,
  PROBABILITIES,
} from '../../../../src-main/services/training/lora';
import type { LoraModelSpec, ParameterSet } from '../../../../src-main/services/training/lora';
import { makeTempDir, removeTempDir, seededRandom } from '../../graph/ortHarness';
import { labelsOf, meanCrossEntropy, openSession, randomVitWeights, tinySpec } from './loraFixtures';

const dir = makeTempDir('mitobench-lora-converge-');
afterAll(() => removeTempDir(dir));

/** Class 1 images are brighter than class 0 ones by 1 (noise ±0.5): separable, but not by the random head. */
function brightnessBatch(spec: LoraModelSpec, random: () => number): { pixels: Float32Array; labels: number[] } {
  const { batchSize, inChannels, imageSize } = spec.vit;
  const perImage = inChannels * imageSize ** 2;
  const labels = Array.from({ length: batchSize }, (_, i) => i % 2);
  const pixels = Float32Array.from({ length: batchSize * perImage }, (_, i) => labels[Math.floor(i / perImage)]! - 0.5 + (random() - 0.5));
  return { pixels, labels };
}

describe('LoRA training on a learnable task', () => {
  it('learns 2 classes separated by brightness in 30 Adam steps: held-out loss falls by more than half, all correct', async () => {
    const spec = tinySpec({ vit: { batchSize: 8 }, classCount: 2, dropout: 0.1 });
    const weights = randomVitWeights(spec.vit, 21);
    const train = await openSession(buildTrainStepGraph(spec, weights), dir);
    const predict = await openSession(buildInferenceGraph(spec, weights, { adapter: 'separate' }), dir);
    try {
      const parameters: ParameterSet = initialLoraParameters(spec, 22);
      const heldOut = brightnessBatch(spec, seededRandom(23));
      const evaluate = async (): Promise<{ loss: number; accuracy: number }> => {
        const probabilities = (await predict.run({ ...parameters, [PIXELS]: heldOut.pixels }))[PROBABILITIES] as Float32Array;
        const correct = heldOut.labels.filter((label, i) => probabilities[2 * i + label]! > 0.5).length;
        return { loss: meanCrossEntropy(probabilities, heldOut.labels, 2), accuracy: correct / heldOut.labels.length };
      };
      const before = await evaluate();
      const optimizer = AdamW.create(parameters, { learningRate: 1e-2, weightDecay: 0 });
      const random = seededRandom(24);
      const trainLosses: number[] = [];
      for (let step = 0; step < 30; step++) {
        const batch = brightnessBatch(spec, random);
        const results = await train.run({ ...parameters, ...drawDropoutMasks(spec, 24, step), [PIXELS]: batch.pixels, [LABELS]: labelsOf(batch.labels) });
        trainLosses.push(Number(results[LOSS]![0]));
        optimizer.update(parameters, Object.fromEntries(Object.keys(parameters).map((name) => [name, results[gradientName(name)] as Float32Array])));
      }
      const after = await evaluate();
      expect(before.loss).toBeGreaterThan(0.6);
      expect(after.loss, `held-out loss ${before.loss} → ${after.loss}; train losses ${trainLosses.map((loss) => loss.toFixed(3)).join(' ')}`).toBeLessThan(0.5 * before.loss);
      expect(after.accuracy).toBe(1);
      expect(parameters['blocks.1.mlp.fc2.lora_B']!.some((value) => value !== 0), 'the adapter itself was trained').toBe(true);
    } finally {
      await train.close();
      await predict.close();
    }
  });
});
