import type { AnnotationBundle, BundleAnnotator, BundleCell, BundleClass, CellShape, LevelZeroPoint } from '../AnnotationBundle';
import { guessAnnotatorKind } from '../annotatorKind';
import { InteropError } from '../InteropError';
import { rectangleFromCorners, slideNameFromFile, type SingleSlideParse, type SingleSlideParseOptions } from '../singleSlideFiles';
import { textOf } from '../textContent';
import { childrenNamed, readXml, type XmlElement } from './xmlReader';

/**
 * ASAP's annotation XML (computationalpathologygroup/ASAP, XmlRepository), as ASAP 1.x and
 * 2.x write it and CAMELYON16/17, TIGER and MIDOG-era datasets ship it:
 *
 * ```xml
 * <ASAP_Annotations>
 *   <Annotations>
 *     <Annotation Name="Annotation 0" Type="Dot" PartOfGroup="mitotic figure" Color="#F4FA58">
 *       <Coordinates><Coordinate Order="0" X="1234.5" Y="678" /></Coordinates>
 *     </Annotation>
 *   </Annotations>
 *   <AnnotationGroups>
 *     <Group Name="mitotic figure" PartOfGroup="None" Color="#64FE2E"><Attributes /></Group>
 *   </AnnotationGroups>
 * </ASAP_Annotations>
 * ```
 *
 * Types: Dot (one coordinate), PointSet (several points: one cell each), Rectangle (four
 * corners), Polygon, Spline (read as the polygon of its points), Measurement (a ruler, skipped).
 * Coordinates are level-0 pixels. The class is the annotation's PartOfGroup ("None": no class);
 * a group's Color is the class colour. ASAP reads these elements and attributes by name and
 * ignores others, so Mitobench keeps what ASAP has no place for (votes, the guid, exact circles,
 * the slide) in `<Mitobench>` elements: one under the root, one inside each annotation.
 */
export const ASAP_EXTENSIONS = ['.xml'] as const;
export const NO_GROUP = 'None';

export function parseAsapXml(content: string | Uint8Array, file: string): AnnotationBundle {
  return readAsapXml(content, file).bundle;
}

/** As parseAsapXml, saying where the slide's name came from (see singleSlideFiles.ts). */
export function readAsapXml(content: string | Uint8Array, file: string, options: SingleSlideParseOptions = {}): SingleSlideParse {
  const root = readXml(textOf(content, file), file);
  if (root.name !== 'ASAP_Annotations') {
    throw new InteropError(file, `<${root.name}>`, 'is not an ASAP annotation file: the root element must be <ASAP_Annotations>');
  }
  const reader = new AsapReader(file);
  const extras = childrenNamed(root, 'Mitobench')[0];
  if (extras) reader.readFileExtras(extras);
  for (const groups of childrenNamed(root, 'AnnotationGroups')) {
    childrenNamed(groups, 'Group').forEach((group, index) => reader.readGroup(group, index));
  }
  let index = 0;
  for (const annotations of childrenNamed(root, 'Annotations')) {
    for (const annotation of childrenNamed(annotations, 'Annotation')) reader.readAnnotation(annotation, index++);
  }

  let slideFrom: SingleSlideParse['slideFrom'] = 'file name';
  let fileName = slideNameFromFile(file, ASAP_EXTENSIONS);
  const stated = extras?.attributes.get('Slide');
  if (options.slideFileName !== undefined) {
    slideFrom = 'caller';
    fileName = options.slideFileName;
  } else if (stated) {
    slideFrom = 'file';
    fileName = stated;
  } else {
    reader.warnings.push(`the file does not name its image: its annotations go to the slide "${fileName}" (named like the file), unless you choose one`);
  }
  return { bundle: reader.bundle(fileName), slideFrom };
}

class AsapReader {
  readonly warnings: string[] = [];
  readonly #classes = new Map<string, BundleClass>();
  readonly #annotators = new Map<string, BundleAnnotator>();
  readonly #cells: BundleCell[] = [];
  readonly #tags: Record<string, string> = {};
  #width: number | undefined;
  #height: number | undefined;
  #splines = 0;
  #measurements = 0;

  constructor(readonly file: string) {}

  #fail(place: string, problem: string): never {
    throw new InteropError(this.file, place, problem);
  }

  #number(element: XmlElement, attribute: string, place: string): number {
    const text = element.attributes.get(attribute);
    if (text === undefined) this.#fail(place, `the attribute ${attribute} is missing`);
    // Some ASAP builds wrote the locale's decimal comma.
    const value = Number(/^-?\d+,\d+$/.test(text!.trim()) ? text!.replace(',', '.') : text!.trim());
    if (text!.trim() === '' || !Number.isFinite(value)) this.#fail(place, `${attribute}="${text}" is not a number`);
    return value;
  }

  readFileExtras(element: XmlElement): void {
    const place = 'Mitobench';
    const width = element.attributes.get('Width');
    const height = element.attributes.get('Height');
    if (width !== undefined) this.#width = this.#number(element, 'Width', place);
    if (height !== undefined) this.#height = this.#number(element, 'Height', place);
    childrenNamed(element, 'Annotator').forEach((annotator, index) => {
      const name = annotator.attributes.get('Name');
      const kind = annotator.attributes.get('Kind');
      if (!name) this.#fail(`Mitobench/Annotator[${index}]`, 'the attribute Name is missing or empty');
      if (kind !== 'person' && kind !== 'model') this.#fail(`Mitobench/Annotator[${index}]`, `Kind must be "person" or "model" (got "${kind}")`);
      if (this.#annotators.has(name!)) this.#fail(`Mitobench/Annotator[${index}]`, `"${name}" appears twice`);
      this.#annotators.set(name!, { name: name!, kind: kind! });
    });
    childrenNamed(element, 'Tag').forEach((tag, index) => {
      const key = tag.attributes.get('Key');
      if (!key) this.#fail(`Mitobench/Tag[${index}]`, 'the attribute Key is missing or empty');
      this.#tags[key!] = tag.attributes.get('Value') ?? '';
    });
  }

  #addClass(name: string, colour: string | undefined, place: string): void {
    let hex: string | undefined;
    if (colour !== undefined && colour !== '') {
      if (!/^#[0-9a-fA-F]{6}$/.test(colour)) this.#fail(place, `Color="${colour}" is not a colour such as "#64FE2E"`);
      hex = colour.toLowerCase();
    }
    const known = this.#classes.get(name);
    if (!known) this.#classes.set(name, hex === undefined ? { name } : { name, colour: hex });
    else if (known.colour === undefined && hex !== undefined) known.colour = hex;
  }

  readGroup(group: XmlElement, index: number): void {
    const place = `AnnotationGroups/Group[${index}]`;
    const name = group.attributes.get('Name');
    if (!name) this.#fail(place, 'the attribute Name is missing or empty');
    this.#addClass(name!, group.attributes.get('Color'), place);
  }

  readAnnotation(annotation: XmlElement, index: number): void {
    const place = `Annotations/Annotation[${index}]`;
    const type = annotation.attributes.get('Type');
    const group = annotation.attributes.get('PartOfGroup');
    const className = group === undefined || group === '' || group === NO_GROUP ? undefined : group;
    if (className !== undefined && !this.#classes.has(className)) this.#addClass(className, undefined, place);
    const points = this.#coordinates(annotation, place);

    let shapes: CellShape[];
    switch (type) {
      case 'Dot':
        if (points.length !== 1) this.#fail(place, `a Dot has 1 coordinate, this one has ${points.length}`);
        shapes = [{ kind: 'point', ...points[0]! }];
        break;
      case 'PointSet':
        if (points.length === 0) this.#fail(place, 'a PointSet has no coordinates');
        shapes = points.map((point) => ({ kind: 'point', ...point }));
        break;
      case 'Rectangle':
        if (points.length !== 4) this.#fail(place, `a Rectangle has 4 coordinates, this one has ${points.length}`);
        shapes = [rectangleFromCorners(points) ?? { kind: 'polygon', points }];
        break;
      case 'Spline':
      case 'Polygon':
        if (points.length < 3) this.#fail(place, `a ${type} needs at least 3 coordinates, this one has ${points.length}`);
        if (type === 'Spline') this.#splines += 1;
        shapes = [{ kind: 'polygon', points }];
        break;
      case 'Measurement':
        this.#measurements += 1;
        return;
      case undefined:
        return this.#fail(place, 'the attribute Type is missing');
      default:
        return this.#fail(place, `unknown annotation Type "${type}" (ASAP writes Dot, PointSet, Rectangle, Polygon, Spline, Measurement)`);
    }

    const extras = childrenNamed(annotation, 'Mitobench')[0];
    shapes.forEach((shape) => {
      const cell: BundleCell = { slideIndex: 0, shape, votes: [] };
      if (extras && shapes.length === 1) this.#readCellExtras(cell, extras, `${place}/Mitobench`);
      else if (className !== undefined) cell.agreedClass = className;
      if (cell.guid === undefined) cell.sourceId = index + 1;
      const name = annotation.attributes.get('Name');
      if (cell.description === undefined && name && !/^Annotation \d+$/.test(name)) cell.description = name;
      this.#cells.push(cell);
    });
  }

  #coordinates(annotation: XmlElement, place: string): LevelZeroPoint[] {
    const coordinates = childrenNamed(annotation, 'Coordinates')[0];
    if (!coordinates) this.#fail(place, 'has no <Coordinates>');
    const ordered = childrenNamed(coordinates!, 'Coordinate').map((coordinate, index) => {
      const at = `${place}/Coordinates/Coordinate[${index}]`;
      const order = coordinate.attributes.has('Order') ? this.#number(coordinate, 'Order', at) : index;
      return { order, point: { x: this.#number(coordinate, 'X', at), y: this.#number(coordinate, 'Y', at) } };
    });
    ordered.sort((a, b) => a.order - b.order);
    return ordered.map((entry) => entry.point);
  }

  #readCellExtras(cell: BundleCell, extras: XmlElement, place: string): void {
    const guid = extras.attributes.get('Guid');
    if (guid) cell.guid = guid;
    const agreed = extras.attributes.get('AgreedClass');
    if (agreed !== undefined) {
      if (!this.#classes.has(agreed)) this.#fail(place, `AgreedClass "${agreed}" is not among the file's groups`);
      cell.agreedClass = agreed;
    }
    const description = extras.attributes.get('Description');
    if (description !== undefined) cell.description = description;
    if (extras.attributes.has('ZLevel')) cell.zLevel = this.#number(extras, 'ZLevel', place);
    childrenNamed(extras, 'Vote').forEach((vote, index) => {
      const at = `${place}/Vote[${index}]`;
      const annotator = vote.attributes.get('Annotator');
      if (!annotator) this.#fail(at, 'the attribute Annotator is missing or empty');
      const className = vote.attributes.get('Class') ?? null;
      if (className !== null && !this.#classes.has(className)) this.#fail(at, `Class "${className}" is not among the file's groups`);
      if (!this.#annotators.has(annotator!)) this.#annotators.set(annotator!, { name: annotator!, kind: guessAnnotatorKind(annotator!) });
      cell.votes.push({ annotator: annotator!, className });
    });
    const circle = childrenNamed(extras, 'Circle')[0];
    if (circle) {
      const at = `${place}/Circle`;
      cell.shape = { kind: 'circle', x: this.#number(circle, 'X', at), y: this.#number(circle, 'Y', at), radius: this.#number(circle, 'Radius', at) };
    }
    const rectangle = childrenNamed(extras, 'Rectangle')[0];
    if (rectangle) {
      const at = `${place}/Rectangle`;
      cell.shape = {
        kind: 'rectangle',
        x1: this.#number(rectangle, 'X1', at),
        y1: this.#number(rectangle, 'Y1', at),
        x2: this.#number(rectangle, 'X2', at),
        y2: this.#number(rectangle, 'Y2', at),
      };
    }
  }

  bundle(slideFileName: string): AnnotationBundle {
    if (this.#splines > 0) this.warnings.push(`${this.#splines} Spline annotation(s) became polygons through their points`);
    if (this.#measurements > 0) this.warnings.push(`${this.#measurements} Measurement annotation(s) (rulers) were skipped`);
    const slide: AnnotationBundle['slides'][number] = { fileName: slideFileName, tags: this.#tags };
    if (this.#width !== undefined) slide.widthPx = this.#width;
    if (this.#height !== undefined) slide.heightPx = this.#height;
    return {
      sourceFormat: 'asap-xml',
      classes: [...this.#classes.values()],
      annotators: [...this.#annotators.values()],
      slides: [slide],
      cells: this.#cells,
      warnings: this.warnings,
    };
  }
}
