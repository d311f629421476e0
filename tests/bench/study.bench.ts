import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseStudySpec } from '../../src-main/services/evaluation/study/studySpec';
import { StudyRunner } from '../../src-main/services/evaluation/study/StudyRunner';
import { StudyStore } from '../../src-main/services/evaluation/study/StudyStore';
import { WorkerProbeFitter } from '../../src-main/services/training/ProbeFitter';
import { createStudyProject } from '../unit/evaluation/study/studyProject';

/*
 * `npm run bench:study`: the wall time of a 4-fraction × 5-seed linear-probe study on 20,000
 * cached 768-d embeddings of 2 classes on 100 slides, and the share of it spent fitting probes.
 * Splits, prediction, storage, per-run bootstrap CIs and the aggregates make up the rest.
 * Probes are fitted on a worker thread, as in the app (`npm run study` fits them in-thread).
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-bench-study-'));
try {
  const setupStart = performance.now();
  const fixture = createStudyProject(dir, { slides: 100, cellsPerSlide: 200, dim: 768, positiveShare: 0.2, seed: 1, secondAnnotator: false, separation: 0.6 });
  console.log(`setup: ${fixture.cellCount} cells with cached 768-d embeddings in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);
  const store = new StudyStore(fixture.project.db);
  const spec = parseStudySpec({ name: 'bench', kind: 'data-scaling', models: [fixture.models[0]!.id], classes: [1, 2] });
  const studyId = store.create(spec);
  const probeFitter = new WorkerProbeFitter({ file: path.resolve(import.meta.dirname, '../unit/training/probeWorkerEntry.mjs') });
  const runner = new StudyRunner({ db: fixture.project.db, models: fixture.registry, appVersion: 'bench', probeFitter });
  const result = await runner.run(studyId, { signal: new AbortController().signal, progress: () => {} });
  await probeFitter.close();
  const seconds = result.wallMs / 1000;
  console.log(`study: ${result.runsDone} runs (${spec.fractions.length} fractions × ${spec.seeds.length} seeds), ${spec.bootstrapReplicates} bootstrap replicates`);
  console.log(`wall time: ${seconds.toFixed(1)} s (target < 60 s); fitting ${(result.fitMs / 1000).toFixed(1)} s = ${((100 * result.fitMs) / result.wallMs).toFixed(0)} % of it`);
  const full = store.metrics(studyId).filter((m) => m.runId === null && m.metric === 'balancedAccuracy');
  for (const m of full) console.log(`  ${(m.fraction * 100).toString().padStart(5)} %: balanced accuracy ${m.value?.toFixed(3)} ± ${m.sd?.toFixed(3)} [${m.ciLower?.toFixed(3)}, ${m.ciUpper?.toFixed(3)}]`);
  fixture.project.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
