/**
 * What every interchange format is read into and written from: the cells, classes, annotators
 * and slides of one file, with nothing of the project in it yet. Parsers return one of these
 * (and nothing else); the importer maps names and file names onto the project in one
 * transaction, and exporters build one from the project.
 *
 * Coordinates are level-0 pixels of the slide, floats allowed (real SlideRunner and MIDOG files
 * hold half pixels).
 */
export type LevelZeroPx = number;

export interface LevelZeroPoint {
  x: LevelZeroPx;
  y: LevelZeroPx;
}

export type CellShape =
  | { kind: 'point'; x: LevelZeroPx; y: LevelZeroPx }
  | { kind: 'circle'; x: LevelZeroPx; y: LevelZeroPx; radius: LevelZeroPx }
  /** Two opposite corners, as the source wrote them (usually top-left, bottom-right). */
  | { kind: 'rectangle'; x1: LevelZeroPx; y1: LevelZeroPx; x2: LevelZeroPx; y2: LevelZeroPx }
  /** Closed implicitly: the first point is not repeated at the end. */
  | { kind: 'polygon'; points: LevelZeroPoint[] };

export type CellShapeKind = CellShape['kind'];

export interface BundleClass {
  /** Unique within the bundle; votes and agreed classes refer to classes by this name. */
  name: string;
  /** '#rrggbb' when the source has one. */
  colour?: string;
  /** The class's number in the source (MIDOG category id, SlideRunner Classes.uid). */
  sourceId?: number;
}

export type AnnotatorKind = 'person' | 'model';

export interface BundleAnnotator {
  /** Unique within the bundle; votes refer to annotators by this name. */
  name: string;
  kind: AnnotatorKind;
  /** The annotator's number in the source (SlideRunner Persons.uid). */
  sourceId?: number;
}

export interface BundleSlide {
  /** The image's file name as the source wrote it; the importer matches slides by it. */
  fileName: string;
  /** Where the source last saw the file (SlideRunner Slides.directory), when it says. */
  directory?: string;
  widthPx?: number;
  heightPx?: number;
  /** Domains such as { tumour: 'canine lymphoma' }. */
  tags: Record<string, string>;
  /** The slide's number in the source (MIDOG image id, SlideRunner Slides.uid). */
  sourceId?: number;
  /** MIDOG images name one of the file's licences by id. */
  licenceId?: number;
}

export interface BundleVote {
  annotator: string;
  /**
   * null: the annotator marked the cell without giving it a class (SlideRunner stores such
   * labels as class 0, e.g. a detector's candidates).
   */
  className: string | null;
}

export interface BundleCell {
  /** Index into AnnotationBundle.slides. */
  slideIndex: number;
  shape: CellShape;
  /**
   * Every vote the source holds, in its order. One annotator may vote more than once on a cell
   * (the real MIDOG SlideRunner database repeats a detector's votes).
   */
  votes: BundleVote[];
  /** The class the source states as agreed (MIDOG category, SlideRunner agreedClass); absent when it states none. */
  agreedClass?: string;
  guid?: string;
  /** The cell's number in the source (MIDOG annotation id, SlideRunner Annotations.uid). */
  sourceId?: number;
  description?: string;
  /** Soft-deleted in the source (SlideRunner keeps deleted annotations). */
  deleted?: boolean;
  /** Frame or focal plane of multi-frame images (SlideRunner coordinateZ); absent for 0. */
  zLevel?: number;
}

export interface DatasetLicence {
  id: number;
  name: string;
  url?: string;
}

/** Provenance the source states about itself (MIDOG `info` and `licenses`). */
export interface DatasetProvenance {
  info?: Record<string, string | number>;
  licences?: DatasetLicence[];
}

export type InterchangeFormatId = 'midog-json' | 'sliderunner-sqlite' | 'csv' | 'qupath-geojson' | 'asap-xml';

export interface AnnotationBundle {
  sourceFormat: InterchangeFormatId;
  classes: BundleClass[];
  annotators: BundleAnnotator[];
  slides: BundleSlide[];
  cells: BundleCell[];
  dataset?: DatasetProvenance;
  /** What the parser skipped or guessed, to show in the import preview; serializers ignore it. */
  warnings: string[];
}
