import { expect } from 'vitest';
import { InteropError } from '../../../src-main/services/interop/InteropError';

/** Runs `attempt` and checks it fails with an InteropError naming the file, the place and the problem. */
export function expectInteropError(attempt: () => unknown, file: string, place: string | RegExp, problem: RegExp): InteropError {
  let caught: unknown;
  try {
    attempt();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an InteropError').toBeInstanceOf(InteropError);
  const error = caught as InteropError;
  expect(error.file).toBe(file);
  if (typeof place === 'string') expect(error.place).toBe(place);
  else expect(error.place).toMatch(place);
  expect(error.problem).toMatch(problem);
  expect(error.message).toContain(file);
  return error;
}
