import type { Database } from 'better-sqlite3';
import { UserFacingError } from '../contract/errors';
import {
  countInRegionAnnotation,
  countInStandardArea,
  hotspotOnSlide,
  MitoticCounter,
  sourceFor,
} from '../services/annotations/mitoticCount';
import { ScreeningError } from '../services/screening/ScreeningError';
import { ScreeningStore } from '../services/screening/ScreeningStore';
import type { HandlerTable } from './handlerTable';
import type { Workspace } from './Workspace';

type ScreeningCallName = 'screening.get' | 'screening.start' | 'screening.visit' | 'screening.reset' | 'count.inArea' | 'count.hotspot';

/** One store and one counter per open project database (their statements are prepared once). */
const screeningStores = new WeakMap<Database, ScreeningStore>();
const counters = new WeakMap<Database, MitoticCounter>();

function screening(workspace: Workspace): ScreeningStore {
  const db = workspace.database().db;
  let store = screeningStores.get(db);
  if (!store) {
    store = new ScreeningStore(db);
    screeningStores.set(db, store);
  }
  return store;
}

function counter(workspace: Workspace): MitoticCounter {
  const db = workspace.database().db;
  let found = counters.get(db);
  if (!found) {
    found = new MitoticCounter(db);
    counters.set(db, found);
  }
  return found;
}

/** Screening errors reach the user as they are (their message names the field and what to do). */
function userFacing<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof ScreeningError) throw new UserFacingError(error.code, error.message);
    throw error;
  }
}

/** Screening (fields walked per person, resumable) and the mitotic count with its hotspot. */
export function screeningHandlers(workspace: Workspace): Pick<HandlerTable, ScreeningCallName> {
  return {
    'screening.get': ({ slideId, annotatorId }) => userFacing(() => screening(workspace).get(slideId, annotatorId)),
    'screening.start': ({ slideId, annotatorId, fieldSpec, roiAnnotationId }) =>
      userFacing(() => screening(workspace).start({ slideId, annotatorId, fieldSpec, roiAnnotationId })),
    'screening.visit': ({ slideId, annotatorId, fieldIndex, step }) =>
      userFacing(() => screening(workspace).visit(slideId, annotatorId, fieldIndex, step ?? 1)),
    'screening.reset': ({ slideId, annotatorId }) => userFacing(() => screening(workspace).reset(slideId, annotatorId)),
    'count.inArea': ({ slideId, viewerId, blind, annotatorId, classId, area }) => {
      const source = sourceFor({ viewerId, blind: blind ?? false }, annotatorId);
      return area.kind === 'standard'
        ? countInStandardArea(counter(workspace), { slideId, source, classId, centre: { x: area.x, y: area.y }, areaMm2: area.areaMm2, aspect: area.aspect })
        : countInRegionAnnotation(counter(workspace), { slideId, source, classId, annotationId: area.annotationId });
    },
    'count.hotspot': ({ slideId, viewerId, blind, annotatorId, classId, areaMm2, aspect, roiAnnotationId }) =>
      hotspotOnSlide(counter(workspace), { slideId, source: sourceFor({ viewerId, blind: blind ?? false }, annotatorId), classId, areaMm2, aspect, roiAnnotationId }),
  };
}
