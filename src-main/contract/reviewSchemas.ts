import { z } from 'zod';
import { annotationSchema, annotatorKindSchema, recordIdSchema } from './schemas';

/** The cell gallery, the label log and the disagreement review (see services/annotations/ReviewQueries.ts). */

const slideIdsSchema = z.array(recordIdSchema).max(10_000).optional();
const limitSchema = z.number().int().min(1).max(5000);
const offsetSchema = z.number().int().nonnegative();
/** An ISO date and time, e.g. 2026-03-02T09:00:00.000Z. */
const timestampSchema = z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'must be an ISO date and time');

export const reviewCellsInputSchema = z.object({
  viewerId: recordIdSchema,
  blind: z.boolean().default(false),
  includeUnlabelledCandidates: z.boolean().default(false),
  filter: z
    .object({
      slideIds: slideIdsSchema,
      classId: recordIdSchema.optional(),
      /** With classId: that annotator's vote, not the consensus. */
      classAnnotatorId: recordIdSchema.optional(),
      annotatorId: recordIdSchema.optional(),
      disagreementOnly: z.boolean().optional(),
      unlabelledByMe: z.boolean().optional(),
    })
    .default({}),
  limit: limitSchema.default(200),
  offset: offsetSchema.default(0),
});

export const cellPageSchema = z.object({
  total: z.number().int().nonnegative(),
  cells: z.array(annotationSchema),
});
export type CellPageInfo = z.infer<typeof cellPageSchema>;

export const reviewDisagreementsInputSchema = z.object({
  viewerId: recordIdSchema,
  /** Refused when true: the review shows everyone's votes. */
  blind: z.boolean().default(false),
  slideIds: slideIdsSchema,
  limit: limitSchema.default(200),
  offset: offsetSchema.default(0),
});

export const disagreementPageSchema = cellPageSchema.extend({
  annotators: z.array(z.object({ id: recordIdSchema, name: z.string(), kind: annotatorKindSchema })),
});
export type DisagreementPageInfo = z.infer<typeof disagreementPageSchema>;

export const reviewLabelLogInputSchema = z.object({
  annotatorId: recordIdSchema.optional(),
  from: timestampSchema.optional(),
  to: timestampSchema.optional(),
  /** Minutes to add to UTC for the clock hours of labels per hour (the renderer's time zone). */
  utcOffsetMinutes: z.number().int().min(-840).max(840).default(0),
  limit: limitSchema.default(500),
  offset: offsetSchema.default(0),
});

const person = z.object({ id: recordIdSchema, name: z.string() });

export const reviewLogEntrySchema = z.object({
  changeId: recordIdSchema,
  at: z.string(),
  kind: z.enum(['edit', 'undo', 'redo']),
  action: z.enum(['label', 'relabel', 'clear']),
  imported: z.boolean(),
  annotator: person,
  actor: person,
  annotationId: recordIdSchema,
  slideId: recordIdSchema.nullable(),
  centre: z.object({ x: z.number(), y: z.number() }).nullable(),
  classBefore: recordIdSchema.nullable(),
  classAfter: recordIdSchema.nullable(),
});
export type ReviewLogEntryInfo = z.infer<typeof reviewLogEntrySchema>;

export const labelLogSchema = z.object({
  total: z.number().int().nonnegative(),
  entries: z.array(reviewLogEntrySchema),
  perHour: z.array(z.object({ annotatorId: recordIdSchema, hour: z.string(), labels: z.number().int().positive() })),
  rates: z.array(
    z.object({
      annotatorId: recordIdSchema,
      name: z.string(),
      labels: z.number().int().nonnegative(),
      activeSeconds: z.number().nonnegative(),
      labelsPerActiveHour: z.number().nullable(),
      firstAt: z.string().nullable(),
      lastAt: z.string().nullable(),
    }),
  ),
});
export type LabelLogInfo = z.infer<typeof labelLogSchema>;

export const reviewCalls = {
  'review.cells': { input: reviewCellsInputSchema, output: cellPageSchema },
  'review.labelLog': { input: reviewLabelLogInputSchema, output: labelLogSchema },
  'review.disagreements': { input: reviewDisagreementsInputSchema, output: disagreementPageSchema },
};
