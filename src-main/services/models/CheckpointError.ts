/**
 * A checkpoint that cannot be read as it claims to be. The message names the file, and the
 * tensor when one is at fault, because it is shown to the user as it is.
 */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly filePath: string,
    readonly reason: string,
    readonly tensorName?: string,
  ) {
    super(`${filePath}: ${tensorName !== undefined ? `tensor "${tensorName}": ` : ''}${reason}`);
  }
}
