import fs from 'node:fs';
import koffi from 'koffi';
import type { LibraryHandle } from 'koffi';
import { SlideError } from './SlideError';
import type { RgbaImage, SlideLevel, SlideProperties, SlideReader, EncodedTile } from './SlideReader';
import { micrometresPerPixel } from './resolution';

/**
 * Reads any format OpenSlide knows (Aperio, Hamamatsu, MIRAX, Leica, Philips, generic TIFF...)
 * through the system's libopenslide, loaded with koffi at first use. OpenSlide decodes every
 * region itself, so this backend never serves stored JPEG bytes.
 */

export interface OpenSlideLibraryStatus {
  available: boolean;
  version: string | null;
  /** Why the library cannot be used; null when it can. */
  reason: string | null;
}

/** openslide_t handles are opaque pointers, BigInt in koffi 3. */
type Handle = bigint;
type NativeFunction = ReturnType<LibraryHandle['func']>;

interface OpenSlideApi {
  version: string | null;
  open(path: string): Promise<Handle | null>;
  close(handle: Handle): void;
  getError(handle: Handle): string | null;
  getLevelCount(handle: Handle): number;
  getLevelDimensions(handle: Handle, level: number): { width: number; height: number };
  getLevelDownsample(handle: Handle, level: number): number;
  getPropertyNames(handle: Handle): string[];
  getPropertyValue(handle: Handle, name: string): string | null;
  getAssociatedImageNames(handle: Handle): string[];
  getAssociatedImageDimensions(handle: Handle, name: string): { width: number; height: number };
  /** Writes premultiplied ARGB (native-endian uint32) into dest; x/y are level-0 pixels. */
  readRegion(handle: Handle, dest: Buffer, x: number, y: number, level: number, width: number, height: number): Promise<void>;
  readAssociatedImage(handle: Handle, name: string, dest: Buffer): Promise<void>;
  detectVendor(path: string): string | null;
}

const LIBRARY_NAMES = [
  'libopenslide.so.1',
  'libopenslide.so.0',
  'libopenslide.dylib',
  'libopenslide-1.dll',
  'libopenslide-0.dll',
];
const LIBRARY_NOT_FOUND = 'OpenSlide library not found (install libopenslide0)';
const DEFAULT_TILE_SIZE_PX = 256;

let loadedApi: { api: OpenSlideApi } | { reason: string } | undefined;

/** Loads libopenslide once; later calls return the same result (or the same failure). */
function openSlideApi(): { api: OpenSlideApi } | { reason: string } {
  loadedApi ??= loadOpenSlideApi();
  return loadedApi;
}

export function openSlideLibraryStatus(): OpenSlideLibraryStatus {
  const loaded = openSlideApi();
  return 'api' in loaded
    ? { available: true, version: loaded.api.version, reason: null }
    : { available: false, version: null, reason: loaded.reason };
}

function loadOpenSlideApi(): { api: OpenSlideApi } | { reason: string } {
  const override = process.env['MITOBENCH_OPENSLIDE_PATH'];
  const candidates = override ? [override, ...LIBRARY_NAMES] : LIBRARY_NAMES;
  for (const name of candidates) {
    let lib: LibraryHandle;
    try {
      lib = koffi.load(name);
    } catch {
      continue;
    }
    try {
      return { api: bindOpenSlide(lib) };
    } catch (error) {
      // A library with missing symbols is too old (openslide_detect_vendor appeared in 3.4).
      return { reason: `OpenSlide library ${name} is unusable: ${(error as Error).message}` };
    }
  }
  return { reason: LIBRARY_NOT_FOUND };
}

function bindOpenSlide(lib: LibraryHandle): OpenSlideApi {
  // Handles are declared void * rather than a named opaque type: koffi type names are
  // process-global, and test runners may evaluate this module more than once per process.
  const open = lib.func('void *openslide_open(const char *filename)');
  const close = lib.func('void openslide_close(void *osr)');
  const getError = lib.func('const char *openslide_get_error(void *osr)');
  const getLevelCount = lib.func('int32_t openslide_get_level_count(void *osr)');
  const getLevelDimensions = lib.func(
    'void openslide_get_level_dimensions(void *osr, int32_t level, _Out_ int64_t *w, _Out_ int64_t *h)',
  );
  const getLevelDownsample = lib.func('double openslide_get_level_downsample(void *osr, int32_t level)');
  const readRegion = lib.func(
    'void openslide_read_region(void *osr, void *dest, int64_t x, int64_t y, int32_t level, int64_t w, int64_t h)',
  );
  const getPropertyNames = lib.func('void *openslide_get_property_names(void *osr)');
  const getPropertyValue = lib.func('const char *openslide_get_property_value(void *osr, const char *name)');
  const getAssociatedImageNames = lib.func('void *openslide_get_associated_image_names(void *osr)');
  const getAssociatedImageDimensions = lib.func(
    'void openslide_get_associated_image_dimensions(void *osr, const char *name, _Out_ int64_t *w, _Out_ int64_t *h)',
  );
  const readAssociatedImage = lib.func('void openslide_read_associated_image(void *osr, const char *name, void *dest)');
  const detectVendor = lib.func('const char *openslide_detect_vendor(const char *filename)');
  const getVersion = lib.func('const char *openslide_get_version()');

  const dimensions = (fn: NativeFunction, ...args: unknown[]): { width: number; height: number } => {
    const width: [number | bigint] = [0];
    const height: [number | bigint] = [0];
    fn(...args, width, height);
    return { width: Number(width[0]), height: Number(height[0]) };
  };
  /** Runs a native call on koffi's worker threads so decoding never blocks the JS thread. */
  const callAsync = <T>(fn: NativeFunction, ...args: unknown[]): Promise<T> =>
    new Promise((resolve, reject) => {
      fn.async(...args, (error: unknown, result: T) => (error ? reject(error as Error) : resolve(result)));
    });

  return {
    version: (getVersion() as string | null) ?? null,
    open: (path) => callAsync<Handle | null>(open, path),
    close: (handle) => close(handle),
    getError: (handle) => getError(handle) as string | null,
    getLevelCount: (handle) => getLevelCount(handle) as number,
    getLevelDimensions: (handle, level) => dimensions(getLevelDimensions, handle, level),
    getLevelDownsample: (handle, level) => getLevelDownsample(handle, level) as number,
    getPropertyNames: (handle) => decodeStringList(getPropertyNames(handle) as bigint | null),
    getPropertyValue: (handle, name) => getPropertyValue(handle, name) as string | null,
    getAssociatedImageNames: (handle) => decodeStringList(getAssociatedImageNames(handle) as bigint | null),
    getAssociatedImageDimensions: (handle, name) => dimensions(getAssociatedImageDimensions, handle, name),
    readRegion: (handle, dest, x, y, level, width, height) =>
      callAsync<void>(readRegion, handle, dest, x, y, level, width, height),
    readAssociatedImage: (handle, name, dest) => callAsync<void>(readAssociatedImage, handle, name, dest),
    detectVendor: (path) => detectVendor(path) as string | null,
  };
}

/** OpenSlide returns NULL-terminated `const char * const *` lists owned by the handle. */
function decodeStringList(list: bigint | null): string[] {
  if (!list) return [];
  const pointerBytes = koffi.sizeof('void *');
  const names: string[] = [];
  for (let i = 0; ; i++) {
    const name = koffi.decode(list, i * pointerBytes, 'const char *') as string | null;
    if (name === null) return names;
    names.push(name);
  }
}

/**
 * OpenSlide gives premultiplied ARGB as native-endian uint32; our images are straight RGBA
 * bytes. Converted in place: each pixel is read whole before its four bytes are rewritten.
 */
export function argbToRgbaInPlace(pixels: Buffer): void {
  const argb = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.byteLength / 4);
  for (let i = 0, o = 0; i < argb.length; i++, o += 4) {
    const value = argb[i]!;
    const alpha = value >>> 24;
    let red = (value >>> 16) & 0xff;
    let green = (value >>> 8) & 0xff;
    let blue = value & 0xff;
    if (alpha !== 255 && alpha !== 0) {
      // Same rounding as OpenSlide's own Python binding.
      red = Math.min(255, ((red * 255 + (alpha >> 1)) / alpha) | 0);
      green = Math.min(255, ((green * 255 + (alpha >> 1)) / alpha) | 0);
      blue = Math.min(255, ((blue * 255 + (alpha >> 1)) / alpha) | 0);
    }
    pixels[o] = red;
    pixels[o + 1] = green;
    pixels[o + 2] = blue;
    pixels[o + 3] = alpha;
  }
}

/** An ArrayBuffer-backed, unpooled buffer: its memory never moves while a worker thread writes it. */
function allocatePixels(width: number, height: number): Buffer {
  return Buffer.allocUnsafeSlow(width * height * 4);
}

function positiveNumber(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const value = Number.parseFloat(text);
  return Number.isFinite(value) && value > 0 ? value : null;
}

/**
 * OpenSlide 4 derives micrometres per pixel from the TIFF resolution tags of generic TIFFs;
 * 3.4 does not. Deriving it here, with the same rules as the built-in readers, gives a slide
 * the same scale whichever reader or OpenSlide version opens it.
 */
function mppFromTiffResolution(resolution: string | null, unit: string | null): number | null {
  const resolutionUnit = unit === 'centimeter' ? 'centimetre' : unit === 'inch' ? 'inch' : null;
  return micrometresPerPixel(positiveNumber(resolution), resolutionUnit);
}

function assertPixelSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`region size must be positive whole pixels, got ${width}×${height}`);
  }
}

/** What the file looked like when opened, to notice it vanishing or being replaced. */
interface FileIdentity {
  sizeBytes: number;
  modifiedMs: number;
}

async function fileIdentity(path: string): Promise<FileIdentity> {
  try {
    const stats = await fs.promises.stat(path);
    return { sizeBytes: stats.size, modifiedMs: stats.mtimeMs };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new SlideError(path, 'the file was not found', 'missing');
    throw new SlideError(path, `the file cannot be read (${code ?? (error as Error).message})`, 'corrupt');
  }
}

/**
 * OpenSlide's name for the format of a file ("aperio", "hamamatsu", "generic-tiff"), or null
 * when OpenSlide does not know it or is not installed. Cheaper than opening the slide.
 */
export function detectOpenSlideVendor(path: string): string | null {
  const loaded = openSlideApi();
  return 'api' in loaded ? loaded.api.detectVendor(path) : null;
}

export async function openOpenSlide(path: string): Promise<OpenSlideReader> {
  const identity = await fileIdentity(path);
  const loaded = openSlideApi();
  if (!('api' in loaded)) throw new SlideError(path, loaded.reason, 'unsupported');
  const { api } = loaded;

  const handle = await api.open(path);
  if (!handle) throw new SlideError(path, 'OpenSlide does not recognise this format', 'unsupported');
  try {
    const openError = api.getError(handle);
    if (openError !== null) throw new SlideError(path, openError, 'corrupt');
    return new OpenSlideReader(path, api, handle, identity);
  } catch (error) {
    api.close(handle);
    throw error;
  }
}

export class OpenSlideReader implements SlideReader {
  readonly kind = 'openslide' as const;
  readonly levels: readonly SlideLevel[];
  readonly properties: SlideProperties;
  readonly associatedImageNames: readonly string[];

  private closing: Promise<void> | null = null;
  /** Native calls still writing into our buffers; close() must wait for them. */
  private readonly inFlight = new Set<Promise<unknown>>();

  /** Use openOpenSlide(). */
  constructor(
    readonly path: string,
    private readonly api: OpenSlideApi,
    private readonly handle: Handle,
    private readonly identity: FileIdentity,
  ) {
    const property = (name: string): string | null => api.getPropertyValue(handle, name);
    const levelCount = api.getLevelCount(handle);
    if (levelCount < 1) throw new SlideError(path, 'OpenSlide found no image levels', 'corrupt');

    const levels: SlideLevel[] = [];
    for (let level = 0; level < levelCount; level++) {
      const { width, height } = api.getLevelDimensions(handle, level);
      levels.push({
        width,
        height,
        downsample: api.getLevelDownsample(handle, level),
        tileWidth: positiveNumber(property(`openslide.level[${level}].tile-width`)) ?? DEFAULT_TILE_SIZE_PX,
        tileHeight: positiveNumber(property(`openslide.level[${level}].tile-height`)) ?? DEFAULT_TILE_SIZE_PX,
      });
    }
    this.levels = levels;

    const resolutionUnit = property('tiff.ResolutionUnit');
    this.properties = {
      vendor: property('openslide.vendor') ?? 'unknown',
      mppX: positiveNumber(property('openslide.mpp-x')) ?? mppFromTiffResolution(property('tiff.XResolution'), resolutionUnit),
      mppY: positiveNumber(property('openslide.mpp-y')) ?? mppFromTiffResolution(property('tiff.YResolution'), resolutionUnit),
      objectivePower: positiveNumber(property('openslide.objective-power')),
    };
    this.associatedImageNames = api.getAssociatedImageNames(handle);
  }

  /** All of OpenSlide's properties (vendor-specific ones included), for diagnostics. */
  rawProperties(): Record<string, string> {
    this.assertOpen();
    const result: Record<string, string> = {};
    for (const name of this.api.getPropertyNames(this.handle)) {
      result[name] = this.api.getPropertyValue(this.handle, name) ?? '';
    }
    return result;
  }

  async readRegion(level: number, levelX: number, levelY: number, width: number, height: number): Promise<RgbaImage> {
    this.assertOpen();
    const slideLevel = this.levels[level];
    if (!Number.isInteger(level) || slideLevel === undefined) {
      throw new RangeError(`level ${level} does not exist (this slide has ${this.levels.length})`);
    }
    assertPixelSize(width, height);
    // OpenSlide takes the region's origin in level-0 pixels, our interface in the level's own.
    const level0X = Math.round(levelX * slideLevel.downsample);
    const level0Y = Math.round(levelY * slideLevel.downsample);
    const pixels = allocatePixels(width, height);
    await this.runNative(() =>
      this.api.readRegion(this.handle, pixels, level0X, level0Y, level, width, height),
    );
    argbToRgbaInPlace(pixels);
    return { width, height, data: pixels };
  }

  /** OpenSlide only hands out decoded pixels; TileGrid re-encodes them. */
  async readEncodedTile(): Promise<EncodedTile | null> {
    this.assertOpen();
    return null;
  }

  async readAssociatedImage(name: string): Promise<RgbaImage> {
    this.assertOpen();
    if (!this.associatedImageNames.includes(name)) {
      throw new SlideError(this.path, `the slide has no associated image "${name}"`, 'missing');
    }
    const { width, height } = this.api.getAssociatedImageDimensions(this.handle, name);
    if (width <= 0 || height <= 0) throw new SlideError(this.path, this.nativeError() ?? `cannot read "${name}"`, 'corrupt');
    const pixels = allocatePixels(width, height);
    await this.runNative(() => this.api.readAssociatedImage(this.handle, name, pixels));
    argbToRgbaInPlace(pixels);
    return { width, height, data: pixels };
  }

  /** Idempotent; waits for reads still running on worker threads before freeing the handle. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.inFlight]);
      this.api.close(this.handle);
    })();
    return this.closing;
  }

  /**
   * Runs one native read and turns OpenSlide's sticky error state into a SlideError. The file
   * is checked first: OpenSlide keeps files open and would otherwise keep serving a deleted
   * or replaced slide from some threads while failing on others.
   */
  private async runNative(read: () => Promise<void>): Promise<void> {
    const task = (async () => {
      await this.assertFileUnchanged();
      await read();
    })();
    this.inFlight.add(task);
    try {
      await task;
    } finally {
      this.inFlight.delete(task);
    }
    const error = this.nativeError();
    if (error !== null) {
      await this.assertFileUnchanged();
      throw new SlideError(this.path, error, 'corrupt');
    }
  }

  private async assertFileUnchanged(): Promise<void> {
    const now = await fileIdentity(this.path);
    if (now.sizeBytes !== this.identity.sizeBytes || now.modifiedMs !== this.identity.modifiedMs) {
      throw new SlideError(this.path, 'the file changed on disk after it was opened; open it again', 'corrupt');
    }
  }

  private nativeError(): string | null {
    return this.api.getError(this.handle);
  }

  private assertOpen(): void {
    if (this.closing) throw new SlideError(this.path, 'the slide was closed', 'corrupt');
  }
}
