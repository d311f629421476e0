import { parentPort, workerData } from 'node:worker_threads';
import { fitLinearProbe } from './linearProbe';
import type { ProbeRequest, ProbeResponse, ProbeWorkerData } from './probeWorkerProtocol';
import { TrainingError } from './TrainingError';

/**
 * A linear-probe worker thread: fits one probe per request (L-BFGS over up to 10⁸ values takes
 * seconds, which the main process must not spend blocked). A bad fit comes back as a message.
 */
const port = parentPort;
if (port && (workerData as ProbeWorkerData | undefined)?.kind === 'mitobench-probe-worker') {
  port.on('message', (request: ProbeRequest) => {
    let response: ProbeResponse;
    try {
      response = { id: request.id, ok: true, probe: fitLinearProbe(request.matrix, request.labels, request.options) };
    } catch (error) {
      const trainingError = error instanceof TrainingError ? { method: error.method, reason: error.reason } : undefined;
      response = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error), trainingError };
    }
    port.postMessage(response, response.ok ? [response.probe.weights.buffer as ArrayBuffer, response.probe.bias.buffer as ArrayBuffer] : []);
  });
}
