import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';

/*
 * The benchmark process's memory. Sessions run in worker threads of the process, so its resident
 * set covers them. On Linux the peak (VmHWM) can be reset, so a peak belongs to one session;
 * elsewhere only process.resourceUsage().maxRSS is known, a peak over the whole run.
 */

function procStatusKiB(field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current resident set (Linux ≥ 4.0); false where that is not possible. */
export function resetPeak(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export const residentMiB = (): number => (procStatusKiB('VmRSS') ?? process.memoryUsage().rss / 1024) / 1024;
export const peakMiB = (): number => (procStatusKiB('VmHWM') ?? process.resourceUsage().maxRSS) / 1024;

/**
 * Runs a full garbage collection, so a peak measured next does not depend on whether garbage of
 * earlier work (the graph builder's copy of the weights) happened to be collected yet.
 */
export function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}
