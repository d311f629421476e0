import { isFloating } from '../dtype';
import { fail } from '../Graph';
import type { Graph, GraphNode, InlinedFunction, Tensor } from '../Graph';
import { add, floatConstant } from '../ops';
import { elementCount, sameShape } from '../shapes';
import { backwardRuleFor, differentiableOpTypes, functionRuleFor } from './registry';
import type { BackwardRule } from './BackwardRule';
import { zeros } from './gradientMath';

const OP = 'Gradient';

/** The tensors that depend on a requested tensor: forward reachability along the tape. */
function dependentTensors(graph: Graph, wrt: readonly Tensor[]): Set<Tensor> {
  const dependent = new Set<Tensor>(wrt);
  for (const node of graph.nodes) {
    if (node.inputs.some((input) => input !== undefined && dependent.has(input))) {
      for (const output of node.outputs) if (isFloating(output.dtype)) dependent.add(output);
    }
  }
  return dependent;
}

/**
 * The nodes that need a backward pass: those with an output that both depends on a requested
 * tensor and reaches the loss. Walking the tape backwards from the loss finds them.
 */
function nodesToDifferentiate(graph: Graph, loss: Tensor, dependent: ReadonlySet<Tensor>): GraphNode[] {
  const reachesLoss = new Set<Tensor>([loss]);
  const selected: GraphNode[] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i]!;
    if (!node.outputs.some((output) => reachesLoss.has(output) && dependent.has(output))) continue;
    selected.push(node);
    for (const input of node.inputs) if (input && dependent.has(input)) reachesLoss.add(input);
  }
  return selected;
}

function checkRequest(graph: Graph, loss: Tensor, wrt: readonly Tensor[]): void {
  for (const tensor of [loss, ...wrt]) if (tensor.graph !== graph) fail(OP, graph, `${tensor.name} belongs to another graph`);
  if ((loss.dtype !== 'float32' && loss.dtype !== 'float64') || elementCount(loss.shape) !== 1) {
    fail(OP, graph, `the loss must be one float32 or float64 value, got ${loss.describe()}`);
  }
  for (const tensor of wrt) if (!isFloating(tensor.dtype)) fail(OP, graph, `cannot differentiate with respect to ${tensor.describe()}: not floating point`);
  if (new Set(wrt).size !== wrt.length) fail(OP, graph, 'a tensor is requested twice');
}

/** Accumulates the gradient contributions of each tensor with Add chains (WebGPU has no Sum, pitfall 13). */
class GradientTable {
  private readonly sums = new Map<Tensor, Tensor>();

  constructor(private readonly graph: Graph) {}

  /** dLoss/dLoss = 1. */
  seed(loss: Tensor): void {
    this.sums.set(loss, floatConstant(this.graph, loss.dtype as 'float32' | 'float64', loss.shape, [1]));
  }

  get(tensor: Tensor): Tensor | undefined {
    return this.sums.get(tensor);
  }

  contribute(node: GraphNode, tensor: Tensor, gradient: Tensor): void {
    if (gradient.dtype !== tensor.dtype || !sameShape(gradient.shape, tensor.shape)) {
      fail(OP, this.graph, `the ${node.op.opType} rule of ${node.name} gave ${gradient.describe()} for ${tensor.describe()}`);
    }
    const previous = this.sums.get(tensor);
    this.sums.set(tensor, previous ? add(this.graph, previous, gradient) : gradient);
  }
}

/** The node a function rule sees: the function's inputs and its one output. */
function functionAsNode(inlined: InlinedFunction): GraphNode {
  return { op: { opType: inlined.name, domain: '' }, name: inlined.output.producer!.name, inputs: inlined.inputs, outputs: [inlined.output], attributes: [] };
}

/**
 * The rule that differentiates `node` and the node it is given (an inlined function with a rule
 * of its own is differentiated once, at its result), or null for a node inside such a function.
 */
function ruleAndNode(graph: Graph, node: GraphNode, table: GradientTable): { rule: BackwardRule; node: GraphNode } | null {
  const inlined = graph.functionOf(node);
  const functionRule = inlined && functionRuleFor(inlined.name);
  if (inlined && functionRule) {
    if (node === inlined.output.producer) return { rule: functionRule, node: functionAsNode(inlined) };
    for (const output of node.outputs) {
      if (table.get(output)) fail(OP, graph, `${output.name}, inside the inlined ${inlined.name}, is read outside it; differentiate the function's parts instead`);
    }
    return null;
  }
  const rule = backwardRuleFor(node.op.domain, node.op.opType);
  if (!rule) fail(node.op.opType, graph, `${node.name} has no gradient rule; differentiable ops: ${differentiableOpTypes().join(', ')}`);
  return { rule, node };
}

/**
 * Copies, in the backward pass, forward tensors marked with Graph.recomputeInBackward: each once,
 * from its producer (a node, or a whole inlined function) with its inputs copied in turn where
 * they are marked too.
 */
class Recomputation {
  private readonly copies = new Map<Tensor, Tensor>();

  constructor(private readonly graph: Graph) {}

  /** `node` as a rule should read it: marked inputs and outputs replaced by copies, made when first read. */
  view(node: GraphNode): GraphNode {
    const marked = (tensor: Tensor | undefined) => tensor !== undefined && this.graph.isRecomputedInBackward(tensor);
    if (!node.inputs.some(marked) && !node.outputs.some(marked)) return node;
    return { ...node, inputs: this.lazily(node.inputs), outputs: this.lazily(node.outputs) as Tensor[] };
  }

  private lazily(tensors: readonly (Tensor | undefined)[]): (Tensor | undefined)[] {
    const view = [...tensors];
    tensors.forEach((tensor, i) => {
      if (tensor && this.graph.isRecomputedInBackward(tensor)) Object.defineProperty(view, i, { get: () => this.copy(tensor), enumerable: true });
    });
    return view;
  }

  private copy(tensor: Tensor): Tensor {
    if (!this.graph.isRecomputedInBackward(tensor)) return tensor;
    const done = this.copies.get(tensor);
    if (done) return done;
    const producer = tensor.producer!;
    const inlined = this.graph.functionOf(producer);
    const nodes = inlined ? inlined.nodes : [producer];
    const mapped = new Map<Tensor, Tensor>();
    const source = (input: Tensor) => mapped.get(input) ?? this.copy(input);
    for (const node of nodes) {
      const specs = node.outputs.map(({ dtype, shape, constantValues }) => ({ dtype, shape, constantValues }));
      const outputs = this.graph.addNode(node.op, node.inputs.map((input) => (input ? source(input) : undefined)), specs, node.attributes);
      node.outputs.forEach((output, i) => mapped.set(output, outputs[i]!));
    }
    const result = mapped.get(tensor);
    if (!result) fail(OP, this.graph, `${tensor.name} is not the result of ${inlined ? `the inlined ${inlined.name}` : producer.name}`);
    this.copies.set(tensor, result);
    return result;
  }
}

/**
 * Appends the reverse-mode pass of `loss` to its graph as ordinary ONNX nodes and returns
 * dLoss/dT for each tensor T of `wrt` (typically graph inputs: LoRA matrices, a head). Only
 * nodes on a path from a requested tensor to the loss are differentiated, so frozen
 * initializers and branches that do not reach the loss get no gradient nodes. A requested
 * tensor the loss does not depend on gets zeros.
 */
export function appendBackwardPass(graph: Graph, loss: Tensor, wrt: readonly Tensor[]): Tensor[] {
  checkRequest(graph, loss, wrt);
  const dependent = dependentTensors(graph, wrt);
  const nodes = nodesToDifferentiate(graph, loss, dependent);
  return graph.scope('grad', () => {
    const table = new GradientTable(graph);
    const recomputation = new Recomputation(graph);
    if (dependent.has(loss)) table.seed(loss);
    for (const tapeNode of nodes) {
      const step = ruleAndNode(graph, tapeNode, table);
      if (!step) continue;
      const { rule, node } = step;
      const needsGradient = node.inputs.map((input) => input !== undefined && dependent.has(input));
      const gradients = rule({ graph, node: recomputation.view(node), outputGradients: node.outputs.map((output) => table.get(output)), needsGradient });
      node.inputs.forEach((input, i) => {
        const gradient = gradients[i];
        if (input && gradient && needsGradient[i]) table.contribute(node, input, gradient);
      });
    }
    return wrt.map((tensor) => table.get(tensor) ?? zeros(graph, tensor.dtype, tensor.shape));
  });
}
