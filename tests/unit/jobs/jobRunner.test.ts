import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../../src-main/contract/schemas';
import { JobRunner } from '../../../src-main/services/jobs/JobRunner';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { SlideLibrary } from '../../../src-main/services/slides/SlideLibrary';
import { TileCache } from '../../../src-main/services/slides/TileCache';
import { writeSyntheticPyramid } from '../../fixtures/syntheticSlides';

let folder: string;
let project: ProjectDatabase;
let events: JobSnapshot[];
let clockMs: number;
const clock = () => new Date(clockMs);

beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-jobs-'));
  project = ProjectDatabase.create(path.join(folder, 'project'), 'jobs');
  events = [];
  clockMs = Date.parse('2026-11-27T10:00:00Z');
});
afterEach(() => {
  project.close();
  fs.rmSync(folder, { recursive: true, force: true });
});

function runner(): JobRunner {
  return new JobRunner(project.db, (job) => events.push(job), clock);
}

describe('JobRunner', () => {
  it('persists progress, estimates the time left from the rate so far, and ends as succeeded', async () => {
    const jobs = runner();
    const { jobId, result } = await jobs.run('count', 'Count to four', { to: 4 }, async (job) => {
      for (let done = 0; done < 4; done += 1) {
        job.progress(done, 4, `item ${done}`);
        clockMs += 1000;
      }
      job.progress(4, 4);
      return 'counted';
    });
    expect(result).toBe('counted');
    const withEstimate = events.find((event) => event.state === 'running' && event.done === 2);
    // Two items in two seconds, two to go: two seconds left.
    expect(withEstimate?.etaSeconds).toBeCloseTo(2);
    expect(withEstimate?.message).toBe('item 2');
    expect(jobs.get(jobId)).toMatchObject({ state: 'succeeded', done: 4, total: 4, etaSeconds: null, error: null });
    expect(jobs.get(jobId)?.finishedAt).not.toBeNull();
  });

  it('stops cancelled work at its next check and records it as cancelled', async () => {
    const jobs = runner();
    let cancelledAt = -1;
    const running = jobs.run('loop', 'Loop', {}, async (job) => {
      for (let step = 0; step < 1000; step += 1) {
        if (job.signal.aborted) {
          cancelledAt = step;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return cancelledAt;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const jobId = jobs.list()[0]!.id;
    expect(jobs.cancel(jobId)).toBe(true);
    await running;
    expect(cancelledAt).toBeGreaterThan(0);
    expect(jobs.get(jobId)?.state).toBe('cancelled');
    expect(jobs.cancel(jobId)).toBe(false);
  });

  it('records a failure with its message and passes the error on', async () => {
    const jobs = runner();
    await expect(jobs.run('fail', 'Fail', {}, async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    expect(jobs.list()[0]).toMatchObject({ state: 'failed', error: 'disk full' });
  });

  it('marks jobs that were running when the app stopped as interrupted', () => {
    project.db
      .prepare("INSERT INTO jobs (kind, title, state, input_json, created_at) VALUES ('x', 'X', 'running', '{}', ?)")
      .run(new Date().toISOString());
    const jobs = runner();
    expect(jobs.list()[0]?.state).toBe('interrupted');
  });

  it('stopAll cancels and waits for running work before the project closes', async () => {
    const jobs = runner();
    let finished = false;
    void jobs.run('wait', 'Wait', {}, async (job) => {
      while (!job.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 2));
      finished = true;
    });
    await jobs.stopAll();
    expect(finished).toBe(true);
    expect(jobs.list()[0]?.state).toBe('cancelled');
  });
});

describe('adding slides as a job', () => {
  it('reports every file and keeps what was added before a cancel', async () => {
    const slidesFolder = path.join(folder, 'slides');
    fs.mkdirSync(slidesFolder);
    for (let i = 0; i < 3; i += 1) await writeSyntheticPyramid(slidesFolder, { width: 600, height: 400, fileName: `s${i}.tif` });
    const library = new SlideLibrary(new SlideCatalog(project.db), path.join(folder, 'thumbs'), new TileCache(1e6), 'abcd1234');
    const controller = new AbortController();
    const seen: [number, number][] = [];
    const result = await library.add([slidesFolder], (done, total) => {
      seen.push([done, total]);
      if (done === 1) controller.abort();
    }, controller.signal);
    // The cancel came as the second file started: it is finished, the third is not looked at.
    expect(seen).toEqual([
      [0, 3],
      [1, 3],
    ]);
    expect(result.added.map((slide) => slide.name)).toEqual(['s0.tif', 's1.tif']);
    expect(result.cancelled).toBe(true);
    const all = await library.add([slidesFolder], (done, total) => seen.push([done, total]));
    expect([all.added.map((slide) => slide.name), all.alreadyPresent.length, all.cancelled]).toEqual([['s2.tif'], 2, false]);
    expect(seen.at(-1)).toEqual([3, 3]);

    const again = new AbortController();
    again.abort();
    const none = await library.add([slidesFolder], () => undefined, again.signal);
    expect(none).toMatchObject({ added: [], cancelled: true });
  });
});
