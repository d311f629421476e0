import type { AnnotatorKind } from './types';

/**
 * The derived class of a cell. Only people's votes count; a model's prediction is shown beside
 * them but never decides:
 * - no person has voted → 'unlabelled';
 * - every person who voted chose the same class → 'agreed' on that class;
 * - otherwise → 'disagreement', with the distinct classes voted (ascending ids).
 */
export type Consensus =
  | { status: 'unlabelled' }
  | { status: 'agreed'; classId: number }
  | { status: 'disagreement'; classIds: number[] };

export interface CountedVote {
  classId: number;
  annotatorKind: AnnotatorKind;
}

export function consensusOf(votes: readonly CountedVote[]): Consensus {
  const classIds = [...new Set(votes.filter((vote) => vote.annotatorKind === 'person').map((vote) => vote.classId))];
  if (classIds.length === 0) return { status: 'unlabelled' };
  if (classIds.length === 1) return { status: 'agreed', classId: classIds[0]! };
  return { status: 'disagreement', classIds: classIds.sort((a, b) => a - b) };
}
