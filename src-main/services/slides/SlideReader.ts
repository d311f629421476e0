/** Which backend opened a slide. Stored per slide and shown to the user. */
export type ReaderKind = 'tiff' | 'openslide' | 'image';

/** One level of a slide's pyramid; level 0 is full resolution. */
export interface SlideLevel {
  width: number;
  height: number;
  /** Level-0 pixels per pixel of this level (1 for level 0). */
  downsample: number;
  /** Size of the stored tiles of this level; for untiled images, the whole level. */
  tileWidth: number;
  tileHeight: number;
}

export interface SlideProperties {
  /** e.g. "aperio", "generic-tiff", "ome-tiff", "hamamatsu", "image". */
  vendor: string;
  /** Micrometres per level-0 pixel; null when the file does not say. */
  mppX: number | null;
  mppY: number | null;
  /** Scanner objective magnification (20, 40); null when the file does not say. */
  objectivePower: number | null;
}

/** Straight (not premultiplied) 8-bit RGBA, row-major, data.length === width * height * 4. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Buffer;
}

/** A stored tile that can be sent to a browser as it is, without decoding. */
export interface EncodedTile {
  mimeType: 'image/jpeg';
  data: Buffer;
  /** Pixel size of the encoded image (stored edge tiles are padded to the full tile size). */
  width: number;
  height: number;
}

export interface SlideReader {
  readonly kind: ReaderKind;
  readonly path: string;
  readonly levels: readonly SlideLevel[];
  readonly properties: SlideProperties;
  /** Names of associated images present in the file: "thumbnail", "label", "macro". */
  readonly associatedImageNames: readonly string[];

  /**
   * Pixels of a rectangle of one level. levelX/levelY are in that level's own pixel grid
   * (not level 0). Areas outside the level are transparent black, as OpenSlide returns them.
   */
  readRegion(level: number, levelX: number, levelY: number, width: number, height: number): Promise<RgbaImage>;

  /**
   * The stored tile at (column, row) of a level as a self-contained JPEG, when the file
   * stores JPEG tiles; null when the backend cannot serve stored bytes for it.
   */
  readEncodedTile(level: number, column: number, row: number): Promise<EncodedTile | null>;

  readAssociatedImage(name: string): Promise<RgbaImage>;

  close(): Promise<void>;
}
