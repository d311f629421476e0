import type { TypedArray } from '../../../src-main/services/graph/dtype';
import { Graph } from '../../../src-main/services/graph/Graph';
import type { Tensor } from '../../../src-main/services/graph/Graph';
import { cast, conv } from '../../../src-main/services/graph/ops';

export interface ReplayedGraph {
  readonly graph: Graph;
  /** Each tensor of the source graph → its copy. */
  readonly mapped: ReadonlyMap<Tensor, Tensor>;
  /** The values of the initializers that became inputs. */
  readonly weights: ReadonlyMap<string, TypedArray>;
}

/**
 * Copies a built graph node by node. Initializers named in `asInputs` become graph inputs (to
 * differentiate the loss by them, as LoRA matrices and heads are), and a float64 Conv (the patch
 * embedding) runs as a float32 island: ORT's CPU provider has no float64 Conv kernel
 * (ONNX-TRAINING.md), and when the pixels get no gradient a fixed, slightly rounded patch
 * embedding leaves finite-difference checks of everything after it exact in float64. Tensor
 * names are kept, so feeds and outputs read the same.
 */
export function replayGraph(source: Graph, asInputs: ReadonlySet<string> = new Set(), name = source.name): ReplayedGraph {
  const graph = new Graph(name);
  const mapped = new Map<Tensor, Tensor>();
  const weights = new Map<string, TypedArray>();
  for (const input of source.inputs) mapped.set(input, graph.input(input.name, input.dtype, input.shape));
  for (const { tensor, data } of source.initializers) {
    if (!asInputs.has(tensor.name)) {
      mapped.set(tensor, graph.initializer(tensor.name, tensor.dtype, tensor.shape, data));
      continue;
    }
    if (typeof data === 'function') throw new Error(`${tensor.name}: a weight that becomes an input must be in memory`);
    weights.set(tensor.name, data);
    mapped.set(tensor, graph.input(tensor.name, tensor.dtype, tensor.shape));
  }
  for (const node of source.nodes) {
    const inputs = node.inputs.map((input) => (input ? mapped.get(input)! : undefined));
    if (node.op.opType === 'Conv' && node.outputs[0]!.dtype === 'float64') {
      const strides = node.attributes.find((attribute) => attribute.name === 'strides')!.value as number[];
      const island = graph.scope('float32_conv', () => {
        const [x, w, b] = inputs.map((input) => (input ? cast(graph, input, 'float32') : undefined));
        return cast(graph, conv(graph, x!, w!, b, { strides }), 'float64');
      });
      mapped.set(node.outputs[0]!, island);
      continue;
    }
    const specs = node.outputs.map(({ dtype, shape, constantValues }) => ({ dtype, shape, constantValues }));
    const outputs = graph.addNode(node.op, inputs, specs, node.attributes, node.outputs.map((output) => output.name));
    node.outputs.forEach((output, i) => mapped.set(output, outputs[i]!));
  }
  for (const output of source.outputs) graph.output(mapped.get(output)!);
  return { graph, mapped, weights };
}
