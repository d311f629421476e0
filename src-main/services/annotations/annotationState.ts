import { geometriesEqual, type Geometry } from './geometry';
import type { Vote } from './types';

/**
 * Everything about one annotation that a change can alter, as stored in change_items.before_json
 * and after_json. `before` is null for the change that created the annotation.
 */
export interface AnnotationState {
  geometry: Geometry;
  deleted: boolean;
  /** Ascending by annotator id. */
  votes: Vote[];
}

export function stateToJson(state: AnnotationState): string {
  return JSON.stringify(state);
}

export function stateFromJson(json: string | null): AnnotationState | null {
  return json === null ? null : (JSON.parse(json) as AnnotationState);
}

export function sortVotes(votes: Vote[]): Vote[] {
  return votes.map(({ annotatorId, classId }) => ({ annotatorId, classId })).sort((a, b) => a.annotatorId - b.annotatorId);
}

export function voteOf(state: AnnotationState | null, annotatorId: number): number | null {
  return state?.votes.find((vote) => vote.annotatorId === annotatorId)?.classId ?? null;
}

export function statesEqual(a: AnnotationState, b: AnnotationState): boolean {
  return (
    a.deleted === b.deleted &&
    geometriesEqual(a.geometry, b.geometry) &&
    a.votes.length === b.votes.length &&
    a.votes.every((vote, index) => vote.annotatorId === b.votes[index]!.annotatorId && vote.classId === b.votes[index]!.classId)
  );
}

/**
 * Carries the difference `from` → `to` over to `current`: only the fields that differ between
 * `from` and `to` (geometry, deleted flag, each annotator's vote) are set to their `to` value.
 * Undo is `carryOver(current, change.after, change.before)`. Without interleaved edits it yields
 * exactly `change.before`; with them it keeps what others did since (another person's vote
 * cast after mine is not wiped when I undo my move).
 */
export function carryOver(current: AnnotationState, from: AnnotationState | null, to: AnnotationState | null): AnnotationState {
  const fromState = from ?? absent(to ?? current);
  const toState = to ?? absent(from ?? current);
  const votes = new Map(current.votes.map((vote) => [vote.annotatorId, vote.classId]));
  const annotators = new Set([...fromState.votes, ...toState.votes].map((vote) => vote.annotatorId));
  for (const annotatorId of annotators) {
    const target = voteOf(toState, annotatorId);
    if (voteOf(fromState, annotatorId) === target) continue;
    if (target === null) votes.delete(annotatorId);
    else votes.set(annotatorId, target);
  }
  return {
    geometry: geometriesEqual(fromState.geometry, toState.geometry) ? current.geometry : toState.geometry,
    deleted: fromState.deleted === toState.deleted ? current.deleted : toState.deleted,
    votes: sortVotes([...votes].map(([annotatorId, classId]) => ({ annotatorId, classId }))),
  };
}

/** An annotation before it was created: as if deleted, with no votes. */
function absent(like: AnnotationState): AnnotationState {
  return { geometry: like.geometry, deleted: true, votes: [] };
}
