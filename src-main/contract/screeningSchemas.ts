import { z } from 'zod';
import { geometrySchema, levelZeroRectSchema, recordIdSchema, slideIdSchema } from './schemas';

/** Schemas of the screening and mitotic-count calls (see services/screening and services/annotations/mitoticCount.ts). */

const positiveSchema = z.number().finite().positive();

/** How big a screening field is: what the viewer shows at a magnification, a size in µm, or in level-0 pixels. */
export const fieldSpecSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('magnification'),
    magnification: positiveSchema.max(1000),
    viewportWidthPx: positiveSchema.max(100_000),
    viewportHeightPx: positiveSchema.max(100_000),
  }),
  z.object({ kind: z.literal('micrometres'), widthUm: positiveSchema.max(1e6), heightUm: positiveSchema.max(1e6) }),
  z.object({ kind: z.literal('pixels'), widthPx: positiveSchema.max(1e7), heightPx: positiveSchema.max(1e7) }),
]);
export type FieldSpecInfo = z.infer<typeof fieldSpecSchema>;

export const screeningFieldSchema = z.object({
  index: z.number().int().nonnegative(),
  row: z.number().int().nonnegative(),
  column: z.number().int().nonnegative(),
  x: z.number(),
  y: z.number(),
  width: z.number(),
  height: z.number(),
});
export type ScreeningFieldInfo = z.infer<typeof screeningFieldSchema>;

export const screeningStateSchema = z.object({
  slideId: slideIdSchema,
  annotatorId: recordIdSchema,
  fieldSpec: fieldSpecSchema,
  fieldWidthPx: z.number(),
  fieldHeightPx: z.number(),
  region: levelZeroRectSchema,
  roiAnnotationId: recordIdSchema.nullable(),
  roi: geometrySchema.nullable(),
  columns: z.number().int(),
  rows: z.number().int(),
  /** In walking (serpentine) order. */
  fields: z.array(screeningFieldSchema),
  /** Indices of visited fields, ascending. */
  visited: z.array(z.number().int().nonnegative()),
  currentField: z.number().int().nonnegative(),
  startedAt: z.string(),
  updatedAt: z.string(),
});
export type ScreeningStateInfo = z.infer<typeof screeningStateSchema>;

export const screeningStepSchema = z.object({
  visitedField: z.number().int().nonnegative(),
  current: screeningFieldSchema,
  visitedCount: z.number().int().nonnegative(),
  totalFields: z.number().int().positive(),
});
export type ScreeningStepInfo = z.infer<typeof screeningStepSchema>;

const screeningKeySchema = { slideId: slideIdSchema, annotatorId: recordIdSchema };

/** Who counts and what: blind viewers count their own votes only; annotatorId null counts the consensus. */
const countWhoSchema = {
  slideId: slideIdSchema,
  viewerId: recordIdSchema,
  blind: z.boolean().default(false),
  annotatorId: recordIdSchema.nullable().optional(),
  /** Default: the class named "mitotic figure". */
  classId: recordIdSchema.nullable().optional(),
};

const areaMm2Schema = positiveSchema.max(1000);
const aspectSchema = positiveSchema.min(0.01).max(100);

export const countResultSchema = z.object({
  area: geometrySchema,
  areaMm2: z.number().nullable(),
  count: z.number().int().nonnegative(),
  classId: recordIdSchema,
  className: z.string(),
  source: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('consensus') }),
    z.object({ kind: z.literal('annotator'), annotatorId: recordIdSchema }),
  ]),
});
export type CountResultInfo = z.infer<typeof countResultSchema>;

export const screeningCallSchemas = {
  'screening.get': { input: z.object(screeningKeySchema), output: screeningStateSchema.nullable() },
  'screening.start': {
    input: z.object({ ...screeningKeySchema, fieldSpec: fieldSpecSchema, roiAnnotationId: recordIdSchema.nullable().optional() }),
    output: screeningStateSchema,
  },
  'screening.visit': {
    input: z.object({ ...screeningKeySchema, fieldIndex: z.number().int().nonnegative(), step: z.union([z.literal(1), z.literal(-1)]).default(1) }),
    output: screeningStepSchema,
  },
  'screening.reset': { input: z.object(screeningKeySchema), output: screeningStateSchema },
  'count.inArea': {
    input: z.object({
      ...countWhoSchema,
      area: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('standard'), x: z.number().finite(), y: z.number().finite(), areaMm2: areaMm2Schema.optional(), aspect: aspectSchema.optional() }),
        z.object({ kind: z.literal('annotation'), annotationId: recordIdSchema }),
      ]),
    }),
    output: countResultSchema,
  },
  'count.hotspot': {
    input: z.object({
      ...countWhoSchema,
      areaMm2: areaMm2Schema.optional(),
      aspect: aspectSchema.optional(),
      roiAnnotationId: recordIdSchema.nullable().optional(),
    }),
    output: countResultSchema.extend({ cellsConsidered: z.number().int().nonnegative() }),
  },
} as const;
