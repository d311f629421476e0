/**
 * A screening request that cannot be carried out as asked. The message starts with the field at
 * fault (e.g. "fieldSpec: ...") and says what to do instead; nothing is written when one is thrown.
 */
export class ScreeningError extends Error {
  constructor(
    readonly code: 'invalid-argument' | 'not-found',
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ScreeningError';
  }
}
