/**
 * Errors of the annotation store. Each names the argument at fault (`field`, e.g. "slideId" or
 * "geometry.points[2][0]") and carries the contract's error code, so a handler can pass it on as
 * it is. Nothing is written when one is thrown.
 */
export abstract class AnnotationError extends Error {
  abstract readonly code: 'invalid-argument' | 'not-found';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = new.target.name;
  }
}

/** A value that is malformed or not allowed (NaN coordinate, polygon of two points, taken hotkey). */
export class InvalidAnnotationInputError extends AnnotationError {
  readonly code = 'invalid-argument';
}

/** An id that names no live slide, class, annotator or annotation of this project. */
export class UnknownReferenceError extends AnnotationError {
  readonly code = 'not-found';

  constructor(
    field: string,
    readonly entity: 'slide' | 'class' | 'annotator' | 'annotation',
    readonly id: unknown,
    detail = '',
  ) {
    super(field, `no ${entity} ${formatId(id)} in this project${detail}`);
  }
}

function formatId(id: unknown): string {
  return typeof id === 'string' ? JSON.stringify(id) : String(id);
}
