import { consensusOf, type Consensus } from './consensus';
import type { ViewerOptions, VisibleVote } from './types';

/**
 * What a viewer may see of one annotation, or null when it is hidden from them.
 * Open mode: every vote (people's and models') and the consensus.
 * Blind mode: only the viewer's own vote and no consensus. An annotation the viewer neither
 * created nor voted on is hidden, unless `includeUnlabelledCandidates`: then it is shown as a
 * candidate without any vote, so a second opinion can be given without seeing the first.
 */
export function asSeenBy(
  annotation: { createdBy: number; votes: readonly VisibleVote[] },
  viewer: ViewerOptions,
): { votes: VisibleVote[]; consensus: Consensus | null } | null {
  if (!viewer.blind) return { votes: [...annotation.votes], consensus: consensusOf(annotation.votes) };
  const own = annotation.votes.filter((vote) => vote.annotatorId === viewer.viewerId);
  if (own.length > 0 || annotation.createdBy === viewer.viewerId) return { votes: own, consensus: null };
  return viewer.includeUnlabelledCandidates ? { votes: [], consensus: null } : null;
}
