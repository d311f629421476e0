import type { JobSnapshot } from '../../../src-main/contract/schemas';
import { client } from '../api/client';
import { appState } from './appState.svelte';

/** Long work in the open project, as the main process reports it. */
class JobsState {
  #jobs = $state<JobSnapshot[]>([]);

  get running(): JobSnapshot[] {
    return this.#jobs.filter((job) => job.state === 'running');
  }

  start(): void {
    client.on('jobs.changed', (job) => {
      this.#jobs = [job, ...this.#jobs.filter((known) => known.id !== job.id)].slice(0, 20);
    });
  }

  async cancel(jobId: number): Promise<void> {
    await appState.run(() => client.call('jobs.cancel', { jobId }));
  }
}

export const jobsState = new JobsState();
