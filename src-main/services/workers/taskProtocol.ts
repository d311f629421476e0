/** The messages between a TaskWorker and its thread (serveTasks). */

export interface TaskWorkerData {
  /** Which tasks the thread serves: it answers only when this matches its own kind. */
  readonly kind: string;
}

export interface TaskRequest<Request> {
  readonly id: number;
  readonly request: Request;
}

/** A failure keeps its error's name and own string fields (e.g. a TrainingError's method and reason). */
export interface TaskFailure {
  readonly name: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, string>>;
}

export type TaskResponse<Result> = { readonly id: number; readonly ok: true; readonly result: Result } | { readonly id: number; readonly ok: false; readonly failure: TaskFailure };
