import { parentPort, workerData } from 'node:worker_threads';
import type { TaskFailure, TaskRequest, TaskResponse, TaskWorkerData } from './taskProtocol';

function failureOf(error: unknown): TaskFailure {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(error)) if (typeof value === 'string') fields[key] = value;
  return { name: error.name, message: error.message, fields };
}

/**
 * The body of a task worker thread of this `kind`: answers each request with `handle`'s result
 * (its `transfer` buffers moved, not copied), in order; a task that throws comes back as a failure.
 */
export function serveTasks<Request, Result>(kind: string, handle: (request: Request) => { result: Result; transfer?: ArrayBuffer[] }): void {
  const port = parentPort;
  if (!port || (workerData as TaskWorkerData | undefined)?.kind !== kind) return;
  port.on('message', ({ id, request }: TaskRequest<Request>) => {
    let response: TaskResponse<Result>;
    let transfer: ArrayBuffer[] = [];
    try {
      const answer = handle(request);
      response = { id, ok: true, result: answer.result };
      transfer = answer.transfer ?? [];
    } catch (error) {
      response = { id, ok: false, failure: failureOf(error) };
    }
    port.postMessage(response, transfer);
  });
}
