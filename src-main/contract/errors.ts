/** Error codes the renderer can react to; the message is always readable by a person. */
export type ErrorCode =
  | 'invalid-argument'
  | 'not-found'
  | 'no-project'
  | 'project-newer'
  | 'project-unreadable'
  | 'unwritable'
  | 'slide-unreadable'
  | 'file-exists'
  | 'unauthorized'
  | 'internal';

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  /** The file at fault, when there is one. */
  file?: string;
}

/** What crosses either transport for every call. */
export type Envelope<T> = { ok: true; result: T } | { ok: false; error: ErrorInfo };

/** Thrown by handlers for a failure the user should see as it is. */
export class UserFacingError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
  toInfo(): ErrorInfo {
    return this.file === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, file: this.file };
  }
}
