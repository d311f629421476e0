import type { AnnotationGeometry } from '../../../src-main/contract/schemas';

/** The parts of an annotation's state a history entry holds before and after a change. */
export interface HistoryState {
  geometry: AnnotationGeometry;
  deleted: boolean;
  votes: { annotatorId: number; classId: number }[];
}

export interface HistoryChange {
  kind: 'edit' | 'undo' | 'redo';
  before: HistoryState | null;
  after: HistoryState;
}

/** One thing a change did to an annotation, in a form each language can word. */
export type HistoryAction =
  | { type: 'created'; shape: AnnotationGeometry['shape']; votes: number }
  | { type: 'deleted' }
  | { type: 'restored' }
  | { type: 'moved' }
  | { type: 'voted'; annotatorId: number; classId: number }
  | { type: 'voteCleared'; annotatorId: number; classId: number };

/**
 * What a change did, read from the states before and after it rather than from the store's
 * English description, so the history panel can show it in the user's language.
 */
export function historyActions(change: HistoryChange): HistoryAction[] {
  const { before, after } = change;
  if (before === null) return [{ type: 'created', shape: after.geometry.shape, votes: after.votes.length }];
  const actions: HistoryAction[] = [];
  if (!before.deleted && after.deleted) actions.push({ type: 'deleted' });
  if (before.deleted && !after.deleted) actions.push({ type: 'restored' });
  if (JSON.stringify(before.geometry) !== JSON.stringify(after.geometry)) actions.push({ type: 'moved' });
  const previous = new Map(before.votes.map((vote) => [vote.annotatorId, vote.classId]));
  const next = new Map(after.votes.map((vote) => [vote.annotatorId, vote.classId]));
  for (const [annotatorId, classId] of next) {
    if (previous.get(annotatorId) !== classId) actions.push({ type: 'voted', annotatorId, classId });
  }
  for (const [annotatorId, classId] of previous) {
    if (!next.has(annotatorId)) actions.push({ type: 'voteCleared', annotatorId, classId });
  }
  return actions;
}
