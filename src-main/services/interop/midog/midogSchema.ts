import { z } from 'zod';

/**
 * The MIDOG / MIDOG++ label files (DeepMicroscopy/MIDOG, DeepMicroscopy/MIDOGpp): COCO-like,
 * but `bbox` is [x1, y1, x2, y2] in level-0 pixels (not COCO's [x, y, width, height]), a 50 px
 * box centred on the cell. MIDOG++ adds `tumor_type` per image and `labels` per annotation:
 * the category each expert gave, by position (two experts; a third only where they disagreed).
 */
export const MIDOG_BOX_SIZE_PX = 50;

/** Image fields the format defines; any other scalar field on an image is read as a slide tag. */
export const midogImageFields = ['license', 'file_name', 'id', 'width', 'height', 'tumor_type'] as const;

/** Mitobench's own top-level key: who voted at each `labels` position, when not "expert 1, 2, …". */
export const MITOBENCH_ANNOTATORS_KEY = 'mitobench_annotators';

const integerId = z.number().int();

const imageSchema = z.looseObject({
  id: integerId,
  file_name: z.string().min(1),
  width: z.number().positive().optional(),
  height: z.number().positive().optional(),
  tumor_type: z.string().optional(),
  license: integerId.optional(),
});

const categorySchema = z.looseObject({
  id: integerId,
  name: z.string().min(1),
});

const bboxSchema = z.array(z.number()).refine((box) => box.length === 4, {
  error: (issue) =>
    `bbox must be [x1, y1, x2, y2] (4 numbers), but has ${Array.isArray(issue.input) ? issue.input.length : '?'}`,
});

const annotationSchema = z.looseObject({
  id: integerId,
  image_id: integerId,
  category_id: integerId,
  bbox: bboxSchema,
  /** Category id per expert position; 0 = marked without a class, null = no vote at that position. */
  labels: z.array(integerId.nullable()).optional(),
});

const licenceSchema = z.looseObject({
  id: integerId,
  name: z.string(),
  url: z.string().optional(),
});

export const midogFileSchema = z.looseObject({
  info: z.record(z.string(), z.unknown()).optional(),
  licenses: z.array(licenceSchema).optional(),
  images: z.array(imageSchema),
  categories: z.array(categorySchema),
  annotations: z.array(annotationSchema),
  [MITOBENCH_ANNOTATORS_KEY]: z
    .array(z.object({ name: z.string().min(1), kind: z.enum(['person', 'model']) }))
    .optional(),
});

export type MidogFile = z.infer<typeof midogFileSchema>;
export type MidogImage = z.infer<typeof imageSchema>;
export type MidogAnnotation = z.infer<typeof annotationSchema>;
