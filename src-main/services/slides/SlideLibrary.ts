import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { AddSlidesResult, SlideSummary, SlideTag, TileSourceInfo } from '../../contract/schemas';
import { slideContentHash } from './contentHash';
import { looksLikeSlide, openSlideFile, type ReaderChoice } from './openSlideFile';
import { isPlaceholder, SlideCatalog, type NewSlide, type SlideRecord } from './SlideCatalog';
import { SlideError } from './SlideError';
import type { RgbaImage, SlideReader } from './SlideReader';
import { TileCache } from './TileCache';
import { TileGrid } from './TileGrid';

const OPEN_READER_LIMIT = 8;
const FILE_CHECK_INTERVAL_MS = 1000;
const THUMBNAIL_SIZE = 256;

export class SlideNotFoundError extends Error {
  constructor(readonly slideId: number) {
    super(`slide ${slideId} is not in this project`);
  }
}

export class RelinkMismatchError extends Error {
  constructor(
    readonly file: string,
    slideName: string,
    /** Why, when the default (different content) is not the reason. */
    reason?: string,
  ) {
    super(`${file}: ${reason ?? `its content differs from the slide "${slideName}" that was added; choose the original file`}`);
  }
}

/**
 * The slides of one project: adding files and folders, their metadata and tags, the
 * "missing" state and relinking, and the tile pyramids served to the viewer. Readers are kept
 * open for the most recently viewed slides only.
 */
export class SlideLibrary {
  private readonly catalog: SlideCatalog;
  private readonly openReaders = new Map<number, Promise<SlideReader>>();
  private readonly grids = new Map<number, TileGrid>();
  private readonly lastFileCheckMs = new Map<number, number>();
  /** Why a slide could not be opened the last time we tried, by slide id. */
  private readonly problems = new Map<number, string>();

  /**
   * @param projectKey a short id unique to the project: tile addresses carry it, so a browser
   *   that cached project A's slide 1 forever never shows it for project B's slide 1.
   */
  constructor(
    catalog: SlideCatalog,
    private readonly thumbnailFolder: string,
    private readonly tileCache: TileCache,
    private readonly projectKey: string,
  ) {
    this.catalog = catalog;
    fs.mkdirSync(thumbnailFolder, { recursive: true });
  }

  list(): SlideSummary[] {
    return this.catalog.list().map((record) => this.summarize(record));
  }

  get(slideId: number): SlideSummary {
    return this.summarize(this.record(slideId));
  }

  /**
   * Adds files and folders (searched recursively). Reports progress per file; when `signal`
   * aborts, stops before the next file and returns what was done.
   */
  async add(
    paths: string[],
    progress: (done: number, total: number, file: string) => void = () => undefined,
    signal?: AbortSignal,
  ): Promise<AddSlidesResult> {
    const result: AddSlidesResult = { added: [], alreadyPresent: [], failed: [], cancelled: false };
    const files = await expandSlidePaths(paths, result.failed);
    for (const [index, file] of files.entries()) {
      if (signal?.aborted) {
        result.cancelled = true;
        break;
      }
      progress(index, files.length, file);
      const existing = this.catalog.findByPath(file);
      if (existing) {
        result.alreadyPresent.push(file);
        continue;
      }
      try {
        const reader = await openSlideFile(file);
        try {
          const stat = await fs.promises.stat(file);
          const slideId = this.catalog.insert({
            ...describeOpenedSlide(reader),
            path: file,
            fileName: path.basename(file),
            fileSizeBytes: stat.size,
            contentHash: await slideContentHash(file),
          });
          await this.writeThumbnail(slideId, reader).catch(() => undefined);
          result.added.push(this.get(slideId));
        } finally {
          await reader.close();
        }
      } catch (error) {
        result.failed.push({ path: file, message: describeError(file, error) });
      }
    }
    if (!result.cancelled) progress(files.length, files.length, '');
    return result;
  }

  setTags(slideId: number, tags: SlideTag[]): SlideSummary {
    this.record(slideId);
    const byKey = new Map<string, string>();
    for (const tag of tags) byKey.set(tag.key.trim(), tag.value.trim());
    this.catalog.setTags(slideId, [...byKey].map(([key, value]) => ({ key, value })));
    return this.get(slideId);
  }

  async relink(slideId: number, newPath: string): Promise<SlideSummary> {
    const record = this.record(slideId);
    if (isPlaceholder(record)) return this.linkPlaceholder(record, newPath);
    let hash: string;
    try {
      hash = await slideContentHash(newPath);
    } catch {
      throw new SlideError(newPath, 'file not found or not readable', 'missing');
    }
    if (hash !== record.contentHash) throw new RelinkMismatchError(newPath, record.fileName);
    const resolved = await fs.promises.realpath(newPath);
    const holder = this.catalog.findByPath(resolved);
    if (holder && holder.id !== slideId) {
      throw new RelinkMismatchError(newPath, record.fileName, `this file is already the project's slide "${holder.fileName}"`);
    }
    newPath = resolved;
    await this.forgetReader(slideId);
    this.catalog.relink(slideId, newPath, path.basename(newPath));
    this.problems.delete(slideId);
    return this.get(slideId);
  }

  /**
   * A slide imported from an annotation file gets its image: accepted when the file's level-0
   * size equals the size the annotation file stated (whatever its name) or, when no size was
   * stated, when its name matches case-insensitively. A same-named file of another size is
   * refused: the cells' level-0 coordinates would not fit it.
   */
  private async linkPlaceholder(record: SlideRecord, newPath: string): Promise<SlideSummary> {
    let resolved: string;
    let stat: fs.Stats;
    try {
      resolved = await fs.promises.realpath(newPath);
      stat = await fs.promises.stat(resolved);
    } catch {
      throw new SlideError(newPath, 'file not found or not readable', 'missing');
    }
    const holder = this.catalog.findByPath(resolved);
    if (holder && holder.id !== record.id) {
      throw new RelinkMismatchError(newPath, record.fileName, `this file is already the project's slide "${holder.fileName}"`);
    }
    const fileName = path.basename(resolved);
    const reader = await openSlideFile(resolved);
    let opened: ReturnType<typeof describeOpenedSlide>;
    try {
      opened = describeOpenedSlide(reader);
    } finally {
      await reader.close();
    }
    const sizeKnown = record.width > 0 && record.height > 0;
    const sameName = fileName.toLowerCase() === record.fileName.toLowerCase();
    if (sizeKnown && (opened.width !== record.width || opened.height !== record.height)) {
      const stated = `the annotation file gives "${record.fileName}" as ${record.width} × ${record.height} pixels`;
      throw new RelinkMismatchError(
        newPath,
        record.fileName,
        `its image is ${opened.width} × ${opened.height} pixels, but ${stated}; choose the image the annotations were made on`,
      );
    }
    if (!sizeKnown && !sameName) {
      throw new RelinkMismatchError(
        newPath,
        record.fileName,
        `its name differs from "${record.fileName}" and the annotation file gave no image size to compare; choose the file named "${record.fileName}"`,
      );
    }
    const contentHash = await slideContentHash(resolved);
    await this.forgetReader(record.id);
    const completed = this.catalog.completePlaceholder(record.id, {
      ...opened,
      path: resolved,
      fileName,
      fileSizeBytes: stat.size,
      contentHash,
    });
    if (!completed) throw new SlideNotFoundError(record.id);
    this.problems.delete(record.id);
    return this.get(record.id);
  }

  async setReader(slideId: number, choice: ReaderChoice): Promise<SlideSummary> {
    const record = this.record(slideId);
    const reader = await openSlideFile(record.path, choice);
    try {
      this.catalog.setReader(slideId, choice, describeOpenedSlide(reader));
    } finally {
      await reader.close();
    }
    await this.forgetReader(slideId);
    this.problems.delete(slideId);
    return this.get(slideId);
  }

  async remove(slideId: number): Promise<void> {
    this.record(slideId);
    this.catalog.softDelete(slideId);
    await this.forgetReader(slideId);
  }

  async tileSource(slideId: number): Promise<TileSourceInfo> {
    const record = this.record(slideId);
    const grid = await this.grid(slideId);
    const pyramid = grid.describe();
    return {
      slideId,
      width: pyramid.width,
      height: pyramid.height,
      tileSize: pyramid.tileSize,
      minLevel: pyramid.minLevel,
      maxLevel: pyramid.maxLevel,
      mppX: record.mppX,
      objectivePower: record.objectivePower,
      reader: record.reader,
      tileVersion: this.tileVersionOf(record),
    };
  }

  /** The version segment of this slide's tile addresses (cheap: no file access). */
  currentTileVersion(slideId: number): string {
    return this.tileVersionOf(this.record(slideId));
  }

  async readTile(slideId: number, level: number, column: number, row: number) {
    await this.refuseChangedFile(slideId);
    return (await this.grid(slideId)).readTile(level, column, row);
  }

  /**
   * An open reader would go on serving a file that was replaced meanwhile; look (at most once a
   * second per slide) and drop the reader and its cached tiles when the file is no longer the
   * one that was added.
   */
  private async refuseChangedFile(slideId: number): Promise<void> {
    const nowMs = Date.now();
    if (nowMs - (this.lastFileCheckMs.get(slideId) ?? 0) < FILE_CHECK_INTERVAL_MS) return;
    this.lastFileCheckMs.set(slideId, nowMs);
    const record = this.record(slideId);
    const problem = this.fileProblem(record);
    if (!problem) return;
    await this.forgetReader(slideId);
    throw problem.error;
  }

  /** Region of a level as RGBA, for patch extraction (level coordinates, see SlideReader). */
  async readRegion(slideId: number, level: number, levelX: number, levelY: number, width: number, height: number): Promise<RgbaImage> {
    return (await this.reader(slideId)).readRegion(level, levelX, levelY, width, height);
  }

  async thumbnailJpeg(slideId: number): Promise<Buffer> {
    this.record(slideId);
    const file = this.thumbnailFile(slideId);
    try {
      return await fs.promises.readFile(file);
    } catch {
      await this.writeThumbnail(slideId, await this.reader(slideId));
      return fs.promises.readFile(file);
    }
  }

  async associatedImageJpeg(slideId: number, name: string): Promise<Buffer> {
    const image = await (await this.reader(slideId)).readAssociatedImage(name);
    return encodeJpeg(image);
  }

  async close(): Promise<void> {
    for (const slideId of [...this.openReaders.keys()]) await this.forgetReader(slideId);
  }

  private record(slideId: number): SlideRecord {
    const record = this.catalog.get(slideId);
    if (!record) throw new SlideNotFoundError(slideId);
    return record;
  }

  private summarize(record: SlideRecord): SlideSummary {
    const fileProblem = this.fileProblem(record);
    const missing = fileProblem?.kind === 'missing';
    const problem = fileProblem ? fileProblem.error.message : (this.problems.get(record.id) ?? null);
    return {
      id: record.id,
      name: record.fileName,
      path: record.path,
      status: missing ? 'missing' : problem ? 'error' : 'ok',
      problem,
      width: record.width,
      height: record.height,
      levels: record.levels,
      mppX: record.mppX,
      mppY: record.mppY,
      objectivePower: record.objectivePower,
      vendor: record.vendor,
      fileSizeBytes: record.fileSizeBytes,
      reader: isPlaceholder(record) ? null : record.reader,
      readerChoice: record.readerChoice,
      associatedImages: record.associatedImages,
      tags: record.tags,
      addedAt: record.addedAt,
      tileVersion: this.tileVersionOf(record),
    };
  }

  private tileVersionOf(record: SlideRecord): string {
    return `${this.projectKey}.${record.tileVersion}`;
  }

  /** A file that is gone, or that is no longer the file that was added (another size). */
  private fileProblem(record: SlideRecord): { kind: 'missing' | 'changed'; error: SlideError } | null {
    if (isPlaceholder(record)) {
      const reason = 'imported from an annotation file; its image is not in the project yet — relink to the file';
      return { kind: 'missing', error: new SlideError(record.fileName, reason, 'missing') };
    }
    let sizeBytes: number;
    try {
      sizeBytes = fs.statSync(record.path).size;
    } catch {
      return { kind: 'missing', error: new SlideError(record.path, 'file not found (moved or renamed?)', 'missing') };
    }
    if (sizeBytes !== record.fileSizeBytes) {
      const reason = `the file changed since it was added (${sizeBytes} bytes, was ${record.fileSizeBytes}); relink to the original file`;
      return { kind: 'changed', error: new SlideError(record.path, reason, 'corrupt') };
    }
    return null;
  }

  private reader(slideId: number): Promise<SlideReader> {
    const open = this.openReaders.get(slideId);
    if (open) {
      // Re-insert to mark as most recently used.
      this.openReaders.delete(slideId);
      this.openReaders.set(slideId, open);
      return open;
    }
    const record = this.record(slideId);
    const fileProblem = this.fileProblem(record);
    const opening = fileProblem
      ? Promise.reject(fileProblem.error)
      : openSlideFile(record.path, record.readerChoice === 'auto' ? record.reader : record.readerChoice);
    this.openReaders.set(slideId, opening);
    opening.then(
      () => this.problems.delete(slideId),
      (error: unknown) => {
        this.problems.set(slideId, describeError(record.path, error));
        this.openReaders.delete(slideId);
      },
    );
    while (this.openReaders.size > OPEN_READER_LIMIT) {
      const oldest = this.openReaders.keys().next().value as number;
      void this.forgetReader(oldest);
    }
    return opening;
  }

  private async grid(slideId: number): Promise<TileGrid> {
    const existing = this.grids.get(slideId);
    if (existing) return existing;
    const record = this.record(slideId);
    const opening = this.reader(slideId);
    // The project key in the cache key: the tile cache is shared by every project opened in this run.
    const grid = new TileGrid(await opening, this.tileCache, `${slideId}@${this.tileVersionOf(record)}`);
    // The reader may have been closed (evicted, relinked) while it opened: do not keep a grid on it.
    if (this.openReaders.get(slideId) === opening) this.grids.set(slideId, grid);
    return grid;
  }

  private async forgetReader(slideId: number): Promise<void> {
    const open = this.openReaders.get(slideId);
    this.openReaders.delete(slideId);
    this.grids.delete(slideId);
    this.tileCache.deleteWhere(`${slideId}@`);
    if (open) await open.then((reader) => reader.close()).catch(() => undefined);
  }

  private thumbnailFile(slideId: number): string {
    return path.join(this.thumbnailFolder, `${slideId}.jpg`);
  }

  /**
   * The scanner's thumbnail when the file has one; otherwise the viewer pyramid's level at
   * which the whole slide fits one tile (the grid builds it from finer levels when the file
   * stores none, e.g. a large single-level image).
   */
  private async writeThumbnail(slideId: number, reader: SlideReader): Promise<void> {
    let jpeg: Buffer;
    if (reader.associatedImageNames.includes('thumbnail')) {
      const image = await reader.readAssociatedImage('thumbnail');
      jpeg = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } })
        .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside' })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 85 })
        .toBuffer();
    } else {
      const grid = new TileGrid(reader);
      const { width, height } = grid.describe();
      const halvings = Math.ceil(Math.log2(Math.max(width, height) / Math.min(THUMBNAIL_SIZE, grid.tileSize)));
      const level = Math.max(grid.minLevel, grid.maxLevel - Math.max(0, halvings));
      jpeg = (await grid.readTile(level, 0, 0)).data;
    }
    await fs.promises.writeFile(this.thumbnailFile(slideId), jpeg);
  }
}

function describeOpenedSlide(reader: SlideReader): Omit<NewSlide, 'path' | 'fileName' | 'fileSizeBytes' | 'contentHash'> {
  const level0 = reader.levels[0]!;
  return {
    width: level0.width,
    height: level0.height,
    levels: [...reader.levels],
    mppX: reader.properties.mppX,
    mppY: reader.properties.mppY,
    objectivePower: reader.properties.objectivePower,
    vendor: reader.properties.vendor,
    reader: reader.kind,
    associatedImages: [...reader.associatedImageNames],
  };
}

async function encodeJpeg(image: RgbaImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 90 })
    .toBuffer();
}

export function describeError(file: string, error: unknown): string {
  if (error instanceof SlideError) return error.message;
  const reason = error instanceof Error ? error.message : String(error);
  return reason.includes(file) ? reason : `${file}: ${reason}`;
}

/** Files and folders (recursively, skipping hidden entries) to the slide files they hold. */
async function expandSlidePaths(paths: string[], failed: AddSlidesResult['failed']): Promise<string[]> {
  const files: string[] = [];
  // Real paths of the folders already walked, so a symlink back to a parent is not a loop.
  const visitedFolders = new Set<string>();
  const visit = async (entry: string, explicitlyChosen: boolean): Promise<void> => {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(entry);
    } catch {
      failed.push({ path: entry, message: `${entry}: file not found` });
      return;
    }
    if (stat.isDirectory()) {
      const realFolder = await fs.promises.realpath(entry).catch(() => path.resolve(entry));
      if (visitedFolders.has(realFolder)) return;
      visitedFolders.add(realFolder);
      let children: string[];
      try {
        children = await fs.promises.readdir(entry);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `cannot be read (${code ?? String(error)})`;
        failed.push({ path: entry, message: `${entry}: folder ${reason}` });
        return;
      }
      for (const child of children.sort()) {
        if (!child.startsWith('.')) await visit(path.join(entry, child), false);
      }
    } else if (explicitlyChosen || looksLikeSlide(entry)) {
      // The real path: the same file reached through a link is one slide, not two.
      files.push(await fs.promises.realpath(entry).catch(() => path.resolve(entry)));
    }
  };
  for (const entry of paths) await visit(entry, true);
  return [...new Set(files)];
}
