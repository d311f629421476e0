import { z } from 'zod';
import {
  addSlidesResultSchema,
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
} as const satisfies Record<CallName, CallSchema>; // satisfies also rejects keys that are not call names


export type CallInput<N extends CallName> = z.input<(typeof calls)[N]['input']>;
export type CallOutput<N extends CallName> = z.output<(typeof calls)[N]['output']>;

/** Events pushed from main to the renderer. */
export const events = {
  'project.changed': projectSummarySchema.nullable(),
  'slides.changed': z.object({ slideIds: z.array(slideIdSchema) }),
  'jobs.changed': jobSnapshotSchema,
} as const satisfies Record<EventName, z.ZodType>;

export type EventPayload<N extends EventName> = z.output<(typeof events)[N]>;


export function isCallName(name: string): name is CallName {
  return Object.hasOwn(calls, name);
}
