import { z } from 'zod';
import { pathSchema, slideIdSchema } from './schemas';

/**
 * The annotation export calls. A format is named by its id in the main process's format
 * registry (annotationFormats), so formats added there need no change here; an unknown id is
 * answered with the list of known ones.
 */
export const exportFormatIdSchema = z.string().trim().min(1).max(100);

export const exportInputSchema = z.object({
  /** The file to write (absolute, or relative to the main process's working folder). */
  path: pathSchema,
  formatId: exportFormatIdSchema,
  /** Only these slides; default every slide of the project. */
  slideIds: z.array(slideIdSchema).min(1).max(100_000).optional(),
  /** Replace an existing file; without it an existing file is refused and left as it was. */
  overwrite: z.boolean().default(false),
});

export const exportReportSchema = z.object({
  path: z.string(),
  format: z.string(),
  cells: z.number().int().nonnegative(),
  votes: z.number().int().nonnegative(),
  slides: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  ms: z.number().nonnegative(),
});

export const exportFormatSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  /** Lower case, with the dot; the first is the one a new file gets. */
  fileExtensions: z.array(z.string()),
});

export const exportCallSchemas = {
  'interop.export': { input: exportInputSchema, output: exportReportSchema },
  'interop.exportFormats': { input: z.object({}), output: z.array(exportFormatSchema) },
} as const;

export type ExportInput = z.input<typeof exportInputSchema>;
export type ExportReportSummary = z.infer<typeof exportReportSchema>;
export type ExportFormatSummary = z.infer<typeof exportFormatSchema>;
