import { StudyRunner } from '../services/evaluation/study/StudyRunner';
import { StudyStore } from '../services/evaluation/study/StudyStore';
import { exportStudyCsv, exportStudyJson } from '../services/evaluation/study/studyExport';
import { exportStudyReport } from '../services/evaluation/study/studyReport';
import { studyAgreement } from '../services/evaluation/study/studyAgreement';
import { studyClinical } from '../services/evaluation/study/studyClinical';
import { parseStudySpec } from '../services/evaluation/study/studySpec';
import { checkSpecAgainstProject } from '../services/evaluation/study/projectChecks';
import type { HandlerTable } from './handlerTable';
import { registryOf } from './modelsCalls';
import { probeFitterOf, trainingServiceOf } from './trainingCalls';
import type { Workspace } from './Workspace';

type StudiesCalls = Pick<
  HandlerTable,
  'studies.create' | 'studies.run' | 'studies.list' | 'studies.get' | 'studies.predictions' | 'studies.exportCsv' | 'studies.exportJson' | 'studies.remove' | 'studies.exportReport' | 'studies.agreement' | 'studies.clinical'
>;

export function studiesHandlers(workspace: Workspace): StudiesCalls {
  const db = () => workspace.database().db;
  const store = () => new StudyStore(db());
  return {
    'studies.create': ({ spec }) => {
      const parsed = parseStudySpec(spec);
      checkSpecAgainstProject(db(), parsed);
      return { studyId: store().create(parsed) };
    },
    'studies.run': async ({ studyId }) => {
      const project = workspace.database();
      const spec = store().spec(studyId);
      const runner = new StudyRunner({ db: project.db, models: registryOf(workspace), appVersion: workspace.version, lora: trainingServiceOf(workspace).loraRunner(), probeFitter: probeFitterOf() });
      const { result } = await workspace.jobs().run('studies.run', `Study: ${spec.name}`, { studyId }, (job) => runner.run(studyId, job));
      return result;
    },
    'studies.list': () => store().list(),
    'studies.get': ({ studyId }) => store().get(studyId),
    'studies.predictions': ({ runId }) => store().predictions(runId),
    'studies.exportCsv': ({ studyId, path, overwrite }) => ({ files: exportStudyCsv(store(), studyId, path, overwrite) }),
    'studies.exportJson': ({ studyId, path, overwrite }) => ({ files: exportStudyJson(store(), studyId, path, overwrite) }),
    'studies.remove': ({ studyId }) => {
      store().remove(studyId);
      return {};
    },
    'studies.exportReport': ({ studyId, path, overwrite, plots }) => exportStudyReport(db(), { studyId, target: path, overwrite: overwrite ?? false, plots: plots ?? [], appVersion: workspace.version }),
    'studies.agreement': ({ studyId }) => studyAgreement(db(), studyId),
    'studies.clinical': ({ runId, testSet }) => studyClinical(db(), runId, testSet),
  };
}
