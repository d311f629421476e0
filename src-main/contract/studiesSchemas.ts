import { z } from 'zod';
import { precisionSchema } from './modelsSchemas';
import { pathSchema, recordIdSchema } from './schemas';

/** Evaluation studies: their design, runs, metrics and predictions (services/evaluation/study). */

export const studyKindSchema = z.enum(['data-scaling', 'cross-domain', 'model-method']);
export type StudyKind = z.infer<typeof studyKindSchema>;

export const studyMethodSchema = z.enum(['linear-probe', 'lora']);
export type StudyMethod = z.infer<typeof studyMethodSchema>;

/** The paper's data-scaling fractions: 0.1 %, 1 %, 10 %, 100 % of the training set. */
export const DEFAULT_STUDY_FRACTIONS = [0.001, 0.01, 0.1, 1];
export const DEFAULT_SEED_COUNT = 5;
export const DEFAULT_BOOTSTRAP_REPLICATES = 1000;

const fractionSchema = z.number({ error: 'must be a number' }).refine((value) => value > 0 && value <= 1, { error: 'must be in (0, 1]' });
const shareSchema = (fallback: number) =>
  z
    .number({ error: 'must be a number' })
    .refine((value) => value >= 0 && value < 1, { error: 'must be in [0, 1)' })
    .default(fallback);

const splitSchema = z
  .object({
    /** 'slide' keeps every slide on one side; 'cell' is the paper's protocol, only on explicit request. */
    grouping: z.enum(['slide', 'cell'], { error: "must be 'slide' or 'cell' (cell-level reproduces the paper)" }).default('slide'),
    testFraction: shareSchema(0.2),
    validationFraction: shareSchema(0.1),
  })
  .strict()
  .refine((split) => split.testFraction + split.validationFraction < 1, {
    error: 'testFraction + validationFraction must leave cells to train on (sum < 1)',
    path: ['testFraction'],
  });

const labelsSchema = z.discriminatedUnion(
  'source',
  [z.object({ source: z.literal('consensus') }).strict(), z.object({ source: z.literal('annotator'), annotatorId: recordIdSchema }).strict()],
  { error: "source must be 'consensus' or 'annotator' (with annotatorId)" },
);

const domainSchema = z
  .object({
    /** The slide tag whose value is the domain (tumour type, scanner, site, species…). */
    tagKey: z.string().trim().min(1, { error: 'must name a slide tag' }).max(100),
    mode: z.enum(['train-one', 'leave-one-out'], { error: "must be 'train-one' or 'leave-one-out'" }).default('train-one'),
  })
  .strict();

const uniqueIds = (ids: readonly number[]) => new Set(ids).size === ids.length;

/** A study design as a user writes it (JSON file or the Studies page); defaults fill what is left out. */
export const studySpecSchema = z
  .object({
    name: z.string().trim().min(1, { error: 'must not be empty' }).max(200),
    kind: studyKindSchema,
    /** Registered model ids (models.list). */
    models: z.array(recordIdSchema, { error: 'must be a list of model ids' }).min(1, { error: 'needs at least one model' }).refine(uniqueIds, { error: 'lists a model twice' }),
    methods: z.array(studyMethodSchema, { error: "must be a list of 'linear-probe' and/or 'lora'" }).min(1).default(['linear-probe']),
    /** Shares of the training set (nested within a seed); data-scaling defaults to the paper's four, other kinds to [1]. */
    fractions: z.array(fractionSchema, { error: 'must be a list of fractions' }).min(1, { error: 'needs at least one fraction' }).optional(),
    /** How many seeds (1, 2, … n), or the seeds themselves. */
    seeds: z
      .union([z.number().int().min(1).max(100), z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1).max(100)], {
        error: 'must be a count (1–100) or a list of integer seeds',
      })
      .default(DEFAULT_SEED_COUNT),
    split: splitSchema.default({ grouping: 'slide', testFraction: 0.2, validationFraction: 0.1 }),
    labels: labelsSchema.default({ source: 'consensus' }),
    /** Class ids in the project; a class's index in this list is its label in the study. */
    classes: z.array(recordIdSchema, { error: 'must be a list of class ids' }).min(2, { error: 'needs at least two classes' }).refine(uniqueIds, { error: 'lists a class twice' }),
    /** The class of interest for sensitivity, specificity, AUROC and AP; default the first listed. */
    positiveClass: recordIdSchema.optional(),
    domain: domainSchema.optional(),
    bootstrapReplicates: z.number().int().min(100, { error: 'must be at least 100' }).max(100_000).default(DEFAULT_BOOTSTRAP_REPLICATES),
    /** Which cached embeddings to use. */
    precision: precisionSchema.default('float32'),
  })
  .strict()
  .superRefine((spec, context) => {
    if (spec.kind === 'cross-domain' && !spec.domain) context.addIssue({ code: 'custom', path: ['domain'], message: 'is required for a cross-domain study (tagKey, mode)' });
    if (spec.kind === 'cross-domain' && spec.split.grouping === 'cell') {
      context.addIssue({ code: 'custom', path: ['split', 'grouping'], message: "must be 'slide' for a cross-domain study (domains are sets of slides)" });
    }
    if (spec.positiveClass !== undefined && !spec.classes.includes(spec.positiveClass)) {
      context.addIssue({ code: 'custom', path: ['positiveClass'], message: `is ${spec.positiveClass}, which is not among classes` });
    }
  });

export type StudySpecInput = z.input<typeof studySpecSchema>;
export type StudySpecParsed = z.output<typeof studySpecSchema>;

/** A design with every default resolved: what is stored and run. */
export const resolvedStudySpecSchema = z.object({
  name: z.string(),
  kind: studyKindSchema,
  models: z.array(recordIdSchema),
  methods: z.array(studyMethodSchema),
  fractions: z.array(z.number()),
  seeds: z.array(z.number().int()),
  split: z.object({ grouping: z.enum(['slide', 'cell']), testFraction: z.number(), validationFraction: z.number() }),
  labels: labelsSchema,
  classes: z.array(recordIdSchema),
  positiveClass: recordIdSchema,
  domain: z.object({ tagKey: z.string(), mode: z.enum(['train-one', 'leave-one-out']) }).nullable(),
  bootstrapReplicates: z.number().int(),
  precision: precisionSchema,
});
export type StudySpec = z.infer<typeof resolvedStudySpecSchema>;

export const studyStateSchema = z.enum(['new', 'running', 'finished', 'failed', 'cancelled']);

export const studySummarySchema = z.object({
  id: recordIdSchema,
  name: z.string(),
  kind: studyKindSchema,
  state: studyStateSchema,
  runsDone: z.number().int().nonnegative(),
  runsFailed: z.number().int().nonnegative(),
  runsPlanned: z.number().int().nonnegative().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type StudySummary = z.infer<typeof studySummarySchema>;

/** What makes every number of a study traceable. */
export const reproducibilityRecordSchema = z.object({
  appVersion: z.string(),
  labelSnapshotHash: z.string(),
  models: z.array(z.object({ id: recordIdSchema, name: z.string(), fileHash: z.string(), modelKey: z.string(), paramsKey: z.string() })),
  seeds: z.array(z.number().int()),
  cells: z.number().int().nonnegative(),
  slides: z.number().int().nonnegative(),
  /** Cells left out, and why (disagreement, class not in the study, no domain tag). */
  excludedCells: z.record(z.string(), z.number().int().nonnegative()),
  startedAt: z.string(),
});
export type ReproducibilityRecord = z.infer<typeof reproducibilityRecordSchema>;

export const studyRunSchema = z.object({
  id: recordIdSchema,
  modelId: recordIdSchema,
  method: studyMethodSchema,
  fraction: z.number(),
  seed: z.number().int(),
  /** The training domain (train-one) or held-out domain (leave-one-out); '' outside cross-domain studies. */
  domain: z.string(),
  status: z.enum(['done', 'failed']),
  error: z.string().nullable(),
  trainCells: z.number().int().nonnegative(),
  validationCells: z.number().int().nonnegative(),
  testCells: z.number().int().nonnegative(),
  fitMs: z.number().nonnegative(),
  finishedAt: z.string(),
});
export type StudyRunInfo = z.infer<typeof studyRunSchema>;

export const studyMetricSchema = z.object({
  /** null for a row over all seeds of a group. */
  runId: recordIdSchema.nullable(),
  modelId: recordIdSchema,
  method: studyMethodSchema,
  fraction: z.number(),
  domain: z.string(),
  /** 'test', or the domain a cross-domain test set comes from. */
  testSet: z.string(),
  metric: z.string(),
  /** One run's value, or the mean over seeds; null where undefined (e.g. AUROC with one class absent). */
  value: z.number().nullable(),
  sd: z.number().nullable(),
  ciLower: z.number().nullable(),
  ciUpper: z.number().nullable(),
  seeds: z.number().int().nonnegative(),
});
export type StudyMetricInfo = z.infer<typeof studyMetricSchema>;

export const studyComparisonSchema = z.object({
  fraction: z.number(),
  domain: z.string(),
  testSet: z.string(),
  metric: z.string(),
  a: z.object({ modelId: recordIdSchema, method: studyMethodSchema }),
  b: z.object({ modelId: recordIdSchema, method: studyMethodSchema }),
  /** Mean over seeds of A − B on the same test cells, with a 95 % CI by paired bootstrap over slides. */
  difference: z.number().nullable(),
  ciLower: z.number().nullable(),
  ciUpper: z.number().nullable(),
  seeds: z.number().int().nonnegative(),
});
export type StudyComparisonInfo = z.infer<typeof studyComparisonSchema>;

export const studyDetailSchema = z.object({
  summary: studySummarySchema,
  spec: resolvedStudySpecSchema,
  record: reproducibilityRecordSchema.nullable(),
  warnings: z.array(z.string()),
  error: z.string().nullable(),
  runs: z.array(studyRunSchema),
  metrics: z.array(studyMetricSchema),
  comparisons: z.array(studyComparisonSchema),
});
export type StudyDetail = z.infer<typeof studyDetailSchema>;

export const studyPredictionSchema = z.object({
  annotationId: recordIdSchema,
  slideId: recordIdSchema,
  x: z.number(),
  y: z.number(),
  testSet: z.string(),
  /** Class ids (not indices). */
  trueClassId: recordIdSchema,
  predictedClassId: recordIdSchema,
  /** Per class of the study, in its order. */
  probabilities: z.array(z.number()),
});
export type StudyPrediction = z.infer<typeof studyPredictionSchema>;

export const studyRunResultSchema = z.object({
  studyId: recordIdSchema,
  runsPlanned: z.number().int().nonnegative(),
  runsDone: z.number().int().nonnegative(),
  runsSkipped: z.number().int().nonnegative(),
  runsFailed: z.number().int().nonnegative(),
  cancelled: z.boolean(),
  fitMs: z.number().nonnegative(),
  wallMs: z.number().nonnegative(),
});
export type StudyRunResult = z.infer<typeof studyRunResultSchema>;

const studyIdInput = z.object({ studyId: recordIdSchema });
const exportInput = z.object({ studyId: recordIdSchema, path: pathSchema, overwrite: z.boolean().default(false) });
/** CSV writes the metrics to `path` and the predictions beside it (`<name>.predictions.csv`); JSON writes one file. */
const exportOutput = z.object({ files: z.array(z.object({ path: z.string(), bytes: z.number().int().nonnegative() })) });

/**
 * A chart as the renderer drew it (Observable Plot needs a DOM, which the main process lacks):
 * a bare <svg> with no script, event handler, link or foreign content, so the report stays inert.
 */
export const reportPlotSchema = z.object({
  title: z.string().trim().min(1).max(200),
  svg: z
    .string()
    .max(2_000_000)
    .refine((svg) => /^<svg[\s>]/.test(svg) && /<\/svg>\s*$/.test(svg), { error: 'must be one <svg> element' })
    .refine((svg) => !/<script|<foreignObject|<iframe|\son[a-z]+\s*=|javascript:|href\s*=/i.test(svg), {
      error: 'must not hold scripts, event handlers, links or foreign content',
    }),
});
export type ReportPlot = z.infer<typeof reportPlotSchema>;

const annotatorRefSchema = z.object({ id: recordIdSchema, name: z.string() });

/**
 * How well people agree with each other on a study's cells: the ceiling a model trained and judged
 * on those labels can reach. Undefined values (κ when everyone used one class) are null.
 */
export const studyAgreementSchema = z.object({
  classCount: z.number().int().min(2),
  /** The annotator whose labels the study uses; null for the consensus. */
  referenceAnnotatorId: recordIdSchema.nullable(),
  /** People with at least one vote in the study's classes, and how many cells each labelled. */
  annotators: z.array(annotatorRefSchema.extend({ cells: z.number().int().nonnegative() })),
  /** Cells labelled by two people or more. */
  multiRatedCells: z.number().int().nonnegative(),
  /** Share of those cells on which every rater gave the same class; null without such cells. */
  unanimousShare: z.number().nullable(),
  /** Every pair of people who share at least one cell. */
  pairs: z.array(
    z.object({
      first: annotatorRefSchema,
      second: annotatorRefSchema,
      cells: z.number().int().positive(),
      percentAgreement: z.number(),
      kappa: z.number().nullable(),
      quadraticKappa: z.number().nullable(),
      /** Balanced accuracy of the second person's labels measured against the first's, and the reverse. */
      secondAgainstFirst: z.number().nullable(),
      firstAgainstSecond: z.number().nullable(),
    }),
  ),
  /** Fleiss' κ per number of raters (it needs the same count on every cell). */
  fleiss: z.array(z.object({ raters: z.number().int().min(2), cells: z.number().int().positive(), kappa: z.number().nullable() })),
  /** The headline over the pairs that bear on the study's labels (all pairs, or the reference's), weighted by shared cells. */
  ceiling: z
    .object({
      pairs: z.number().int().positive(),
      cells: z.number().int().positive(),
      percentAgreement: z.number(),
      quadraticKappa: z.number().nullable(),
      balancedAccuracy: z.number().nullable(),
    })
    .nullable(),
  /** Why there is no ceiling; null when there is one. */
  unavailable: z.enum(['fewer-than-two-annotators', 'no-shared-cells', 'reference-shares-no-cells']).nullable(),
});
export type StudyAgreement = z.infer<typeof studyAgreementSchema>;

/** Agreement of predicted and annotated counts over slides, or why there is none. */
export const countAgreementSchema = z.object({
  slides: z.number().int().nonnegative(),
  blandAltman: z.object({ meanDifference: z.number(), sdDifference: z.number(), lowerLimit: z.number(), upperLimit: z.number() }).nullable(),
  /** ICC(2,1), absolute agreement; null when undefined (every count equal) or too few slides. */
  icc: z.number().nullable(),
  unavailable: z.enum(['too-few-slides']).nullable(),
});
export type CountAgreement = z.infer<typeof countAgreementSchema>;

/** One run's predicted versus annotated mitotic counts per test slide (services/evaluation/study/studyClinical). */
export const studyClinicalSchema = z.object({
  runId: recordIdSchema,
  /** The test set counted; null: every test set of the run. */
  testSet: z.string().nullable(),
  positiveClassId: recordIdSchema,
  /** Size of the counting area (the standard 2.37 mm²). */
  areaMm2: z.number().positive(),
  slides: z.array(
    z.object({
      slideId: recordIdSchema,
      slideName: z.string(),
      testSet: z.string(),
      /** Test cells of the slide (every class). */
      cells: z.number().int().nonnegative(),
      annotated: z.number().int().nonnegative(),
      predicted: z.number().int().nonnegative(),
      /** Counts in each reader's own hotspot of `areaMm2`; null when the slide records no µm per pixel. */
      hotspotAnnotated: z.number().int().nonnegative().nullable(),
      hotspotPredicted: z.number().int().nonnegative().nullable(),
    }),
  ),
  perSlide: countAgreementSchema,
  /** Over the slides that have a hotspot count. */
  perArea: countAgreementSchema,
});
export type StudyClinical = z.infer<typeof studyClinicalSchema>;

export const studiesCallSchemas = {
  'studies.create': { input: z.object({ spec: studySpecSchema }), output: z.object({ studyId: recordIdSchema }) },
  /** Runs (or resumes) the study as a job; finished runs are skipped. */
  'studies.run': { input: studyIdInput, output: studyRunResultSchema },
  'studies.list': { input: z.object({}), output: z.array(studySummarySchema) },
  'studies.get': { input: studyIdInput, output: studyDetailSchema },
  'studies.predictions': { input: z.object({ runId: recordIdSchema }), output: z.array(studyPredictionSchema) },
  'studies.exportCsv': { input: exportInput, output: exportOutput },
  'studies.exportJson': { input: exportInput, output: exportOutput },
  'studies.remove': { input: studyIdInput, output: z.object({}) },
  /**
   * The printable HTML report (design, data summary, tables, the given charts, reproducibility
   * record), returned and, with `path`, also written there; the UI prints the returned HTML.
   */
  'studies.exportReport': {
    input: z.object({ studyId: recordIdSchema, path: pathSchema.optional(), overwrite: z.boolean().default(false), plots: z.array(reportPlotSchema).max(20).default([]) }),
    output: z.object({ files: exportOutput.shape.files, html: z.string() }),
  },
  /** Inter-annotator agreement on the study's cells and classes: the ceiling next to the model's numbers. */
  'studies.agreement': { input: studyIdInput, output: studyAgreementSchema },
  /** Predicted versus annotated mitotic counts per test slide of one finished run, with Bland–Altman and ICC. */
  'studies.clinical': { input: z.object({ runId: recordIdSchema, testSet: z.string().min(1).max(200).optional() }), output: studyClinicalSchema },
} as const;
