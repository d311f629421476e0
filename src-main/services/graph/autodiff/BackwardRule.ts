import type { Graph, GraphNode, Tensor } from '../Graph';

/** What a backward rule sees of one forward node. */
export interface BackwardContext {
  readonly graph: Graph;
  readonly node: GraphNode;
  /** The gradient flowing into each output; undefined where none flows (e.g. an unused Split part). */
  readonly outputGradients: readonly (Tensor | undefined)[];
  /**
   * Whether each input needs a gradient (it depends on a requested tensor). Rules skip the
   * others, so frozen weights never get gradient nodes.
   */
  readonly needsGradient: readonly boolean[];
}

/**
 * The reverse-mode rule of one op: emits ordinary ONNX nodes computing the gradient of each
 * input that needs one, with exactly that input's shape and dtype; undefined for the others.
 */
export type BackwardRule = (context: BackwardContext) => readonly (Tensor | undefined)[];

/** One registry entry: the rule of the op with this type (default ONNX domain). */
export interface GradientRegistration {
  readonly opType: string;
  readonly backward: BackwardRule;
}
