import { z } from 'zod';
import {
  addSlidesResultSchema,
  annotationClassSchema,
  annotationSchema,
  annotatorKindSchema,
  annotatorSchema,
  changeOriginSchema,
  changeReceiptSchema,
  geometrySchema,
  historyEntrySchema,
  levelZeroRectSchema,
  recordIdSchema,
  undoReceiptSchema,
  appInfoSchema,
  folderListingSchema,
  jobSnapshotSchema,
  languageSchema,
  pathSchema,
  projectSummarySchema,
  readerChoiceSchema,
  slideIdSchema,
  slideSummarySchema,
  slideTagSchema,
  tileSourceInfoSchema,
  viewerRendererSchema,
} from './schemas';
import type { CallName, EventName } from './channels';
import { screeningCallSchemas } from './screeningSchemas';
import { reviewCalls } from './reviewSchemas';
import { exportCallSchemas } from './exportSchemas';
import { formatsCallSchemas } from './formatsSchemas';
import { modelsCallSchemas } from './modelsSchemas';
import { embeddingsCallSchemas } from './embeddingsSchemas';
import { studiesCallSchemas } from './studiesSchemas';
import { trainingCallSchemas } from './trainingSchemas';

export { callNames, eventNames, type CallName, type EventName } from './channels';

interface CallSchema {
  input: z.ZodType;
  output: z.ZodType;
}

/**
 * Every call the renderer can make, with runtime schemas for its input and output. Both
 * transports (Electron IPC and the browser-mode HTTP server) validate against this table.
 */
export const calls = {
  'app.info': { input: z.object({}), output: appInfoSchema },
  'settings.setLanguage': { input: z.object({ language: languageSchema }), output: z.object({}) },
  'settings.setViewerRenderer': { input: z.object({ renderer: viewerRendererSchema }), output: z.object({}) },
  'settings.setAnnotatorName': { input: z.object({ name: z.string().trim().min(1).max(200) }), output: z.object({}) },

  'project.create': {
    input: z.object({ folder: pathSchema, name: z.string().trim().min(1).max(200) }),
    output: projectSummarySchema,
  },
  'project.open': { input: z.object({ folder: pathSchema }), output: projectSummarySchema },
  'project.close': { input: z.object({}), output: z.object({}) },
  'project.forgetRecent': { input: z.object({ folder: pathSchema }), output: z.object({}) },

  'files.listFolder': { input: z.object({ path: pathSchema }), output: folderListingSchema },

  'slides.list': { input: z.object({}), output: z.array(slideSummarySchema) },
  'slides.add': {
    input: z.object({ paths: z.array(pathSchema).min(1).max(10_000) }),
    output: addSlidesResultSchema,
  },
  'slides.remove': { input: z.object({ slideId: slideIdSchema }), output: z.object({}) },
  'slides.setTags': {
    input: z.object({ slideId: slideIdSchema, tags: z.array(slideTagSchema).max(100) }),
    output: slideSummarySchema,
  },
  'slides.relink': { input: z.object({ slideId: slideIdSchema, path: pathSchema }), output: slideSummarySchema },
  'slides.setReader': {
    input: z.object({ slideId: slideIdSchema, reader: readerChoiceSchema }),
    output: slideSummarySchema,
  },
  'slides.tileSource': { input: z.object({ slideId: slideIdSchema }), output: tileSourceInfoSchema },

  'jobs.list': { input: z.object({}), output: z.array(jobSnapshotSchema) },
  'jobs.cancel': { input: z.object({ jobId: z.number().int().positive() }), output: z.object({ cancelled: z.boolean() }) },

  'annotations.classes': { input: z.object({}), output: z.array(annotationClassSchema) },
  'annotations.annotators': { input: z.object({}), output: z.array(annotatorSchema) },
  'annotations.ensureAnnotator': {
    input: z.object({ name: z.string().trim().min(1).max(200), kind: annotatorKindSchema }),
    output: annotatorSchema,
  },
  'annotations.query': {
    input: z.object({
      slideId: slideIdSchema,
      rect: levelZeroRectSchema,
      viewerId: recordIdSchema,
      blind: z.boolean().default(false),
      includeUnlabelledCandidates: z.boolean().default(false),
    }),
    output: z.array(annotationSchema),
  },
  'annotations.create': {
    input: z.object({
      slideId: slideIdSchema,
      geometry: geometrySchema,
      actorId: recordIdSchema,
      classId: recordIdSchema.nullable().optional(),
    }),
    output: z.object({ id: recordIdSchema, guid: z.string() }),
  },
  'annotations.move': {
    input: z.object({ annotationId: recordIdSchema, actorId: recordIdSchema, geometry: geometrySchema }),
    output: changeReceiptSchema,
  },
  'annotations.vote': {
    input: z.object({ annotationId: recordIdSchema, actorId: recordIdSchema, classId: recordIdSchema }),
    output: changeReceiptSchema,
  },
  'annotations.clearVote': {
    input: z.object({ annotationId: recordIdSchema, actorId: recordIdSchema }),
    output: changeReceiptSchema,
  },
  'annotations.delete': {
    input: z.object({ annotationId: recordIdSchema, actorId: recordIdSchema }),
    output: changeReceiptSchema,
  },
  'annotations.undo': { input: z.object({ actorId: recordIdSchema }), output: undoReceiptSchema.nullable() },
  'annotations.redo': { input: z.object({ actorId: recordIdSchema }), output: undoReceiptSchema.nullable() },
  'annotations.history': { input: z.object({ annotationId: recordIdSchema }), output: z.array(historyEntrySchema) },

  // [calls:formats]
  ...formatsCallSchemas,
  // [calls:export]
  ...exportCallSchemas,
  // [calls:review]
  ...reviewCalls,
  // [calls:viewer]
  /**
   * annotations.query's answer, compact for many cells: points as parallel arrays (id, centre,
   * colour key: the viewer's own vote's class, else the agreed class, 0 unlabelled, -1
   * disagreement), regions in full.
   */
  'annotations.queryPoints': {
    input: z.object({
      slideId: slideIdSchema,
      rect: levelZeroRectSchema,
      viewerId: recordIdSchema,
      blind: z.boolean().default(false),
      includeUnlabelledCandidates: z.boolean().default(false),
    }),
    output: z.object({
      ids: z.array(z.number()),
      xs: z.array(z.number()),
      ys: z.array(z.number()),
      keys: z.array(z.number()),
      disputed: z.array(z.number()),
      regions: z.array(annotationSchema),
    }),
  },
  /** One annotation as the viewer may see it (deleted ones too); null when unknown or hidden in blind mode. */
  'annotations.get': {
    input: z.object({
      annotationId: recordIdSchema,
      viewerId: recordIdSchema,
      blind: z.boolean().default(false),
      includeUnlabelledCandidates: z.boolean().default(false),
    }),
    output: annotationSchema.nullable(),
  },
  /** Deleted classes included (their votes are kept and still shown). */
  'annotations.allClasses': { input: z.object({}), output: z.array(annotationClassSchema) },
  'annotations.createClass': {
    input: z.object({
      name: z.string().trim().min(1).max(200),
      colour: z.string().regex(/^#[0-9a-fA-F]{6}$/, "must be a colour '#rrggbb'"),
      hotkey: z.string().regex(/^[0-9a-zA-Z]$/, 'must be one key, 0-9 or a-z').nullable().optional(),
    }),
    output: annotationClassSchema,
  },
  'annotations.updateClass': {
    input: z.object({
      classId: recordIdSchema,
      name: z.string().trim().min(1).max(200).optional(),
      colour: z.string().regex(/^#[0-9a-fA-F]{6}$/, "must be a colour '#rrggbb'").optional(),
      hotkey: z.string().regex(/^[0-9a-zA-Z]$/, 'must be one key, 0-9 or a-z').nullable().optional(),
    }),
    output: annotationClassSchema,
  },
  'annotations.deleteClass': { input: z.object({ classId: recordIdSchema }), output: z.object({}) },
  // [calls:screening]
  ...screeningCallSchemas,
  // [calls:models]
  ...modelsCallSchemas,
  // [calls:embeddings]
  ...embeddingsCallSchemas,
  // [calls:training]
  ...trainingCallSchemas,
  // [calls:studies]
  ...studiesCallSchemas,
} as const satisfies Record<CallName, CallSchema>; // satisfies also rejects keys that are not call names


export type CallInput<N extends CallName> = z.input<(typeof calls)[N]['input']>;
export type CallOutput<N extends CallName> = z.output<(typeof calls)[N]['output']>;

/** Events pushed from main to the renderer. */
export const events = {
  'project.changed': projectSummarySchema.nullable(),
  'slides.changed': z.object({ slideIds: z.array(slideIdSchema) }),
  'jobs.changed': jobSnapshotSchema,
  /** Sent after each committed annotation change, once per slide it touched. */
  'annotations.changed': z.object({
    slideId: slideIdSchema,
    annotationIds: z.array(recordIdSchema),
    origin: changeOriginSchema,
  }),
} as const satisfies Record<EventName, z.ZodType>;

export type EventPayload<N extends EventName> = z.output<(typeof events)[N]>;


export function isCallName(name: string): name is CallName {
  return Object.hasOwn(calls, name);
}
