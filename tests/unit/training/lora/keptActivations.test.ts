import { describe, expect, it } from 'vitest';
import type { Graph, Tensor } from '../../../../src-main/services/graph/Graph';
import { buildTrainStepGraph } from '../../../../src-main/services/training/lora';
import { loraBenchSpec } from '../../../bench/loraStep';

const MiB = 2 ** 20;
const BYTES: Record<string, number> = { float32: 4, float64: 8, bool: 1, int64: 8 };

/** The forward tensors the backward pass reads: what must stay alive from the forward pass to it. */
function keptForBackward(graph: Graph): Tensor[] {
  const backward = (name: string) => name.startsWith('grad/');
  const kept = new Set<Tensor>();
  for (const node of graph.nodes) {
    if (!backward(node.name)) continue;
    for (const input of node.inputs) {
      if (input?.producer && !backward(input.producer.name) && input.constantValues === undefined) kept.add(input);
    }
  }
  return [...kept];
}

const bytesOf = (tensor: Tensor): number => tensor.shape.reduce((product, dim) => product * dim, 1) * BYTES[tensor.dtype]!;

describe('what a ViT-S/16 LoRA step keeps for its backward pass (batch 16, dropout 0.1 on qkv, proj, fc1, fc2)', () => {
  // Weights are loaded lazily (never here): only the graph's structure is examined.
  const graph = buildTrainStepGraph(loraBenchSpec('vit-s'), ({ shape }) => () => new Float32Array(shape.reduce((a, b) => a * b, 1)));
  const kept = keptForBackward(graph);

  it('keeps no masked input of fc1, fc2 or qkv, nothing inside a GELU and no LayerNorm output: they are computed again', () => {
    const names = kept.map((tensor) => tensor.name);
    expect(names.filter((name) => /mlp\.lora\/Where/.test(name))).toEqual([]);
    expect(names.filter((name) => /gelu\//.test(name))).toEqual([]);
    expect(kept.filter((tensor) => tensor.producer!.op.opType === 'LayerNormalization')).toEqual([]);
    // Attention's masked input (proj) stays: computing it again would take the attention product.
    expect(names.filter((name) => /attn\.lora\/Where/.test(name))).toHaveLength(12);
  });

  it('keeps at most 740 MiB (it kept 1,066 MiB before recomputation, docs/benchmarks.md)', () => {
    const total = kept.reduce((sum, tensor) => sum + bytesOf(tensor), 0) / MiB;
    expect(total).toBeLessThan(740);
    expect(total).toBeGreaterThan(600); // the softmax weights, q, k, v, residual stream and GELU inputs at least
  });
});
