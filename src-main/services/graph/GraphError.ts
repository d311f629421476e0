/**
 * A graph that cannot be built as asked: wrong shapes, dtypes or arguments. The message names
 * the op (and the node) and the shapes involved, because a model definition that does not fit
 * its checkpoint surfaces here.
 */
export class GraphError extends Error {
  override readonly name = 'GraphError';
  constructor(
    readonly opType: string,
    readonly nodeName: string | undefined,
    readonly reason: string,
  ) {
    super(`${opType}${nodeName ? ` (${nodeName})` : ''}: ${reason}`);
  }
}
