import type { Database } from 'better-sqlite3';
import { ReviewQueries } from '../services/annotations/ReviewQueries';
import type { HandlerTable } from './handlerTable';
import type { Workspace } from './Workspace';

type ReviewCalls = Pick<HandlerTable, 'review.cells' | 'review.labelLog' | 'review.disagreements'>;

/** One ReviewQueries (its prepared statements) per open project database. */
const queriesByDatabase = new WeakMap<Database, ReviewQueries>();

function reviewOf(workspace: Workspace): ReviewQueries {
  const { db } = workspace.database();
  let queries = queriesByDatabase.get(db);
  if (!queries) {
    queries = new ReviewQueries(db);
    queriesByDatabase.set(db, queries);
  }
  return queries;
}

/** The cell gallery, the label log and the disagreement review; read-only. */
export function reviewHandlers(workspace: Workspace): ReviewCalls {
  return {
    'review.cells': ({ viewerId, blind, includeUnlabelledCandidates, filter, limit, offset }) =>
      reviewOf(workspace).cells(
        filter ?? {},
        { viewerId, blind: blind ?? false, includeUnlabelledCandidates: includeUnlabelledCandidates ?? false },
        { limit: limit ?? 200, offset: offset ?? 0 },
      ),
    'review.labelLog': ({ annotatorId, from, to, utcOffsetMinutes, limit, offset }) =>
      reviewOf(workspace).labelLog({ annotatorId, from, to, utcOffsetMinutes, limit, offset }),
    'review.disagreements': ({ viewerId, blind, slideIds, limit, offset }) =>
      reviewOf(workspace).disagreements({ viewerId, blind: blind ?? false }, { limit: limit ?? 200, offset: offset ?? 0 }, slideIds),
  };
}
