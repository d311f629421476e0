import { expect } from 'vitest';
import { CheckpointError } from '../../../../src-main/services/models/CheckpointError';

/** The CheckpointError `attempt` rejects with; fails the test when it resolves or rejects otherwise. */
export async function caught(attempt: Promise<unknown>): Promise<CheckpointError> {
  const error = await attempt.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, 'expected a CheckpointError').toBeInstanceOf(CheckpointError);
  return error as CheckpointError;
}
