import { parentPort, workerData } from 'node:worker_threads';
import { augmentAndNormalise } from './augmentProtocol';
import type { AugmentRequest, AugmentResponse, AugmentWorkerData } from './augmentProtocol';

/**
 * An augmentation worker thread: augments and normalises one patch per request and answers with
 * the CHW floats (transferred, not copied). A bad task comes back as a message, never a crash.
 */
const port = parentPort;
if (port && (workerData as AugmentWorkerData | undefined)?.kind === 'mitobench-augment-worker') {
  port.on('message', (request: AugmentRequest) => {
    let response: AugmentResponse;
    try {
      response = { id: request.id, ok: true, pixels: augmentAndNormalise(request.task) };
    } catch (error) {
      response = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(response, response.ok ? [response.pixels.buffer as ArrayBuffer] : []);
  });
}
