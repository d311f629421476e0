import type { AnnotationBundle, BundleAnnotator, BundleCell, BundleClass, CellShape, LevelZeroPoint } from '../AnnotationBundle';
import { guessAnnotatorKind } from '../annotatorKind';
import { InteropError, jsonPath } from '../InteropError';
import { findJsonSyntaxProblem } from '../jsonSyntaxError';
import { interopErrorFromSchema } from '../schemaError';
import { rectangleFromCorners, slideNameFromFile, stableUuid, type SingleSlideParse, type SingleSlideParseOptions } from '../singleSlideFiles';
import { lineAndColumn, textOf } from '../textContent';
import { MITOBENCH_KEY, mitobenchFileSchema, propertiesSchema, type MitobenchFeatureExtras } from './qupathSchema';

export const QUPATH_EXTENSIONS = ['.geojson', '.json'] as const;

/** Reads a QuPath GeoJSON file (see qupathSchema.ts for what QuPath writes). `file` names it in errors. */
export function parseQuPathGeoJson(content: string | Uint8Array, file: string): AnnotationBundle {
  return readQuPathGeoJson(content, file).bundle;
}

/** As parseQuPathGeoJson, saying where the slide's name came from (see singleSlideFiles.ts). */
export function readQuPathGeoJson(content: string | Uint8Array, file: string, options: SingleSlideParseOptions = {}): SingleSlideParse {
  const document = parseJsonText(textOf(content, file), file);
  const { features, prefix, extras } = featuresOf(document, file);
  const builder = new GeoJsonBundleBuilder(file, extras);
  features.forEach((feature, index) => builder.addFeature(feature, [...prefix, index]));

  let slideFrom: SingleSlideParse['slideFrom'] = 'file name';
  let fileName = slideNameFromFile(file, QUPATH_EXTENSIONS);
  if (options.slideFileName !== undefined) {
    slideFrom = 'caller';
    fileName = options.slideFileName;
  } else if (extras?.slide) {
    slideFrom = 'file';
    fileName = extras.slide.fileName;
  } else {
    builder.warnings.push(`the file does not name its image: its objects go to the slide "${fileName}" (named like the file), unless you choose one`);
  }
  return { bundle: builder.bundle(fileName), slideFrom };
}

function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const found = findJsonSyntaxProblem(text);
    if (!found) throw new InteropError(file, '', `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    const place = lineAndColumn(text, found.offset);
    if (found.endsEarly) throw new InteropError(file, place, `the JSON ends early, expecting ${found.expected}; the file looks truncated`);
    throw new InteropError(file, place, `is not valid JSON: expected ${found.expected}`);
  }
}

type Path = Array<string | number>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function featuresOf(document: unknown, file: string) {
  if (Array.isArray(document)) return { features: document as unknown[], prefix: [] as Path, extras: undefined };
  if (!isObject(document)) throw new InteropError(file, '(top level)', 'is not GeoJSON: expected a FeatureCollection or an array of Features');
  if (document.type === 'Feature') return { features: [document], prefix: [] as Path, extras: undefined };
  if (document.type !== 'FeatureCollection') {
    const hint = 'images' in document && 'annotations' in document ? ' (this looks like a MIDOG file: choose that format)' : '';
    throw new InteropError(
      file,
      'type',
      `is ${JSON.stringify(document.type)}, expected "FeatureCollection" (or an array of Features, as QuPath writes)${hint}`,
    );
  }
  if (!Array.isArray(document.features)) throw new InteropError(file, 'features', 'is missing or not an array');
  let extras;
  if (document[MITOBENCH_KEY] !== undefined) {
    const checked = mitobenchFileSchema.safeParse(document[MITOBENCH_KEY]);
    if (!checked.success) {
      const error = interopErrorFromSchema(checked.error, file);
      throw new InteropError(file, `${MITOBENCH_KEY}.${error.place}`, error.problem);
    }
    extras = checked.data;
  }
  return { features: document.features as unknown[], prefix: ['features'] as Path, extras };
}

type FileExtras = ReturnType<typeof featuresOf>['extras'];

class GeoJsonBundleBuilder {
  readonly warnings: string[] = [];
  readonly #classes = new Map<string, BundleClass>();
  readonly #annotators = new Map<string, BundleAnnotator>();
  readonly #cells: BundleCell[] = [];
  readonly #objectTypes = new Map<string, number>();
  #skippedLines = 0;
  #holes = 0;
  #multiPolygons = 0;
  #droppedZ = 0;

  constructor(
    readonly file: string,
    readonly extras: FileExtras,
  ) {
    for (const entry of extras?.classes ?? []) this.#addClass(entry.name, entry.colour);
    for (const entry of extras?.annotators ?? []) {
      if (this.#annotators.has(entry.name)) throw new InteropError(file, `${MITOBENCH_KEY}.annotators`, `"${entry.name}" appears twice`);
      this.#annotators.set(entry.name, { name: entry.name, kind: entry.kind });
    }
  }

  #fail(place: Path, problem: string): never {
    throw new InteropError(this.file, jsonPath(place), problem);
  }

  #addClass(name: string, colour: string | undefined): void {
    const known = this.#classes.get(name);
    if (!known) this.#classes.set(name, colour === undefined ? { name } : { name, colour: colour.toLowerCase() });
    else if (known.colour === undefined && colour !== undefined) known.colour = colour.toLowerCase();
  }

  addFeature(feature: unknown, place: Path): void {
    if (!isObject(feature)) this.#fail(place, 'is not a GeoJSON Feature object');
    if (feature.type !== 'Feature') this.#fail([...place, 'type'], `is ${JSON.stringify(feature.type)}, expected "Feature"`);
    if (!isObject(feature.geometry)) {
      this.#fail([...place, 'geometry'], feature.geometry === null ? 'is null: the Feature has no geometry' : 'is missing: the Feature has no geometry');
    }
    const checked = propertiesSchema.nullable().optional().safeParse(feature.properties);
    if (!checked.success) {
      const error = interopErrorFromSchema(checked.error, this.file);
      throw new InteropError(this.file, `${jsonPath([...place, 'properties'])}${error.place === '(top level)' ? '' : `.${error.place}`}`, error.problem);
    }
    const properties = checked.data ?? {};
    const extras = properties[MITOBENCH_KEY];
    const objectType = properties.objectType ?? 'annotation';
    this.#objectTypes.set(objectType, (this.#objectTypes.get(objectType) ?? 0) + 1);

    const className = this.#classOf(properties.classification ?? null, [...place, 'properties', 'classification']);
    const shapes = this.#shapesOf(feature.geometry as Record<string, unknown>, [...place, 'geometry']);
    if (shapes.length === 0) return;
    const featureId = typeof feature.id === 'string' && feature.id !== '' ? feature.id : properties.id;

    shapes.forEach((geometryShape, index) => {
      // QuPath writes rectangles as 4-corner outlines; a Mitobench export says itself which shape it wrote.
      let shape = shapes.length === 1 && extras?.shape ? extras.shape : geometryShape;
      if (!extras && shape.kind === 'polygon') shape = rectangleFromCorners(shape.points) ?? shape;
      const cell: BundleCell = { slideIndex: 0, shape, votes: [] };
      this.#addVotes(cell, extras, className, [...place, 'properties', MITOBENCH_KEY]);
      const guid = extras?.guid ?? featureId;
      // One object of many points (QuPath's points annotations) is one cell per point.
      if (guid !== undefined) cell.guid = shapes.length === 1 ? guid : stableUuid(`${guid}\n${index}`);
      else cell.sourceId = Number(place.at(-1)) + 1;
      const description = extras?.description ?? properties.name ?? undefined;
      if (description) cell.description = description;
      if (extras?.zLevel) cell.zLevel = extras.zLevel;
      this.#cells.push(cell);
    });
  }

  #addVotes(cell: BundleCell, extras: MitobenchFeatureExtras | undefined, className: string | undefined, place: Path): void {
    if (!extras) {
      if (className !== undefined) cell.agreedClass = className;
      return;
    }
    extras.votes.forEach((vote, index) => {
      if (!this.#annotators.has(vote.annotator)) this.#annotators.set(vote.annotator, { name: vote.annotator, kind: guessAnnotatorKind(vote.annotator) });
      if (vote.class !== null && !this.#classes.has(vote.class)) {
        this.#fail([...place, 'votes', index, 'class'], `class "${vote.class}" is neither the object's classification nor among mitobench.classes`);
      }
      cell.votes.push({ annotator: vote.annotator, className: vote.class });
    });
    if (extras.agreedClass !== undefined) {
      if (!this.#classes.has(extras.agreedClass)) this.#fail([...place, 'agreedClass'], `class "${extras.agreedClass}" is not among the file's classes`);
      cell.agreedClass = extras.agreedClass;
    }
  }

  #classOf(classification: { name?: string; names?: string[]; color?: number[]; colorRGB?: number } | null, place: Path): string | undefined {
    if (!classification) return undefined;
    const name = classification.name ?? classification.names?.join(': ');
    if (name === undefined || name.trim() === '') return undefined;
    let colour: string | undefined;
    if (classification.color !== undefined) {
      const rgb = classification.color;
      if (rgb.length !== 3 || !rgb.every((value) => Number.isInteger(value) && value >= 0 && value <= 255)) {
        this.#fail([...place, 'color'], `must be [r, g, b] with 0–255 each (got ${JSON.stringify(rgb)})`);
      }
      colour = hexOf(rgb[0]!, rgb[1]!, rgb[2]!);
    } else if (classification.colorRGB !== undefined) {
      const packed = classification.colorRGB;
      colour = hexOf((packed >> 16) & 0xff, (packed >> 8) & 0xff, packed & 0xff);
    }
    this.#addClass(name, colour);
    return name;
  }

  #position(value: unknown, place: Path): LevelZeroPoint {
    if (!Array.isArray(value)) this.#fail(place, 'a position must be an array [x, y]');
    const position = value as unknown[];
    if (position.length < 2 || position.length > 3) {
      this.#fail(place, `a position must be [x, y] (2 numbers, or 3 with z), but has ${position.length}`);
    }
    if (!position.every((coordinate) => typeof coordinate === 'number' && Number.isFinite(coordinate))) {
      this.#fail(place, `a position must hold numbers (got ${JSON.stringify(position)})`);
    }
    if (position.length === 3) this.#droppedZ += 1;
    return { x: position[0] as number, y: position[1] as number };
  }

  #positions(value: unknown, place: Path, what: string): unknown[] {
    if (!Array.isArray(value)) this.#fail(place, `must be an array of ${what}`);
    return value as unknown[];
  }

  #ring(value: unknown, place: Path): LevelZeroPoint[] {
    const points = this.#positions(value, place, 'positions').map((position, index) => this.#position(position, [...place, index]));
    const first = points[0];
    const last = points.at(-1);
    if (points.length > 1 && first && last && first.x === last.x && first.y === last.y) points.pop();
    if (points.length < 3) this.#fail(place, `a polygon ring needs at least 3 distinct positions, this one has ${points.length}`);
    return points;
  }

  #polygon(value: unknown, place: Path): CellShape {
    const rings = this.#positions(value, place, 'rings');
    if (rings.length === 0) this.#fail(place, 'a Polygon needs an outer ring');
    if (rings.length > 1) this.#holes += rings.length - 1;
    const outline = this.#ring(rings[0], [...place, 0]);
    return { kind: 'polygon', points: outline };
  }

  #shapesOf(geometry: Record<string, unknown>, place: Path): CellShape[] {
    const coordinates = geometry.coordinates;
    const at: Path = [...place, 'coordinates'];
    switch (geometry.type) {
      case 'Point': {
        const point = this.#position(coordinates, at);
        return [{ kind: 'point', ...point }];
      }
      case 'MultiPoint':
        return this.#positions(coordinates, at, 'positions').map((position, index) => ({ kind: 'point', ...this.#position(position, [...at, index]) }));
      case 'Polygon':
        return [this.#polygon(coordinates, at)];
      case 'MultiPolygon': {
        const polygons = this.#positions(coordinates, at, 'polygons');
        if (polygons.length > 1) this.#multiPolygons += 1;
        return polygons.map((polygon, index) => this.#polygon(polygon, [...at, index]));
      }
      case 'LineString':
      case 'MultiLineString':
        this.#skippedLines += 1;
        return [];
      default:
        return this.#fail([...place, 'type'], `geometry type ${JSON.stringify(geometry.type)} is not supported (Point, MultiPoint, Polygon, MultiPolygon)`);
    }
  }

  bundle(slideFileName: string): AnnotationBundle {
    const types = [...this.#objectTypes].map(([type, count]) => `${count} ${type}${count === 1 ? '' : 's'}`).join(', ');
    if (this.#objectTypes.size > 1 || (this.#objectTypes.size === 1 && !this.#objectTypes.has('annotation'))) {
      this.warnings.push(`QuPath object types: ${types}; all become cells`);
    }
    if (this.#skippedLines > 0) this.warnings.push(`${this.#skippedLines} line object(s) were skipped: a cell is a point or an area`);
    if (this.#holes > 0) this.warnings.push(`${this.#holes} hole(s) in polygons were dropped: only outer outlines are kept`);
    if (this.#multiPolygons > 0) this.warnings.push(`${this.#multiPolygons} object(s) of several polygons became one cell per polygon`);
    if (this.#droppedZ > 0) this.warnings.push(`${this.#droppedZ} position(s) had a third coordinate (z), which was ignored`);
    const slide = this.extras?.slide;
    return {
      sourceFormat: 'qupath-geojson',
      classes: [...this.#classes.values()],
      annotators: [...this.#annotators.values()],
      slides: [
        {
          fileName: slideFileName,
          tags: { ...slide?.tags },
          ...(slide?.widthPx === undefined ? {} : { widthPx: slide.widthPx }),
          ...(slide?.heightPx === undefined ? {} : { heightPx: slide.heightPx }),
        },
      ],
      cells: this.#cells,
      warnings: this.warnings,
    };
  }
}

function hexOf(red: number, green: number, blue: number): string {
  return `#${[red, green, blue].map((value) => value.toString(16).padStart(2, '0')).join('')}`;
}
