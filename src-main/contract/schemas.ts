import { z } from 'zod';

export const languageSchema = z.enum(['en', 'ja']);
export type Language = z.infer<typeof languageSchema>;

/**
 * How the viewer draws tiles. 'auto' uses WebGL on a real GPU and the canvas when WebGL would
 * run in software (much slower there); 'webgl' draws tiles at their exact size; 'canvas'
 * works everywhere but stretches tiles by a pixel to hide seams.
 */
export const viewerRendererSchema = z.enum(['auto', 'webgl', 'canvas']);
export type ViewerRenderer = z.infer<typeof viewerRendererSchema>;

export const readerKindSchema = z.enum(['tiff', 'openslide', 'image']);
export const readerChoiceSchema = z.enum(['auto', 'tiff', 'openslide', 'image']);

const slideIdSchema = z.number().int().positive();
/** Absolute filesystem path chosen by the user; never used to address tiles. */
const pathSchema = z.string().min(1).max(4096);

export const slideLevelSchema = z.object({
  width: z.number(),
  height: z.number(),
  downsample: z.number(),
  tileWidth: z.number(),
  tileHeight: z.number(),
});

export const slideTagSchema = z.object({
  key: z.string().trim().min(1).max(100),
  value: z.string().trim().max(500),
});
export type SlideTag = z.infer<typeof slideTagSchema>;

export const slideStatusSchema = z.enum(['ok', 'missing', 'error']);

export const slideSummarySchema = z.object({
  id: slideIdSchema,
  name: z.string(),
  path: z.string(),
  status: slideStatusSchema,
  /** Why the slide cannot be shown, naming the file; null when it can. */
  problem: z.string().nullable(),
  width: z.number(),
  height: z.number(),
  levels: z.array(slideLevelSchema),
  mppX: z.number().nullable(),
  mppY: z.number().nullable(),
  objectivePower: z.number().nullable(),
  vendor: z.string(),
  fileSizeBytes: z.number(),
  reader: readerKindSchema.nullable(),
  readerChoice: readerChoiceSchema,
  associatedImages: z.array(z.string()),
  tags: z.array(slideTagSchema),
  addedAt: z.string(),
  /** Changes whenever the pixels served for this slide may change (relink, reader switch). */
  tileVersion: z.string(),
});
export type SlideSummary = z.infer<typeof slideSummarySchema>;

export const tileSourceInfoSchema = z.object({
  slideId: slideIdSchema,
  width: z.number(),
  height: z.number(),
  tileSize: z.number(),
  minLevel: z.number(),
  maxLevel: z.number(),
  mppX: z.number().nullable(),
  objectivePower: z.number().nullable(),
  reader: readerKindSchema,
  tileVersion: z.string(),
});
export type TileSourceInfo = z.infer<typeof tileSourceInfoSchema>;

export const projectSummarySchema = z.object({
  folder: z.string(),
  name: z.string(),
  schemaVersion: z.number(),
  slideCount: z.number(),
});
export type ProjectSummary = z.infer<typeof projectSummarySchema>;

export const recentProjectSchema = z.object({
  folder: z.string(),
  name: z.string(),
  openedAt: z.string(),
});
export type RecentProject = z.infer<typeof recentProjectSchema>;

export const readerStatusSchema = z.object({
  kind: readerKindSchema,
  available: z.boolean(),
  /** Library version when it comes from the system (OpenSlide). */
  version: z.string().nullable(),
  /** Why it is unavailable, when it is. */
  reason: z.string().nullable(),
});

export const appInfoSchema = z.object({
  version: z.string(),
  language: languageSchema,
  viewerRenderer: viewerRendererSchema,
  mode: z.enum(['electron', 'browser']),
  project: projectSummarySchema.nullable(),
  recentProjects: z.array(recentProjectSchema),
  readers: z.array(readerStatusSchema),
  homeFolder: z.string(),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

export const folderEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  kind: z.enum(['folder', 'slide', 'other']),
  sizeBytes: z.number().nullable(),
});
export const folderListingSchema = z.object({
  path: z.string(),
  parent: z.string().nullable(),
  entries: z.array(folderEntrySchema),
});
export type FolderListing = z.infer<typeof folderListingSchema>;

export const addSlidesResultSchema = z.object({
  added: z.array(slideSummarySchema),
  /** Files already in the project (same path). */
  alreadyPresent: z.array(z.string()),
  /** Files that could not be opened, each with a message naming the file and the reason. */
  failed: z.array(z.object({ path: z.string(), message: z.string() })),
  /** The user cancelled: files after the last one added were not looked at. */
  cancelled: z.boolean(),
});
export type AddSlidesResult = z.infer<typeof addSlidesResultSchema>;

export const jobStateSchema = z.enum(['running', 'succeeded', 'failed', 'cancelled', 'interrupted']);

/** A long piece of work as the user sees it: what, how far, how long still, how it ended. */
export const jobSnapshotSchema = z.object({
  id: z.number().int().positive(),
  kind: z.string(),
  title: z.string(),
  state: jobStateSchema,
  done: z.number(),
  total: z.number().nullable(),
  message: z.string().nullable(),
  /** Estimated seconds left from the rate so far; null until it can be estimated. */
  etaSeconds: z.number().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type JobSnapshot = z.infer<typeof jobSnapshotSchema>;

export { slideIdSchema, pathSchema };
