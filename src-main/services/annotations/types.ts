import type { Consensus } from './consensus';
import type { Geometry } from './geometry';

export type AnnotatorKind = 'person' | 'model';

/** Someone (or some model) whose votes are kept apart from everyone else's. */
export interface Annotator {
  id: number;
  name: string;
  kind: AnnotatorKind;
  createdAt: string;
}

export interface AnnotationClass {
  id: number;
  name: string;
  /** '#rrggbb', lower case. */
  colour: string;
  /** One key, '0'–'9' or 'a'–'z'; unique among live classes. */
  hotkey: string | null;
  sortOrder: number;
  /** Soft-deleted classes keep their votes; they can no longer be chosen. */
  deletedAt: string | null;
}

/** One annotator's class for one annotation. */
export interface Vote {
  annotatorId: number;
  classId: number;
}

export interface VisibleVote extends Vote {
  annotatorKind: AnnotatorKind;
}

/** An annotation as a viewer sees it. */
export interface Annotation {
  id: number;
  /** Stable across export and import (SlideRunner's guid, MIDOG's uid). */
  guid: string;
  slideId: number;
  geometry: Geometry;
  /** Level-0 pixels; the cell centre for a point. */
  centre: { x: number; y: number };
  createdBy: number;
  createdAt: string;
  deletedAt: string | null;
  /** The votes this viewer may see, ascending by annotator id. */
  votes: VisibleVote[];
  /** Null when the viewer is blind (the consensus would reveal the others' votes). */
  consensus: Consensus | null;
}

/** Who sees what: blind mode shows only the viewer's own votes (see AnnotationStore.queryRect). */
export interface ViewerOptions {
  viewerId: number;
  blind?: boolean;
  /** In blind mode: also return others' annotations the viewer has not voted on, without votes. */
  includeUnlabelledCandidates?: boolean;
}

export type ChangeOrigin = 'local' | 'import' | 'undo' | 'redo';

/** Sent after a change has been committed; one event per slide the change touched. */
export interface AnnotationChangeEvent {
  origin: ChangeOrigin;
  slideId: number;
  annotationIds: number[];
  changeId: number;
  actorId: number;
}

export type ChangeKind = 'edit' | 'undo' | 'redo';
