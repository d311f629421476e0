import { z } from 'zod';
import { annotationClassSchema, annotatorSchema, importPreviewSummarySchema, interchangeFormatIdSchema, importReportSummarySchema, pathSchema, recordIdSchema, slideIdSchema } from './schemas';

/**
 * Calls of the import formats that need more than a file: QuPath GeoJSON and ASAP XML (one image
 * per file, not named in it, so the user may choose the slide) and folders of labelled crops.
 */

/** How the objects of a single-image file (QuPath, ASAP) find their slide. */
export const slideChoiceSchema = z.object({
  /** 'caller': the slide the user chose; 'file': named inside the file (a Mitobench export); 'file name': the file's own name. */
  from: z.enum(['caller', 'file', 'file name']),
  fileName: z.string(),
  /** The matched project slide; null: a "missing file" slide of that name will be added. */
  slideId: slideIdSchema.nullable(),
});

const fileInput = {
  path: pathSchema,
  /** Default: recognised from the file's content and extension. */
  formatId: interchangeFormatIdSchema.optional(),
  /** For QuPath and ASAP files: the slide their objects belong to. */
  slideId: slideIdSchema.optional(),
  classMapping: z.record(z.string().max(200), recordIdSchema).optional(),
};

export const fileImportPreviewSchema = importPreviewSummarySchema.extend({
  formatId: interchangeFormatIdSchema,
  slideChoice: slideChoiceSchema.nullable(),
});
export const fileImportReportSchema = importReportSummarySchema.extend({
  formatId: interchangeFormatIdSchema,
  slideChoice: slideChoiceSchema.nullable(),
});

export const cropsPreviewSchema = z.object({
  folder: z.string(),
  layout: z.enum(['class-folders', 'csv']),
  csvFile: z.string().nullable(),
  images: z.number().int().nonnegative(),
  classes: z.array(z.object({ name: z.string(), crops: z.number().int(), projectClassId: recordIdSchema.nullable() })),
  annotators: z.array(z.object({ name: z.string(), crops: z.number().int(), annotatorId: recordIdSchema.nullable() })),
  cropsWithoutAnnotator: z.number().int().nonnegative(),
  unreadable: z.array(z.object({ relativePath: z.string(), reason: z.string() })),
  alreadySlides: z.number().int().nonnegative(),
  warnings: z.array(z.string()),
});

export const cropsReportSchema = z.object({
  folder: z.string(),
  cancelled: z.boolean(),
  slidesAdded: z.number().int().nonnegative(),
  slideIds: z.array(slideIdSchema),
  cells: z.number().int().nonnegative(),
  alreadyPresent: z.number().int().nonnegative(),
  createdClasses: z.array(annotationClassSchema),
  createdAnnotators: z.array(annotatorSchema),
  changeId: recordIdSchema.nullable(),
});

export const formatsCallSchemas = {
  /** Any format, with the slide choice of single-image formats (QuPath, ASAP). Writes nothing. */
  'interop.preview': { input: z.object(fileInput), output: fileImportPreviewSchema },
  /** One transaction: a bad file changes nothing. */
  'interop.import': { input: z.object({ ...fileInput, actorId: recordIdSchema }), output: fileImportReportSchema },
  /** Reads and decodes every crop; writes nothing. */
  'interop.previewCrops': { input: z.object({ folder: pathSchema }), output: cropsPreviewSchema },
  /** One job (progress, cancel); all or nothing. */
  'interop.importCrops': { input: z.object({ folder: pathSchema, actorId: recordIdSchema }), output: cropsReportSchema },
} as const;

export type FileImportPreview = z.infer<typeof fileImportPreviewSchema>;
export type FileImportReport = z.infer<typeof fileImportReportSchema>;
export type CropsPreviewSummary = z.infer<typeof cropsPreviewSchema>;
export type CropsReportSummary = z.infer<typeof cropsReportSchema>;
