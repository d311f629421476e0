import { calls, isCallName, type CallName } from '../contract/api';
import { UserFacingError, type Envelope, type ErrorInfo } from '../contract/errors';
import { AnnotationError } from '../services/annotations/errors';
import { InteropError } from '../services/interop/InteropError';
import { ProjectError } from '../services/project/ProjectDatabase';
import { SlideError } from '../services/slides/SlideError';
import { RelinkMismatchError, SlideNotFoundError } from '../services/slides/SlideLibrary';
import { TileOutOfRangeError } from '../services/slides/TileGrid';
import type { HandlerTable } from './handlerTable';

/**
 * Runs one call from either transport: validates the name and the argument against the
 * contract, runs the handler, and wraps the result or the error in the envelope.
 */
export async function dispatch(table: HandlerTable, name: string, rawInput: unknown): Promise<Envelope<unknown>> {
  if (!isCallName(name)) {
    return { ok: false, error: { code: 'invalid-argument', message: `unknown call "${name}"` } };
  }
  const parsed = calls[name].input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ');
    return { ok: false, error: { code: 'invalid-argument', message: `${name}: ${detail}` } };
  }
  try {
    const handler = table[name] as (input: unknown) => unknown;
    const result = await handler(parsed.data);
    return { ok: true, result: calls[name as CallName].output.parse(result) };
  } catch (error) {
    return { ok: false, error: toErrorInfo(error) };
  }
}

export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof UserFacingError) return error.toInfo();
  if (error instanceof SlideError) {
    return { code: error.kind === 'missing' ? 'not-found' : 'slide-unreadable', message: error.message, file: error.filePath };
  }
  if (error instanceof ProjectError) {
    const code = error.code === 'corrupt' ? 'project-unreadable' : error.code;
    return { code, message: error.message, file: error.file };
  }
  if (error instanceof RelinkMismatchError) return { code: 'invalid-argument', message: error.message, file: error.file };
  if (error instanceof SlideNotFoundError) return { code: 'not-found', message: error.message };
  if (error instanceof TileOutOfRangeError) return { code: 'not-found', message: error.message };
  // The message starts with the field at fault, e.g. "slideId: no slide 9 in this project".
  if (error instanceof AnnotationError) return { code: error.code, message: error.message };
  if (error instanceof InteropError) return { code: 'invalid-argument', message: error.message, file: error.file };
  console.error(error);
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}
