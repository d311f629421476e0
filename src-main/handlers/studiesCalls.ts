import { ModelRegistry } from '../services/models/ModelRegistry';
import { StudyRunner } from '../services/evaluation/study/StudyRunner';
import { StudyStore } from '../services/evaluation/study/StudyStore';
import { exportStudyCsv, exportStudyJson } from '../services/evaluation/study/studyExport';
import { parseStudySpec } from '../services/evaluation/study/studySpec';
import { checkSpecAgainstProject } from '../services/evaluation/study/projectChecks';
import type { HandlerTable } from './handlerTable';
import type { Workspace } from './Workspace';

type StudiesCalls = Pick<
  HandlerTable,
  'studies.create' | 'studies.run' | 'studies.list' | 'studies.get' | 'studies.predictions' | 'studies.exportCsv' | 'studies.exportJson' | 'studies.remove'
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
      // No LoRA trainer is wired in yet: a study that includes LoRA is refused with that reason.
      const runner = new StudyRunner({ db: project.db, models: new ModelRegistry(project.db, project.cacheFolder), appVersion: workspace.version });
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
  };
}
