import { serveTasks } from '../workers/serveTasks';
import { fitLinearProbe } from './linearProbe';
import type { LinearProbe } from './linearProbe';
import { PROBE_WORKER_KIND } from './ProbeFitter';
import type { ProbeRequest } from './ProbeFitter';

/**
 * The linear-probe worker thread: fits one probe per request (L-BFGS over up to 10⁸ values takes
 * seconds, which the main process must not spend blocked).
 */
serveTasks<ProbeRequest, LinearProbe>(PROBE_WORKER_KIND, ({ matrix, labels, options }) => {
  const probe = fitLinearProbe(matrix, labels, options);
  return { result: probe, transfer: [probe.weights.buffer as ArrayBuffer, probe.bias.buffer as ArrayBuffer] };
});
