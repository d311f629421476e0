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
  /** The name this person labels under (per user of this computer); null until chosen. */
  annotatorName: z.string().nullable(),
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

// Annotations (see services/annotations/types.ts for what each field means)

/** Database ids of annotations, annotators, classes and changes: positive whole numbers. */
export const recordIdSchema = z.number().int().positive();
/** A level-0 pixel coordinate: finite (NaN and infinities are refused). */
const coordinateSchema = z.number().finite();
const lengthSchema = z.number().finite().positive();

export const geometrySchema = z.discriminatedUnion('shape', [
  z.object({ shape: z.literal('point'), x: coordinateSchema, y: coordinateSchema }),
  z.object({ shape: z.literal('circle'), x: coordinateSchema, y: coordinateSchema, radius: lengthSchema }),
  z.object({ shape: z.literal('rectangle'), x: coordinateSchema, y: coordinateSchema, width: lengthSchema, height: lengthSchema }),
  z.object({
    shape: z.literal('polygon'),
    points: z.array(z.tuple([coordinateSchema, coordinateSchema])).min(3).max(100_000),
  }),
]);
export type AnnotationGeometry = z.infer<typeof geometrySchema>;

/** A level-0 rectangle such as the viewport; x, y: the top-left corner. */
export const levelZeroRectSchema = z.object({
  x: coordinateSchema,
  y: coordinateSchema,
  width: z.number().finite().nonnegative(),
  height: z.number().finite().nonnegative(),
});

export const annotatorKindSchema = z.enum(['person', 'model']);

export const annotatorSchema = z.object({
  id: recordIdSchema,
  name: z.string(),
  kind: annotatorKindSchema,
  createdAt: z.string(),
});
export type AnnotatorInfo = z.infer<typeof annotatorSchema>;

export const annotationClassSchema = z.object({
  id: recordIdSchema,
  name: z.string(),
  colour: z.string(),
  hotkey: z.string().nullable(),
  sortOrder: z.number(),
  deletedAt: z.string().nullable(),
});
export type AnnotationClassInfo = z.infer<typeof annotationClassSchema>;

export const voteSchema = z.object({ annotatorId: recordIdSchema, classId: recordIdSchema });

export const consensusSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('unlabelled') }),
  z.object({ status: z.literal('agreed'), classId: recordIdSchema }),
  z.object({ status: z.literal('disagreement'), classIds: z.array(recordIdSchema) }),
]);

/** An annotation as one viewer sees it (blind mode hides the others' votes and the consensus). */
export const annotationSchema = z.object({
  id: recordIdSchema,
  guid: z.string(),
  slideId: slideIdSchema,
  geometry: geometrySchema,
  centre: z.object({ x: z.number(), y: z.number() }),
  createdBy: recordIdSchema,
  createdAt: z.string(),
  deletedAt: z.string().nullable(),
  votes: z.array(voteSchema.extend({ annotatorKind: annotatorKindSchema })),
  consensus: consensusSchema.nullable(),
});
export type AnnotationInfo = z.infer<typeof annotationSchema>;

export const changeOriginSchema = z.enum(['local', 'import', 'undo', 'redo']);

/** What a committed change did; changeId is null when the call changed nothing. */
export const changeReceiptSchema = z.object({
  changeId: recordIdSchema.nullable(),
  annotationIds: z.array(recordIdSchema),
});

export const undoReceiptSchema = z.object({
  changeId: recordIdSchema,
  reversedChangeId: recordIdSchema,
  description: z.string(),
  annotationIds: z.array(recordIdSchema),
});

const annotationStateSchema = z.object({
  geometry: geometrySchema,
  deleted: z.boolean(),
  votes: z.array(voteSchema),
});

export const historyEntrySchema = z.object({
  changeId: recordIdSchema,
  at: z.string(),
  actor: z.object({ id: recordIdSchema, name: z.string(), kind: annotatorKindSchema }),
  kind: z.enum(['edit', 'undo', 'redo']),
  targetChangeId: recordIdSchema.nullable(),
  description: z.string(),
  before: annotationStateSchema.nullable(),
  after: annotationStateSchema,
});

// Annotation files (import)

export const interchangeFormatIdSchema = z.enum(['midog-json', 'sliderunner-sqlite', 'csv', 'qupath-geojson', 'asap-xml']);

/** The counts an import preview and an import report share. */
const importCountsShape = {
  cells: z.number().int().nonnegative(),
  votes: z.number().int().nonnegative(),
  votesWithoutClass: z.number().int().nonnegative(),
  repeatedVotes: z.number().int().nonnegative(),
  agreedClassVotes: z.number().int().nonnegative(),
  agreedClassNotKept: z.number().int().nonnegative(),
  alreadyPresent: z.number().int().nonnegative(),
  deletedInSource: z.number().int().nonnegative(),
};

/** What importing a file would do, without the per-cell detail. */
export const importPreviewSummarySchema = z.object({
  file: z.string(),
  formatId: interchangeFormatIdSchema,
  ...importCountsShape,
  classCount: z.number().int().nonnegative(),
  annotatorCount: z.number().int().nonnegative(),
  slideCount: z.number().int().nonnegative(),
  classes: z.array(
    z.object({
      name: z.string(),
      votes: z.number(),
      agreedCells: z.number(),
      /** The live project class it maps to; null when it will be created. */
      projectClassId: recordIdSchema.nullable(),
      colour: z.string(),
    }),
  ),
  annotators: z.array(
    z.object({
      name: z.string(),
      kind: annotatorKindSchema,
      /** Null when it will be created. */
      annotatorId: recordIdSchema.nullable(),
      votes: z.number(),
    }),
  ),
  matchedSlides: z.array(z.object({ fileName: z.string(), slideId: slideIdSchema, cells: z.number() })),
  /** Images the project does not hold: each becomes a "missing file" slide to relink. */
  unmatchedSlides: z.array(z.object({ fileName: z.string(), cells: z.number() })),
  warnings: z.array(z.string()),
});
export type ImportPreviewSummary = z.infer<typeof importPreviewSummarySchema>;

/** What an import did, without the ids of every imported annotation. */
export const importReportSummarySchema = z.object({
  file: z.string(),
  formatId: interchangeFormatIdSchema,
  ...importCountsShape,
  /** The history change holding the cells (undo removes them); null when none was imported. */
  changeId: recordIdSchema.nullable(),
  createdClasses: z.array(annotationClassSchema),
  createdAnnotators: z.array(annotatorSchema),
  createdSlides: z.array(z.object({ slideId: slideIdSchema, fileName: z.string() })),
  matchedSlides: z.number().int().nonnegative(),
  slidesTagged: z.number().int().nonnegative(),
  warnings: z.array(z.string()),
  durationMs: z.number(),
});
export type ImportReportSummary = z.infer<typeof importReportSummarySchema>;

export { slideIdSchema, pathSchema };
