import fs from 'node:fs';
import path from 'node:path';
import { UserFacingError } from '../../../contract/errors';
import type { StudyDetail, StudySpec } from '../../../contract/studiesSchemas';
import { ModelRegistry } from '../../models/ModelRegistry';
import { ProjectDatabase, ProjectError } from '../../project/ProjectDatabase';
import { checkSpecAgainstProject } from './projectChecks';
import { StudyRunner } from './StudyRunner';
import { StudyStore } from './StudyStore';
import { parseStudySpec, StudySpecError } from './studySpec';

/**
 * `npm run study -- <project folder> <study.json>`: the Studies page's engine without the app. An
 * unfinished study of the same design is resumed (its finished runs are skipped); otherwise a new
 * study is created. Exit status 0 done, 1 the study failed, 2 a bad command line or spec.
 */

export interface StudyCommandIo {
  stdout(line: string): void;
  stderr(line: string): void;
  /** Where relative paths start. */
  cwd: string;
  appVersion: string;
  signal: AbortSignal;
}

export const studyUsage = 'Usage: npm run study -- <project folder> <study.json>';

function readSpec(file: string): StudySpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserFacingError('not-found', `${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, file);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new StudySpecError('spec', `${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return parseStudySpec(raw);
}

/** An unfinished study of exactly this design, to resume. */
function unfinishedStudyOf(store: StudyStore, spec: StudySpec): number | null {
  const json = JSON.stringify(spec);
  const match = store.list().find((study) => study.state !== 'finished' && JSON.stringify(store.spec(study.id)) === json);
  return match?.id ?? null;
}

const percent = (value: number | null): string => (value === null ? '   n/a' : `${(value * 100).toFixed(1).padStart(5)}%`);

/** The over-seeds table: primary metric and AUROC with SD and 95 % CI, one line per group. */
export function summaryTable(detail: StudyDetail, modelName: (id: number) => string): string[] {
  const groups = detail.metrics.filter((m) => m.runId === null && m.metric === 'balancedAccuracy');
  const auroc = new Map(detail.metrics.filter((m) => m.runId === null && m.metric === 'auroc').map((m) => [JSON.stringify([m.modelId, m.method, m.fraction, m.domain, m.testSet]), m]));
  const header = 'model                 method        fraction  domain → test set          bal. acc. ± SD   [95 % CI]          AUROC  [95 % CI]';
  const lines = groups.map((m) => {
    const a = auroc.get(JSON.stringify([m.modelId, m.method, m.fraction, m.domain, m.testSet]));
    const where = `${m.domain || '-'} → ${m.testSet}`;
    return [
      modelName(m.modelId).slice(0, 20).padEnd(21),
      m.method.padEnd(13),
      `${Number((m.fraction * 100).toPrecision(6))}%`.padStart(8),
      ' ',
      where.slice(0, 25).padEnd(26),
      percent(m.value),
      ` ± ${m.sd === null ? ' n/a ' : (m.sd * 100).toFixed(1).padStart(4)}`,
      `  [${percent(m.ciLower)}, ${percent(m.ciUpper)}]`,
      `  ${percent(a?.value ?? null)}  [${percent(a?.ciLower ?? null)}, ${percent(a?.ciUpper ?? null)}]`,
    ].join('');
  });
  return [header, ...lines];
}

export async function runStudyCommand(argv: readonly string[], io: StudyCommandIo): Promise<number> {
  if (argv.length !== 2 || argv.includes('--help')) {
    (argv.includes('--help') ? io.stdout : io.stderr)(studyUsage);
    return argv.includes('--help') ? 0 : 2;
  }
  const [folder, specFile] = argv.map((arg) => path.resolve(io.cwd, arg)) as [string, string];
  let spec: StudySpec;
  try {
    spec = readSpec(specFile);
  } catch (error) {
    io.stderr(`${specFile}: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  let project: ProjectDatabase;
  try {
    project = ProjectDatabase.open(folder);
  } catch (error) {
    io.stderr(error instanceof ProjectError ? error.message : String(error));
    return 1;
  }
  try {
    const store = new StudyStore(project.db);
    const registry = new ModelRegistry(project.db, project.cacheFolder);
    try {
      checkSpecAgainstProject(project.db, spec);
    } catch (error) {
      io.stderr(`${specFile}: ${error instanceof Error ? error.message : String(error)}`);
      return 2;
    }
    const resumed = unfinishedStudyOf(store, spec);
    const studyId = resumed ?? store.create(spec);
    io.stdout(`${resumed ? 'Resuming' : 'Running'} study ${studyId} "${spec.name}" (${spec.kind}) in ${folder}`);
    const runner = new StudyRunner({ db: project.db, models: registry, appVersion: io.appVersion });
    const result = await runner.run(studyId, { signal: io.signal, progress: (done, total, message) => io.stdout(`[${done}/${total}] ${message}`) });
    const detail = store.get(studyId);
    for (const warning of detail.warnings) io.stderr(`WARNING: ${warning}`);
    io.stdout(summaryTable(detail, (id) => registry.get(id).name).join('\n'));
    io.stdout(
      `${result.runsDone} run(s) done, ${result.runsSkipped} already done, ${result.runsFailed} failed${result.cancelled ? ', cancelled' : ''}; ` +
        `${(result.wallMs / 1000).toFixed(1)} s, of which fitting ${(result.fitMs / 1000).toFixed(1)} s.`,
    );
    for (const run of detail.runs.filter((r) => r.status === 'failed')) io.stderr(`run ${run.id} (seed ${run.seed}, ${Number((run.fraction * 100).toPrecision(6))} %) failed: ${run.error}`);
    return result.cancelled ? 1 : 0;
  } catch (error) {
    io.stderr(error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    project.close();
  }
}
