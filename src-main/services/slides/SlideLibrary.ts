import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { AddSlidesResult, SlideSummary, SlideTag, TileSourceInfo } from '../../contract/schemas';
import { slideContentHash } from './contentHash';
import { looksLikeSlide, openSlideFile, type ReaderChoice } from './openSlideFile';
import { SlideCatalog, type NewSlide, type SlideRecord } from './SlideCatalog';
import { SlideError } from './SlideError';
import type { RgbaImage, SlideReader } from './SlideReader';
import { TileCache } from './TileCache';
import { TileGrid } from './TileGrid';

const OPEN_READER_LIMIT = 8;
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
  ) {
    super(`${file}: its content differs from the slide "${slideName}" that was added; choose the original file`);
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
  /** Why a slide could not be opened the last time we tried, by slide id. */
  private readonly problems = new Map<number, string>();

  constructor(
    catalog: SlideCatalog,
    private readonly thumbnailFolder: string,
    private readonly tileCache: TileCache,
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

  async add(paths: string[]): Promise<AddSlidesResult> {
    const result: AddSlidesResult = { added: [], alreadyPresent: [], failed: [] };
    for (const file of await expandSlidePaths(paths, result.failed)) {
      if (this.catalog.findByPath(file)) {
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
    let hash: string;
    try {
      hash = await slideContentHash(newPath);
    } catch {
      throw new SlideError(newPath, 'file not found or not readable', 'missing');
    }
    if (hash !== record.contentHash) throw new RelinkMismatchError(newPath, record.fileName);
    await this.forgetReader(slideId);
    this.catalog.relink(slideId, newPath, path.basename(newPath));
    this.problems.delete(slideId);
    return this.get(slideId);
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
      tileVersion: String(record.tileVersion),
    };
  }

  async readTile(slideId: number, level: number, column: number, row: number) {
    return (await this.grid(slideId)).readTile(level, column, row);
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
    const missing = !fs.existsSync(record.path);
    const problem = missing ? `${record.path}: file not found (moved or renamed?)` : (this.problems.get(record.id) ?? null);
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
      reader: record.reader,
      readerChoice: record.readerChoice,
      associatedImages: record.associatedImages,
      tags: record.tags,
      addedAt: record.addedAt,
      tileVersion: String(record.tileVersion),
    };
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
    const opening = openSlideFile(record.path, record.readerChoice === 'auto' ? record.reader : record.readerChoice);
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
    const grid = new TileGrid(await this.reader(slideId), this.tileCache, `${slideId}@${record.tileVersion}`);
    this.grids.set(slideId, grid);
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

  private async writeThumbnail(slideId: number, reader: SlideReader): Promise<void> {
    const image = reader.associatedImageNames.includes('thumbnail')
      ? await reader.readAssociatedImage('thumbnail')
      : await readWholeSmallestLevel(reader);
    const jpeg = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 4 } })
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside' })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 85 })
      .toBuffer();
    await fs.promises.writeFile(this.thumbnailFile(slideId), jpeg);
  }
}

/** The smallest level, or a downscaled read of it when even that is large. */
async function readWholeSmallestLevel(reader: SlideReader): Promise<RgbaImage> {
  const level = reader.levels.length - 1;
  const { width, height } = reader.levels[level]!;
  const maxSide = 4096;
  if (width > maxSide || height > maxSide) {
    throw new SlideError(reader.path, 'no level small enough for a thumbnail', 'unsupported');
  }
  return reader.readRegion(level, 0, 0, width, height);
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
      files.push(path.resolve(entry));
    }
  };
  for (const entry of paths) await visit(entry, true);
  return [...new Set(files)];
}
