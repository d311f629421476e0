import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectDatabase } from '../../../../src-main/services/project/ProjectDatabase';
import { StudyStore } from '../../../../src-main/services/evaluation/study/StudyStore';
import { createStudyProject } from './studyProject';

const REPO = path.join(import.meta.dirname, '..', '..', '..', '..');
const ENTRY = path.join(REPO, 'src-main', 'cli', 'studyCli.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-study-cli-'));
let modelId: number;

/** `npm run study -- project spec.json` typed in `dir`: npm runs in the package folder and passes `dir` as INIT_CWD. */
function study(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', ENTRY, ...args], { cwd: REPO, env: { ...process.env, INIT_CWD: dir }, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  const fixture = createStudyProject(dir, { slides: 12, cellsPerSlide: 20, dim: 8, positiveShare: 0.3, seed: 3 });
  modelId = fixture.models[0]!.id;
  fixture.project.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('npm run study', () => {
  it('runs a JSON spec headless, prints progress and the summary table', () => {
    fs.writeFileSync(path.join(dir, 'study.json'), JSON.stringify({ name: 'cli', kind: 'data-scaling', models: [modelId], classes: [1, 2], fractions: [0.5, 1], seeds: 2, bootstrapReplicates: 100 }));
    const first = study('project', 'study.json');
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^Running study 1 "cli" \(data-scaling\)/);
    expect(first.stdout).toContain('[4/4] synthetic-1 · linear-probe · 100 % · seed 2');
    expect(first.stdout).toMatch(/^synthetic-1 +linear-probe +50% +- → test +\d+\.\d% ± +\d+\.\d +\[ *\d+\.\d%, +\d+\.\d%\]/m);
    expect(first.stdout).toContain('4 run(s) done, 0 already done, 0 failed');
    const project = ProjectDatabase.open(path.join(dir, 'project'));
    try {
      expect(new StudyStore(project.db).get(1).summary).toMatchObject({ state: 'finished', runsDone: 4 });
    } finally {
      project.close();
    }
  });

  it('exits 2 naming the field of a malformed spec, and the file of bad JSON', () => {
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ name: 'bad', kind: 'data-scaling', models: [modelId], classes: [1, 2], fractions: [0.1, 0.5, 2] }));
    const bad = study('project', 'bad.json');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe(`${path.join(dir, 'bad.json')}: fractions[2]: must be in (0, 1]`);
    fs.writeFileSync(path.join(dir, 'unknown-model.json'), JSON.stringify({ name: 'bad', kind: 'data-scaling', models: [modelId, 99], classes: [1, 2] }));
    expect(study('project', 'unknown-model.json').stderr).toContain('models[1]: there is no model 99 in this project');
    fs.writeFileSync(path.join(dir, 'broken.json'), '{ "name": ');
    const broken = study('project', 'broken.json');
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain('broken.json is not valid JSON');
    expect(study('project').status).toBe(2);
  });
});
