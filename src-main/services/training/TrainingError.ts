/**
 * Training input or settings that cannot work. The message names the method and the thing at
 * fault (which row, which class, which option), because it reaches the user as it is.
 */
export class TrainingError extends Error {
  override readonly name = 'TrainingError';
  constructor(
    readonly method: string,
    readonly reason: string,
  ) {
    super(`${method}: ${reason}`);
  }
}
