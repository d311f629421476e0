/**
 * A slide file that cannot be opened or read. The message always names the file and the
 * reason, because it is shown to the user as it is.
 */
export class SlideError extends Error {
  override readonly name = 'SlideError';
  constructor(
    readonly filePath: string,
    readonly reason: string,
    /** 'unsupported': a valid file this reader cannot handle (another reader may). */
    readonly kind: 'unsupported' | 'corrupt' | 'missing' = 'corrupt',
  ) {
    super(`${filePath}: ${reason}`);
  }
}
