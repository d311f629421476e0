import type { AnnotationBundle, BundleCell, BundleSlide } from '../AnnotationBundle';
import { checkBundle } from '../checkBundle';
import { InteropError } from '../InteropError';
import { assignSourceIds } from '../sourceIds';
import { defaultExpertName, TUMOUR_TAG } from './parseMidogJson';
import { MIDOG_BOX_SIZE_PX, MITOBENCH_ANNOTATORS_KEY, midogImageFields } from './midogSchema';

/**
 * Writes a bundle as a MIDOG / MIDOG++ label file. Points become 50 px boxes around the cell,
 * rectangles keep their corners; circles and polygons have no place in the format and are
 * refused. Votes go into `labels` by annotator position; deleted cells are not written.
 * `file` names the target in errors.
 */
export function serializeMidogJson(bundle: AnnotationBundle, file: string): string {
  checkBundle(bundle, file);
  const cells = bundle.cells.map((cell, index) => ({ cell, index })).filter(({ cell }) => !cell.deleted);

  const categoryIds = assignSourceIds(bundle.classes);
  const categoryOf = new Map(bundle.classes.map((entry, index) => [entry.name, categoryIds[index]!]));
  const imageIds = assignSourceIds(bundle.slides);
  const annotationIds = assignSourceIds(cells.map(({ cell }) => cell));

  const voters = new Set(cells.flatMap(({ cell }) => cell.votes.map((vote) => vote.annotator)));
  const labelAnnotators = bundle.annotators.filter((annotator) => voters.has(annotator.name));
  const positionOf = new Map(labelAnnotators.map((annotator, position) => [annotator.name, position]));
  const namedByDefault = labelAnnotators.every(
    (annotator, position) => annotator.name === defaultExpertName(position) && annotator.kind === 'person',
  );

  const document: Record<string, unknown> = {};
  if (bundle.dataset?.info) document.info = bundle.dataset.info;
  if (bundle.dataset?.licences) {
    document.licenses = bundle.dataset.licences.map(({ id, name, url }) => (url === undefined ? { id, name } : { url, id, name }));
  }
  document.images = bundle.slides.map((slide, index) => imageOf(slide, imageIds[index]!, `slides[${index}]`, file));
  document.categories = bundle.classes.map((entry, index) => ({ id: categoryIds[index]!, name: entry.name }));
  document.annotations = cells.map(({ cell, index }, position) => {
    const place = `cells[${index}]`;
    const annotation: Record<string, unknown> = {
      bbox: boxOf(cell, place, file),
      category_id: categoryOf.get(categoryName(cell, place, file))!,
      image_id: imageIds[cell.slideIndex]!,
    };
    if (cell.votes.length > 0) annotation.labels = labelsOf(cell, positionOf, categoryOf, place, file);
    annotation.id = annotationIds[position]!;
    return annotation;
  });
  if (!namedByDefault) {
    document[MITOBENCH_ANNOTATORS_KEY] = labelAnnotators.map(({ name, kind }) => ({ name, kind }));
  }
  return JSON.stringify(document);
}

const reservedImageFields = new Set<string>(midogImageFields);

function imageOf(slide: BundleSlide, id: number, place: string, file: string): Record<string, unknown> {
  const image: Record<string, unknown> = {};
  if (slide.licenceId !== undefined) image.license = slide.licenceId;
  image.file_name = slide.fileName;
  image.id = id;
  if (slide.widthPx !== undefined) image.width = slide.widthPx;
  if (slide.heightPx !== undefined) image.height = slide.heightPx;
  for (const [key, value] of Object.entries(slide.tags)) {
    if (key === TUMOUR_TAG) {
      image.tumor_type = value;
    } else if (reservedImageFields.has(key)) {
      throw new InteropError(file, `${place}.tags.${key}`, `a tag named "${key}" would overwrite the MIDOG image field of that name`);
    } else {
      image[key] = value;
    }
  }
  return image;
}

function boxOf(cell: BundleCell, place: string, file: string): number[] {
  const { shape } = cell;
  const half = MIDOG_BOX_SIZE_PX / 2;
  if (shape.kind === 'point') return [shape.x - half, shape.y - half, shape.x + half, shape.y + half];
  if (shape.kind === 'rectangle') {
    return [Math.min(shape.x1, shape.x2), Math.min(shape.y1, shape.y2), Math.max(shape.x1, shape.x2), Math.max(shape.y1, shape.y2)];
  }
  throw new InteropError(
    file,
    `${place}.shape`,
    `MIDOG JSON holds boxes around cells; a ${shape.kind} cannot be written (export only points and rectangles, or use SlideRunner)`,
  );
}

/** MIDOG needs a category for every box: the stated agreed class, else a clear majority of the votes. */
function categoryName(cell: BundleCell, place: string, file: string): string {
  if (cell.agreedClass !== undefined) return cell.agreedClass;
  const counts = new Map<string, number>();
  for (const vote of cell.votes) {
    if (vote.className !== null) counts.set(vote.className, (counts.get(vote.className) ?? 0) + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  const [first, second] = ranked;
  if (first && (!second || second[1] < first[1])) return first[0];
  throw new InteropError(file, `${place}.agreedClass`, 'MIDOG JSON needs a class for every cell; this one has no agreed class and no majority vote');
}

function labelsOf(
  cell: BundleCell,
  positionOf: Map<string, number>,
  categoryOf: Map<string, number>,
  place: string,
  file: string,
): Array<number | null> {
  const labels: Array<number | null> = [];
  cell.votes.forEach((vote, voteIndex) => {
    const position = positionOf.get(vote.annotator)!;
    const category = vote.className === null ? 0 : categoryOf.get(vote.className)!;
    while (labels.length <= position) labels.push(null);
    const earlier = labels[position];
    // One position holds one vote: repeats of the same vote collapse, different votes cannot be written.
    if (earlier !== null && earlier !== category) {
      throw new InteropError(
        file,
        `${place}.votes[${voteIndex}]`,
        `"${vote.annotator}" votes twice with different classes on this cell; MIDOG labels hold one vote per annotator`,
      );
    }
    labels[position] = category;
  });
  return labels;
}
