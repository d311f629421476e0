import type { Database } from 'better-sqlite3';
import type { StudySpec } from '../../../contract/studiesSchemas';
import { StudySpecError } from './studySpec';

function existingIds(db: Database, sql: string): Set<number> {
  return new Set((db.prepare(sql).all() as { id: number }[]).map((row) => row.id));
}

/**
 * Refuses a design that names what this project does not have, at the field that names it:
 * "models[1]: there is no model 7 in this project".
 */
export function checkSpecAgainstProject(db: Database, spec: StudySpec): void {
  const models = existingIds(db, 'SELECT id FROM models');
  spec.models.forEach((id, i) => {
    if (!models.has(id)) throw new StudySpecError(`models[${i}]`, `there is no model ${id} in this project`);
  });
  const classes = existingIds(db, 'SELECT id FROM classes WHERE deleted_at IS NULL');
  spec.classes.forEach((id, i) => {
    if (!classes.has(id)) throw new StudySpecError(`classes[${i}]`, `there is no class ${id} in this project`);
  });
  if (spec.labels.source === 'annotator' && !existingIds(db, 'SELECT id FROM annotators').has(spec.labels.annotatorId)) {
    throw new StudySpecError('labels.annotatorId', `there is no annotator ${spec.labels.annotatorId} in this project`);
  }
  if (spec.domain) {
    const values = db.prepare('SELECT COUNT(DISTINCT value) AS n FROM slide_tags WHERE key = ?').get(spec.domain.tagKey) as { n: number };
    if (values.n < 2) throw new StudySpecError('domain.tagKey', `slides carry ${values.n} distinct "${spec.domain.tagKey}" value(s); cross-domain needs at least 2`);
  }
}
