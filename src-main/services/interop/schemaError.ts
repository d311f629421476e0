import type { z } from 'zod';
import { InteropError, jsonPath } from './InteropError';

/** The first problem a schema found, as an InteropError at its JSON path (with a count of the rest). */
export function interopErrorFromSchema(error: z.ZodError, file: string): InteropError {
  const [first, ...rest] = error.issues;
  if (!first) return new InteropError(file, '', 'does not have the expected structure');
  let problem = first.message;
  // zod says "expected array, received undefined" for a missing key; say it plainly.
  if (first.code === 'invalid_type' && /received undefined$/.test(first.message)) {
    problem = `is missing (expected ${first.expected})`;
  }
  if (rest.length > 0) problem += ` (and ${rest.length} more problem${rest.length === 1 ? '' : 's'})`;
  return new InteropError(file, jsonPath(first.path), problem);
}
