import type { AnnotationBundle, BundleCell, LevelZeroPoint } from '../AnnotationBundle';
import { checkBundle } from '../checkBundle';
import { circleOutline, rectangleCorners, shownClassOf, singleSlideIndex, uuidPattern } from '../singleSlideFiles';
import { MITOBENCH_KEY, type MitobenchFeatureExtras, type MitobenchFileExtras } from './qupathSchema';

/**
 * Writes the cells of one slide as a GeoJSON FeatureCollection that QuPath imports (File ›
 * Import objects, or drag and drop): points as Point annotations, rectangles and polygons as
 * Polygons, circles as 64-vertex Polygons. Each object's classification is the class QuPath
 * should show (`shownClassOf`); every vote, the exact shape and the cell's guid are kept under
 * `properties.mitobench`, the slide and the annotators under the collection's `mitobench`.
 * Deleted cells are not written. `file` names the target in errors.
 */
export function serializeQuPathGeoJson(bundle: AnnotationBundle, file: string): string {
  checkBundle(bundle, file);
  const slideIndex = singleSlideIndex(bundle, file, 'QuPath GeoJSON');
  const colourOf = new Map(bundle.classes.map((entry) => [entry.name, entry.colour]));
  const features = bundle.cells.filter((cell) => !cell.deleted).map((cell) => featureOf(cell, colourOf));

  const extras: MitobenchFileExtras = {
    version: 1,
    classes: bundle.classes.map(({ name, colour }) => (colour === undefined ? { name } : { name, colour })),
    annotators: bundle.annotators.map(({ name, kind }) => ({ name, kind })),
  };
  const slide = slideIndex === null ? undefined : bundle.slides[slideIndex];
  if (slide) {
    extras.slide = { fileName: slide.fileName, tags: slide.tags };
    if (slide.widthPx !== undefined) extras.slide.widthPx = slide.widthPx;
    if (slide.heightPx !== undefined) extras.slide.heightPx = slide.heightPx;
  }
  return JSON.stringify({ type: 'FeatureCollection', features, [MITOBENCH_KEY]: extras });
}

function featureOf(cell: BundleCell, colourOf: Map<string, string | undefined>): Record<string, unknown> {
  const extras: MitobenchFeatureExtras = {
    votes: cell.votes.map((vote) => ({ annotator: vote.annotator, class: vote.className })),
  };
  if (cell.agreedClass !== undefined) extras.agreedClass = cell.agreedClass;
  if (cell.description !== undefined) extras.description = cell.description;
  if (cell.zLevel) extras.zLevel = cell.zLevel;

  const { shape } = cell;
  let geometry: Record<string, unknown>;
  if (shape.kind === 'point') {
    geometry = { type: 'Point', coordinates: [shape.x, shape.y] };
  } else if (shape.kind === 'polygon') {
    geometry = polygon(shape.points);
  } else if (shape.kind === 'rectangle') {
    geometry = polygon(rectangleCorners(shape));
    extras.shape = shape;
  } else {
    geometry = polygon(circleOutline(shape));
    extras.shape = shape;
  }

  const properties: Record<string, unknown> = { objectType: 'annotation' };
  const shown = shownClassOf(cell);
  if (shown !== undefined) {
    const colour = colourOf.get(shown);
    properties.classification = colour === undefined ? { name: shown } : { name: shown, color: rgbOf(colour) };
  }
  if (cell.description) properties.name = cell.description;
  properties[MITOBENCH_KEY] = extras;

  const feature: Record<string, unknown> = { type: 'Feature' };
  // QuPath reads `id` as the object's UUID and refuses other ids; other guids travel in mitobench.guid.
  if (cell.guid !== undefined && uuidPattern.test(cell.guid)) feature.id = cell.guid;
  else if (cell.guid !== undefined) extras.guid = cell.guid;
  feature.geometry = geometry;
  feature.properties = properties;
  return feature;
}

/** GeoJSON rings are closed: the first position is repeated at the end. */
function polygon(points: readonly LevelZeroPoint[]): Record<string, unknown> {
  const ring = points.map((point) => [point.x, point.y]);
  ring.push([points[0]!.x, points[0]!.y]);
  return { type: 'Polygon', coordinates: [ring] };
}

function rgbOf(colour: string): [number, number, number] {
  const value = parseInt(colour.slice(1), 16);
  return [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
}
