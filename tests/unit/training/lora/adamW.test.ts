import { describe, expect, it } from 'vitest';
import { ADAM_DEFAULTS, AdamW } from '../../../../src-main/services/training/lora';
import { expectClose } from '../../graph/ortHarness';

const options = { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };

describe('AdamW', () => {
  it('matches a hand computation of two torch.optim.AdamW steps', () => {
    const parameters = { w: Float32Array.from([1, -2]) };
    const optimizer = AdamW.create(parameters, options);
    optimizer.update(parameters, { w: [0.5, -0.1] });
    // Step 1: m̂ = g, v̂ = g², so p ← p·(1 − 0.1·0.01) − 0.1·g/(|g| + 1e-8).
    expectClose(parameters.w, [1 * 0.999 - (0.1 * 0.5) / (0.5 + 1e-8), -2 * 0.999 + (0.1 * 0.1) / (0.1 + 1e-8)], 1e-7, 0);
    optimizer.update(parameters, { w: [-0.3, 0.2] });
    // Step 2, first element: m = 0.9·0.05 − 0.1·0.3 = 0.015, v = 0.999·0.00025 + 0.001·0.09 = 0.00033975.
    const first = 0.899000002 * 0.999 - ((0.1 / (1 - 0.81)) * 0.015) / (Math.sqrt(0.00033975) / Math.sqrt(1 - 0.998001) + 1e-8);
    // Second element: m = 0.9·(−0.01) + 0.1·0.2 = 0.011, v = 0.999·0.00001 + 0.001·0.04 = 0.00004999.
    const second = (-2 * 0.999 + 0.0999999990) * 0.999 - ((0.1 / 0.19) * 0.011) / (Math.sqrt(0.00004999) / Math.sqrt(0.001999) + 1e-8);
    expectClose(parameters.w, [first, second], 1e-6, 0);
    expect(optimizer.step).toBe(2);
  });

  it('is Adam when weight decay is 0, and takes a per-step learning rate (schedules)', () => {
    const parameters = { w: Float32Array.from([3]) };
    const optimizer = AdamW.create(parameters, ADAM_DEFAULTS);
    optimizer.update(parameters, { w: [-4] }, 0.5);
    expectClose(parameters.w, [3 + 0.5 * (4 / (4 + 1e-8))], 1e-6, 0);
    expect(ADAM_DEFAULTS.learningRate).toBe(1e-4);
  });

  it('resumes from a saved state exactly as if it had not stopped', () => {
    const gradients = [0.3, -0.7, 0.01, 0.5].map((g, step) => ({ a: [g, -g * step], b: [step - 1.5] }));
    const start = (): { a: Float32Array; b: Float32Array } => ({ a: Float32Array.from([0.2, -0.4]), b: Float32Array.from([1]) });
    const straight = start();
    const uninterrupted = AdamW.create(straight, options);
    for (const g of gradients) uninterrupted.update(straight, g);

    const live = start();
    const interrupted = AdamW.create(live, options);
    for (const g of gradients.slice(0, 2)) interrupted.update(live, g);
    const saved = interrupted.state();
    const savedParameters = { a: live.a.slice(), b: live.b.slice() };
    interrupted.update(live, gradients[2]!); // lost with the crash: must not reach the saved state

    const resumed = AdamW.restore(structuredClone(saved));
    expect(resumed.step).toBe(2);
    for (const g of gradients.slice(2)) resumed.update(savedParameters, g);
    expect(Array.from(savedParameters.a)).toEqual(Array.from(straight.a));
    expect(Array.from(savedParameters.b)).toEqual(Array.from(straight.b));
  });

  it('names the parameter or setting at fault', () => {
    const parameters = { w: new Float32Array(2) };
    const optimizer = AdamW.create(parameters, options);
    expect(() => optimizer.update(parameters, {})).toThrow(/no gradient for w/);
    expect(() => optimizer.update(parameters, { w: [1] })).toThrow(/the gradient of w has 1 values, expected 2/);
    expect(() => optimizer.update({ v: new Float32Array(2) }, { v: [1, 1] })).toThrow(/unknown parameter v/);
    expect(() => AdamW.create(parameters, { beta2: 1 })).toThrow(/beta2 must be in \[0, 1\)/);
    expect(() => AdamW.restore({ ...optimizer.state(), secondMoments: {} })).toThrow(/moments of w disagree/);
  });
});
