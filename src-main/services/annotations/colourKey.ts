import type { Consensus } from './consensus';
import type { VisibleVote } from './types';

/** Colour key of a cell nobody (visible to the viewer) has classed: drawn grey. */
export const UNLABELLED_KEY = 0;
/** Colour key of a cell whose voters disagree and the viewer has not voted on: drawn orange. */
export const DISAGREEMENT_KEY = -1;

/**
 * The colour a viewer sees a cell in, as a number: the viewer's own vote's class id, else the
 * agreed class id, else DISAGREEMENT_KEY, else UNLABELLED_KEY. `votes` and `consensus` are
 * as the viewer may see them (asSeenBy: blind mode has no consensus, so never a disagreement).
 * The renderer's labelling.colourOf follows the same rules for full annotations.
 */
export function colourKeyOf(votes: readonly VisibleVote[], consensus: Consensus | null, viewerId: number): number {
  const own = votes.find((vote) => vote.annotatorId === viewerId);
  if (own) return own.classId;
  if (consensus?.status === 'agreed') return consensus.classId;
  if (consensus?.status === 'disagreement') return DISAGREEMENT_KEY;
  return UNLABELLED_KEY;
}
