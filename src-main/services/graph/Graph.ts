import { arrayMatchesDType, arrayTypeName, isFloating } from './dtype';
import type { DType, TypedArray } from './dtype';
import { GraphError } from './GraphError';
import { elementCount, formatShape, isValidShape } from './shapes';
import type { Shape } from './shapes';

/** A tensor value of the graph: its shape and dtype are always known. */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly origin: 'input' | 'initializer' | 'node',
    /** The node that computes it (origin 'node'). */
    readonly producer?: GraphNode,
    /** Its values, when it is the output of a Constant node. */
    readonly constantValues?: TypedArray,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** "name float32[2,3]", for error messages. */
  describe(): string {
    return `${this.name} ${this.dtype}${formatShape(this.shape)}`;
  }
}

export interface ConstantTensor {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly values: TypedArray;
}

export type Attribute =
  | { readonly name: string; readonly kind: 'int'; readonly value: number }
  | { readonly name: string; readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly name: string; readonly kind: 'float'; readonly value: number }
  | { readonly name: string; readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly name: string; readonly kind: 'string'; readonly value: string }
  | { readonly name: string; readonly kind: 'tensor'; readonly value: ConstantTensor };

/** One ONNX operator as the builder knows it. Each op module under ops/ defines one. */
export interface OpDefinition {
  readonly opType: string;
  /** ONNX domain; '' is the default ai.onnx domain. */
  readonly domain: string;
}

export interface GraphNode {
  readonly op: OpDefinition;
  readonly name: string;
  /** undefined stands for an omitted optional input (emitted as ''). */
  readonly inputs: readonly (Tensor | undefined)[];
  readonly outputs: readonly Tensor[];
  readonly attributes: readonly Attribute[];
}

/**
 * A composite op inlined as ordinary nodes (as an ONNX function body would be), remembered so
 * the reverse pass can differentiate it as one unit by a rule of its own (autodiff/registry):
 * e.g. GELU's rule recomputes from X alone instead of keeping three intermediates alive.
 * Without such a rule its nodes are differentiated one by one, with the same result.
 */
export interface InlinedFunction {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly nodes: readonly GraphNode[];
}

/**
 * The values of an initializer: in memory, or loaded when the emitter streams it to disk (so
 * that a checkpoint's weights never all sit in memory at once).
 */
export type WeightData = TypedArray | (() => TypedArray | Promise<TypedArray>);

export interface Initializer {
  readonly tensor: Tensor;
  readonly data: WeightData;
}

export interface OutputSpec {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly constantValues?: TypedArray;
}

/**
 * A typed ONNX graph under construction. Ops (see ops/) infer their output shapes and add one
 * node each; nodes are kept in the order they were added, which is a topological order and
 * the tape a reverse-mode pass walks backwards.
 */
export class Graph {
  readonly inputs: Tensor[] = [];
  readonly outputs: Tensor[] = [];
  readonly initializers: Initializer[] = [];
  readonly nodes: GraphNode[] = [];
  private readonly names = new Set<string>();
  private readonly scopes: string[] = [];
  private readonly memo = new Map<string, Tensor>();
  private readonly functions = new Map<GraphNode, InlinedFunction>();
  private readonly recomputed = new Set<Tensor>();
  /** The function being inlined, while its nodes are added. */
  private inlining: string | null = null;
  private counter = 0;

  constructor(readonly name: string) {}

  /** The current scope path, e.g. "blocks.0.attn"; prefixes generated names. */
  get scopeName(): string {
    return this.scopes.join('.');
  }

  /** Runs `build` with generated names prefixed by `name` (nested scopes join with '.'). */
  scope<T>(name: string, build: () => T): T {
    this.scopes.push(name);
    try {
      return build();
    } finally {
      this.scopes.pop();
    }
  }

  input(name: string, dtype: DType, shape: Shape): Tensor {
    this.checkDeclaration('input', name, shape);
    const tensor = new Tensor(this, this.claim(name), dtype, shape, 'input');
    this.inputs.push(tensor);
    return tensor;
  }

  initializer(name: string, dtype: DType, shape: Shape, data: WeightData): Tensor {
    this.checkDeclaration('initializer', name, shape);
    if (typeof data !== 'function') checkWeightArray(name, dtype, shape, data);
    const tensor = new Tensor(this, this.claim(name), dtype, shape, 'initializer');
    this.initializers.push({ tensor, data });
    return tensor;
  }

  /** Marks `tensor` as a graph output, under `name` when given (via an Identity node). */
  output(tensor: Tensor, name?: string): Tensor {
    this.checkOwn('output', tensor);
    let result = tensor;
    if (name !== undefined && name !== tensor.name) {
      [result] = this.addNode(identityOp, [tensor], [{ dtype: tensor.dtype, shape: tensor.shape }], [], [name]) as [Tensor];
    }
    if (this.outputs.includes(result)) throw new GraphError('output', undefined, `${result.name} is already an output`);
    this.outputs.push(result);
    return result;
  }

  /**
   * Adds the nodes `build` emits as the inlined function `name` of `inputs`, whose result is the
   * tensor `build` returns. Its nodes may read only `inputs`, constants and their own outputs.
   */
  inlineFunction(name: string, inputs: readonly Tensor[], build: () => Tensor): Tensor {
    if (this.inlining !== null) throw new GraphError(name, this.scopeName || undefined, `cannot be inlined inside ${this.inlining}`);
    const first = this.nodes.length;
    this.inlining = name;
    let output: Tensor;
    try {
      output = build();
    } finally {
      this.inlining = null;
    }
    const nodes = this.nodes.slice(first);
    const produced = new Set<Tensor>(inputs);
    for (const node of nodes) {
      for (const input of node.inputs) {
        if (input && input.origin === 'node' && input.constantValues === undefined && !produced.has(input)) {
          throw new GraphError(name, node.name, `reads ${input.name}, which is neither an input of the function nor computed inside it`);
        }
      }
      for (const tensor of node.outputs) produced.add(tensor);
    }
    if (!output.producer || !nodes.includes(output.producer)) throw new GraphError(name, this.scopeName || undefined, 'its result is not computed inside it');
    const inlined: InlinedFunction = { name, inputs: [...inputs], output, nodes };
    for (const node of nodes) this.functions.set(node, inlined);
    return output;
  }

  /** The inlined function `node` belongs to, if any. */
  functionOf(node: GraphNode): InlinedFunction | undefined {
    return this.functions.get(node);
  }

  /**
   * Asks the reverse pass to compute `tensor` again where its backward rules read it, from its
   * producer's inputs (recursively for inputs marked too), instead of keeping it alive from the
   * forward pass: memory for a little compute, as activation checkpointing does. For cheap
   * producers only (a LayerNormalization, an inlined GELU, a Where); ONNX Runtime must not merge
   * the copy back into the original (the session worker turns its common-subexpression pass off:
   * models/runtime/workerMain.ts).
   */
  recomputeInBackward(tensor: Tensor): Tensor {
    this.checkOwn('recomputeInBackward', tensor);
    if (!tensor.producer) throw new GraphError('recomputeInBackward', tensor.name, 'only a computed tensor can be computed again');
    this.recomputed.add(tensor);
    return tensor;
  }

  isRecomputedInBackward(tensor: Tensor): boolean {
    return this.recomputed.has(tensor);
  }

  /** Returns the tensor cached under `key`, creating it once (used to share constants). */
  memoize(key: string, create: () => Tensor): Tensor {
    let tensor = this.memo.get(key);
    if (!tensor) {
      tensor = create();
      this.memo.set(key, tensor);
    }
    return tensor;
  }

  /** Adds one node; ops call this after they have checked their inputs and inferred the outputs. */
  addNode(
    op: OpDefinition,
    inputs: readonly (Tensor | undefined)[],
    outputs: readonly OutputSpec[],
    attributes: readonly Attribute[] = [],
    outputNames?: readonly string[],
  ): Tensor[] {
    for (const input of inputs) if (input) this.checkOwn(op.opType, input);
    const base = this.generatedName(op.opType);
    const tensors: Tensor[] = [];
    const node: GraphNode = { op, name: base, inputs: [...inputs], outputs: tensors, attributes: [...attributes] };
    outputs.forEach((spec, index) => {
      if (!isValidShape(spec.shape)) {
        throw new GraphError(op.opType, base, `inferred an invalid output shape ${formatShape(spec.shape)}`);
      }
      const wanted = outputNames?.[index] ?? (outputs.length === 1 ? base : `${base}_${index}`);
      tensors.push(new Tensor(this, this.claim(wanted), spec.dtype, spec.shape, 'node', node, spec.constantValues));
    });
    this.nodes.push(node);
    return tensors;
  }

  private generatedName(opType: string): string {
    const scope = this.scopeName;
    let name: string;
    do {
      name = `${scope ? `${scope}/` : ''}${opType}_${this.counter++}`;
    } while (this.names.has(name));
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new GraphError('Graph', undefined, `the name "${name}" is used twice`);
    this.names.add(name);
    return name;
  }

  private checkDeclaration(kind: string, name: string, shape: Shape): void {
    if (!name) throw new GraphError(kind, undefined, 'a name is required');
    if (!isValidShape(shape)) throw new GraphError(kind, name, `invalid shape ${formatShape(shape)}`);
  }

  private checkOwn(opType: string, tensor: Tensor): void {
    if (tensor.graph !== this) {
      throw new GraphError(opType, this.scopeName || undefined, `${tensor.name} belongs to another graph`);
    }
  }
}

export function checkWeightArray(name: string, dtype: DType, shape: Shape, data: TypedArray): void {
  if (!arrayMatchesDType(data, dtype)) {
    throw new GraphError('initializer', name, `${dtype} data must be a ${arrayTypeName(dtype)}, got ${data.constructor.name}`);
  }
  if (data.length !== elementCount(shape)) {
    throw new GraphError('initializer', name, `shape ${formatShape(shape)} needs ${elementCount(shape)} values, got ${data.length}`);
  }
}

/** Checks that an op's input is floating point (most math ops are not defined for integers). */
export function requireFloating(opType: string, graph: Graph, ...tensors: Tensor[]): void {
  for (const tensor of tensors) {
    if (!isFloating(tensor.dtype)) {
      throw new GraphError(opType, graph.scopeName || undefined, `needs a floating-point tensor, got ${tensor.describe()}`);
    }
  }
}

/** Checks that the tensors share one dtype. */
export function requireSameDType(opType: string, graph: Graph, ...tensors: Tensor[]): void {
  const first = tensors[0];
  if (!first) return;
  for (const tensor of tensors) {
    if (tensor.dtype !== first.dtype) {
      throw new GraphError(
        opType,
        graph.scopeName || undefined,
        `inputs must share one dtype: ${tensors.map((t) => t.describe()).join(', ')}`,
      );
    }
  }
}

/** Throws a GraphError for `opType` in the graph's current scope. */
export function fail(opType: string, graph: Graph, reason: string): never {
  throw new GraphError(opType, graph.scopeName || undefined, reason);
}

/** Identity lives here because Graph.output needs it. Gradient: the output gradient as is. */
export const identityOp: OpDefinition = { opType: 'Identity', domain: '' };
