import type { AnnotationBundle, BundleCell, LevelZeroPoint } from '../AnnotationBundle';
import { checkBundle } from '../checkBundle';
import { circleOutline, rectangleCorners, shownClassOf, singleSlideIndex } from '../singleSlideFiles';
import { NO_GROUP } from './parseAsapXml';
import { xmlAttribute } from './xmlReader';

/**
 * Writes the cells of one slide as ASAP XML: points as Dot, rectangles as Rectangle, polygons
 * as Polygon, circles as a 64-point Polygon. PartOfGroup is the class ASAP should show
 * (`shownClassOf`), each class a Group with its colour. Every vote, the guid and the exact
 * circle or rectangle go into a `<Mitobench>` element inside the annotation, the slide and the
 * annotators into one under the root; ASAP ignores both. Deleted cells are not written.
 */
export function serializeAsapXml(bundle: AnnotationBundle, file: string): string {
  checkBundle(bundle, file);
  const slideIndex = singleSlideIndex(bundle, file, 'ASAP XML');
  const lines = ['<?xml version="1.0"?>', '<ASAP_Annotations>', '\t<Annotations>'];
  bundle.cells
    .filter((cell) => !cell.deleted)
    .forEach((cell, index) => lines.push(...annotationLines(cell, index, bundle)));
  lines.push('\t</Annotations>', '\t<AnnotationGroups>');
  for (const entry of bundle.classes) {
    const colour = entry.colour === undefined ? '' : ` Color="${xmlAttribute(entry.colour.toUpperCase())}"`;
    lines.push(`\t\t<Group Name="${xmlAttribute(entry.name)}" PartOfGroup="${NO_GROUP}"${colour}>`, '\t\t\t<Attributes />', '\t\t</Group>');
  }
  lines.push('\t</AnnotationGroups>');

  const slide = slideIndex === null ? undefined : bundle.slides[slideIndex];
  const slideAttributes = slide
    ? ` Slide="${xmlAttribute(slide.fileName)}"` +
      (slide.widthPx === undefined ? '' : ` Width="${slide.widthPx}"`) +
      (slide.heightPx === undefined ? '' : ` Height="${slide.heightPx}"`)
    : '';
  lines.push(`\t<Mitobench Version="1"${slideAttributes}>`);
  for (const annotator of bundle.annotators) {
    lines.push(`\t\t<Annotator Name="${xmlAttribute(annotator.name)}" Kind="${annotator.kind}" />`);
  }
  for (const [key, value] of Object.entries(slide?.tags ?? {})) {
    lines.push(`\t\t<Tag Key="${xmlAttribute(key)}" Value="${xmlAttribute(value)}" />`);
  }
  lines.push('\t</Mitobench>', '</ASAP_Annotations>');
  return lines.join('\n') + '\n';
}

function annotationLines(cell: BundleCell, index: number, bundle: AnnotationBundle): string[] {
  const { shape } = cell;
  let type: string;
  let points: LevelZeroPoint[];
  const exact: string[] = [];
  switch (shape.kind) {
    case 'point':
      type = 'Dot';
      points = [{ x: shape.x, y: shape.y }];
      break;
    case 'rectangle':
      type = 'Rectangle';
      points = rectangleCorners(shape);
      exact.push(`\t\t\t\t<Rectangle X1="${shape.x1}" Y1="${shape.y1}" X2="${shape.x2}" Y2="${shape.y2}" />`);
      break;
    case 'polygon':
      type = 'Polygon';
      points = shape.points;
      break;
    case 'circle':
      type = 'Polygon';
      points = circleOutline(shape);
      exact.push(`\t\t\t\t<Circle X="${shape.x}" Y="${shape.y}" Radius="${shape.radius}" />`);
      break;
  }
  const shown = shownClassOf(cell);
  const colour = shown === undefined ? undefined : bundle.classes.find((entry) => entry.name === shown)?.colour;
  const lines = [
    `\t\t<Annotation Name="Annotation ${index}" Type="${type}" PartOfGroup="${xmlAttribute(shown ?? NO_GROUP)}" Color="${(colour ?? '#F4FA58').toUpperCase()}">`,
    '\t\t\t<Coordinates>',
    ...points.map((point, order) => `\t\t\t\t<Coordinate Order="${order}" X="${point.x}" Y="${point.y}" />`),
    '\t\t\t</Coordinates>',
  ];
  let extras = '\t\t\t<Mitobench';
  if (cell.guid !== undefined) extras += ` Guid="${xmlAttribute(cell.guid)}"`;
  if (cell.agreedClass !== undefined) extras += ` AgreedClass="${xmlAttribute(cell.agreedClass)}"`;
  if (cell.description !== undefined) extras += ` Description="${xmlAttribute(cell.description)}"`;
  if (cell.zLevel) extras += ` ZLevel="${cell.zLevel}"`;
  lines.push(`${extras}>`);
  for (const vote of cell.votes) {
    const className = vote.className === null ? '' : ` Class="${xmlAttribute(vote.className)}"`;
    lines.push(`\t\t\t\t<Vote Annotator="${xmlAttribute(vote.annotator)}"${className} />`);
  }
  lines.push(...exact, '\t\t\t</Mitobench>', '\t\t</Annotation>');
  return lines;
}
