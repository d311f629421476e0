import { describe, expect, it } from 'vitest';
import { historyActions, type HistoryState } from '../../../src-renderer/lib/viewer/historyText';

const at = (x: number, votes: HistoryState['votes'] = [], deleted = false): HistoryState => ({
  geometry: { shape: 'point', x, y: 0 },
  deleted,
  votes,
});

describe('history entries in words', () => {
  it('reads creation, votes, moves, deletion and restoring from the states before and after', () => {
    expect(historyActions({ kind: 'edit', before: null, after: at(1, [{ annotatorId: 1, classId: 2 }]) })).toEqual([
      { type: 'created', shape: 'point', votes: 1 },
    ]);
    expect(historyActions({ kind: 'edit', before: at(1), after: at(5) })).toEqual([{ type: 'moved' }]);
    expect(
      historyActions({ kind: 'edit', before: at(1, [{ annotatorId: 1, classId: 2 }]), after: at(1, [{ annotatorId: 1, classId: 3 }]) }),
    ).toEqual([{ type: 'voted', annotatorId: 1, classId: 3 }]);
    expect(historyActions({ kind: 'edit', before: at(1, [{ annotatorId: 4, classId: 2 }]), after: at(1) })).toEqual([
      { type: 'voteCleared', annotatorId: 4, classId: 2 },
    ]);
    expect(historyActions({ kind: 'edit', before: at(1), after: at(1, [], true) })).toEqual([{ type: 'deleted' }]);
    expect(historyActions({ kind: 'undo', before: at(1, [], true), after: at(1) })).toEqual([{ type: 'restored' }]);
  });

  it('leaves the other annotators’ unchanged votes out', () => {
    const before = at(1, [{ annotatorId: 1, classId: 2 }, { annotatorId: 2, classId: 2 }]);
    const after = at(1, [{ annotatorId: 1, classId: 2 }, { annotatorId: 2, classId: 3 }]);
    expect(historyActions({ kind: 'edit', before, after })).toEqual([{ type: 'voted', annotatorId: 2, classId: 3 }]);
  });
});
