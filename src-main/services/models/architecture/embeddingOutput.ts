import type { Graph, Tensor } from '../../graph/Graph';
import { concat, gather, reduceMean, slice } from '../../graph/ops';
import type { VitConfig } from '../vit';
import type { EmbeddingRule } from './VitArchitecture';

/**
 * Adds the output `embedding` [B, D] (or [B, 2D]) to a ViT graph from its final-normed
 * `tokens` [B, T, D], ordered [class, registers…, patches]. 'cls-mean-patches' concatenates the
 * class token with the mean of the patch tokens, registers excluded (Virchow2: x[:, 5:]).
 */
export function addEmbeddingOutput(graph: Graph, tokens: Tensor, config: VitConfig, rule: EmbeddingRule): Tensor {
  return graph.scope('embedding', () => {
    const cls = gather(graph, tokens, 0, 1);
    if (rule === 'cls') return graph.output(cls, 'embedding');
    const firstPatch = 1 + config.registerTokens;
    const patches = slice(graph, tokens, { starts: [firstPatch], ends: [tokens.shape[1]!], axes: [1] });
    return graph.output(concat(graph, [cls, reduceMean(graph, patches, [1], false)], 1), 'embedding');
  });
}
