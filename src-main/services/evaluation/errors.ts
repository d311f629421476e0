/** Bad input to an evaluation function; `field` names the argument at fault so a study spec error can point at it. */
export class InvalidEvaluationInputError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'InvalidEvaluationInputError';
  }
}
