import type { ChangeKind } from './types';

export interface RecordedChange {
  id: number;
  kind: ChangeKind;
  targetChangeId: number | null;
}

/**
 * One actor's undo and redo stacks, as change ids. `undo` holds edits and redos (what the next
 * undo reverses); `redo` holds undos (what the next redo reverses).
 */
export interface Stacks {
  undo: number[];
  redo: number[];
  /** The newest change of this actor that the stacks include. */
  lastChangeId: number | null;
}

export function emptyStacks(): Stacks {
  return { undo: [], redo: [], lastChangeId: null };
}

/**
 * Applies one more change of the actor, in order: an edit pushes and clears redo; an undo moves
 * its target off the undo stack and pushes itself on the redo stack; a redo moves its target
 * off the redo stack and pushes itself on the undo stack. Replaying all of an actor's changes
 * from empty stacks gives the stacks after a restart.
 */
export function replayChange(stacks: Stacks, change: RecordedChange): void {
  switch (change.kind) {
    case 'edit':
      stacks.undo.push(change.id);
      stacks.redo.length = 0;
      break;
    case 'undo':
      remove(stacks.undo, change.targetChangeId);
      stacks.redo.push(change.id);
      break;
    case 'redo':
      remove(stacks.redo, change.targetChangeId);
      stacks.undo.push(change.id);
      break;
  }
  stacks.lastChangeId = change.id;
}

export function replayAll(changes: Iterable<RecordedChange>): Stacks {
  const stacks = emptyStacks();
  for (const change of changes) replayChange(stacks, change);
  return stacks;
}

/** Normally the top; searched from the top so a history written by two processes still replays. */
function remove(stack: number[], id: number | null): void {
  const index = stack.lastIndexOf(id ?? Number.NaN);
  if (index >= 0) stack.splice(index, 1);
}
