import type {
  AnnotationBundle,
  BundleAnnotator,
  BundleCell,
  BundleClass,
  BundleSlide,
  CellShape,
  DatasetProvenance,
} from '../AnnotationBundle';
import { InteropError } from '../InteropError';
import { findJsonSyntaxProblem } from '../jsonSyntaxError';
import { interopErrorFromSchema } from '../schemaError';
import { lineAndColumn, textOf } from '../textContent';
import type { MidogAnnotation, MidogFile, MidogImage } from './midogSchema';
import { MIDOG_BOX_SIZE_PX, MITOBENCH_ANNOTATORS_KEY, midogFileSchema, midogImageFields } from './midogSchema';

/** The slide tag that MIDOG++'s `tumor_type` becomes. */
export const TUMOUR_TAG = 'tumour';

/** Annotator names for `labels` positions when the file does not name them. */
export function defaultExpertName(position: number): string {
  return `expert ${position + 1}`;
}

/** Reads a MIDOG / MIDOG++ label file. `file` names it in errors. */
export function parseMidogJson(content: string | Uint8Array, file: string): AnnotationBundle {
  const document = parseJsonText(textOf(content, file), file);
  const checked = midogFileSchema.safeParse(document);
  if (!checked.success) throw interopErrorFromSchema(checked.error, file);
  return bundleFromMidog(checked.data, file);
}

function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const found = findJsonSyntaxProblem(text);
    if (!found) throw new InteropError(file, '', `is not valid JSON (${message})`);
    const place = lineAndColumn(text, found.offset);
    if (found.endsEarly) throw new InteropError(file, place, `the JSON ends early, expecting ${found.expected}; the file looks truncated`);
    throw new InteropError(file, place, `is not valid JSON: expected ${found.expected}`);
  }
}

function bundleFromMidog(midog: MidogFile, file: string): AnnotationBundle {
  const warnings: string[] = [];
  const { classes, classByCategory } = readCategories(midog, file);
  const { slides, slideByImage } = readImages(midog.images, file, warnings);
  const annotators = readAnnotators(midog, file);
  const cells = midog.annotations.map((annotation, index) =>
    readAnnotation(annotation, `annotations[${index}]`, { file, classByCategory, slideByImage, annotators }),
  );
  warnAboutUnreadFields(midog.annotations, warnings);

  const bundle: AnnotationBundle = { sourceFormat: 'midog-json', classes, annotators, slides, cells, warnings };
  const dataset = readProvenance(midog);
  if (dataset) bundle.dataset = dataset;
  return bundle;
}

function readCategories(midog: MidogFile, file: string) {
  const classes: BundleClass[] = [];
  const classByCategory = new Map<number, string>();
  const names = new Set<string>();
  midog.categories.forEach((category, index) => {
    if (classByCategory.has(category.id)) {
      throw new InteropError(file, `categories[${index}].id`, `category id ${category.id} appears twice`);
    }
    // Two categories of one name stay two classes, told apart by id.
    const name = names.has(category.name) ? `${category.name} (category ${category.id})` : category.name;
    names.add(name);
    classes.push({ name, sourceId: category.id });
    classByCategory.set(category.id, name);
  });
  return { classes, classByCategory };
}

function readImages(images: MidogImage[], file: string, warnings: string[]) {
  const slides: BundleSlide[] = [];
  const slideByImage = new Map<number, number>();
  const known = new Set<string>(midogImageFields);
  const skippedFields = new Set<string>();
  images.forEach((image, index) => {
    if (slideByImage.has(image.id)) throw new InteropError(file, `images[${index}].id`, `image id ${image.id} appears twice`);
    const tags: Record<string, string> = {};
    if (image.tumor_type !== undefined) tags[TUMOUR_TAG] = image.tumor_type;
    for (const [key, value] of Object.entries(image)) {
      if (known.has(key)) continue;
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') tags[key] = String(value);
      else skippedFields.add(key);
    }
    const slide: BundleSlide = { fileName: image.file_name, tags, sourceId: image.id };
    if (image.width !== undefined) slide.widthPx = image.width;
    if (image.height !== undefined) slide.heightPx = image.height;
    if (image.license !== undefined) slide.licenceId = image.license;
    slideByImage.set(image.id, slides.length);
    slides.push(slide);
  });
  if (skippedFields.size > 0) {
    warnings.push(`image fields that are not plain values were not read: ${[...skippedFields].join(', ')}`);
  }
  return { slides, slideByImage };
}

function readAnnotators(midog: MidogFile, file: string): BundleAnnotator[] {
  let positions = 0;
  for (const annotation of midog.annotations) positions = Math.max(positions, annotation.labels?.length ?? 0);
  const named = midog[MITOBENCH_ANNOTATORS_KEY];
  if (named) {
    if (named.length < positions) {
      throw new InteropError(
        file,
        MITOBENCH_ANNOTATORS_KEY,
        `names ${named.length} annotators, but some annotations have ${positions} labels`,
      );
    }
    const names = new Set<string>();
    named.forEach((annotator, index) => {
      if (names.has(annotator.name)) {
        throw new InteropError(file, `${MITOBENCH_ANNOTATORS_KEY}[${index}].name`, `"${annotator.name}" appears twice`);
      }
      names.add(annotator.name);
    });
    return named.map(({ name, kind }) => ({ name, kind }));
  }
  return Array.from({ length: positions }, (_, position) => ({ name: defaultExpertName(position), kind: 'person' }));
}

interface AnnotationContext {
  file: string;
  classByCategory: Map<number, string>;
  slideByImage: Map<number, number>;
  annotators: BundleAnnotator[];
}

function readAnnotation(annotation: MidogAnnotation, place: string, context: AnnotationContext): BundleCell {
  const { file, classByCategory, slideByImage, annotators } = context;
  const slideIndex = slideByImage.get(annotation.image_id);
  if (slideIndex === undefined) {
    throw new InteropError(file, `${place}.image_id`, `image ${annotation.image_id} is not among the file's images`);
  }
  const agreedClass = classByCategory.get(annotation.category_id);
  if (agreedClass === undefined) {
    throw new InteropError(file, `${place}.category_id`, `category ${annotation.category_id} is not among the file's categories`);
  }
  const votes: BundleCell['votes'] = [];
  (annotation.labels ?? []).forEach((category, position) => {
    if (category === null) return;
    const className = category === 0 ? null : classByCategory.get(category);
    if (className === undefined) {
      throw new InteropError(file, `${place}.labels[${position}]`, `category ${category} is not among the file's categories`);
    }
    votes.push({ annotator: annotators[position]!.name, className });
  });
  return {
    slideIndex,
    shape: shapeOfBox(annotation.bbox as [number, number, number, number], `${place}.bbox`, file),
    votes,
    agreedClass,
    sourceId: annotation.id,
  };
}

/** A 50 px box is a cell marker (its centre is the cell); any other box stays a rectangle. */
function shapeOfBox([x1, y1, x2, y2]: [number, number, number, number], place: string, file: string): CellShape {
  if (x2 < x1 || y2 < y1) {
    const cocoHint = x2 < x1 && y2 < y1 ? '; is it COCO [x, y, width, height]? MIDOG boxes are [x1, y1, x2, y2]' : '';
    throw new InteropError(file, place, `[${x1}, ${y1}, ${x2}, ${y2}] has x2 < x1 or y2 < y1${cocoHint}`);
  }
  const isCellMarker = Math.abs(x2 - x1 - MIDOG_BOX_SIZE_PX) < 1e-6 && Math.abs(y2 - y1 - MIDOG_BOX_SIZE_PX) < 1e-6;
  if (isCellMarker) return { kind: 'point', x: (x1 + x2) / 2, y: (y1 + y2) / 2 };
  return { kind: 'rectangle', x1, y1, x2, y2 };
}

const annotationFields = new Set(['id', 'image_id', 'category_id', 'bbox', 'labels']);

function warnAboutUnreadFields(annotations: MidogAnnotation[], warnings: string[]): void {
  const counts = new Map<string, number>();
  for (const annotation of annotations) {
    for (const key of Object.keys(annotation)) {
      if (!annotationFields.has(key)) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  if (counts.size === 0) return;
  const list = [...counts].map(([key, count]) => `${key} (${count}×)`).join(', ');
  warnings.push(`annotation fields Mitobench does not read were skipped: ${list}`);
}

function readProvenance(midog: MidogFile): DatasetProvenance | undefined {
  if (!midog.info && !midog.licenses) return undefined;
  const dataset: DatasetProvenance = {};
  if (midog.info) {
    const info: Record<string, string | number> = {};
    for (const [key, value] of Object.entries(midog.info)) {
      if (typeof value === 'string' || typeof value === 'number') info[key] = value;
    }
    dataset.info = info;
  }
  if (midog.licenses) {
    dataset.licences = midog.licenses.map(({ id, name, url }) => (url === undefined ? { id, name } : { id, name, url }));
  }
  return dataset;
}
