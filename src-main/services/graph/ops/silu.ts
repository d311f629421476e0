import type { Graph, Tensor } from '../Graph';
import { mul } from './mul';
import { sigmoid } from './sigmoid';

/** SiLU (swish), x·sigmoid(x); a composition, so it needs no gradient rule of its own. */
export function silu(graph: Graph, x: Tensor): Tensor {
  return graph.scope('silu', () => mul(graph, x, sigmoid(graph, x)));
}
