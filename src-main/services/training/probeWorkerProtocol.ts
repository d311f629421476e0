import type { FeatureMatrix, LinearProbe, LinearProbeOptions } from './linearProbe';

/** The messages between a ProbeFitter and its worker thread (probeWorker.ts). */

export interface ProbeWorkerData {
  readonly kind: 'mitobench-probe-worker';
}

export interface ProbeRequest {
  readonly id: number;
  readonly matrix: FeatureMatrix;
  readonly labels: readonly number[];
  readonly options: LinearProbeOptions;
}

export type ProbeResponse =
  | { readonly id: number; readonly ok: true; readonly probe: LinearProbe }
  /** A TrainingError keeps its method and reason, so it reaches the user as it would in-thread. */
  | { readonly id: number; readonly ok: false; readonly message: string; readonly trainingError?: { readonly method: string; readonly reason: string } };
