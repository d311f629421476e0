import type { Database } from 'better-sqlite3';
import type { SlideTag } from '../../contract/schemas';
import type { ReaderChoice } from './openSlideFile';
import type { ReaderKind, SlideLevel } from './SlideReader';

/** A slide as stored in the project database. */
export interface SlideRecord {
  id: number;
  path: string;
  fileName: string;
  fileSizeBytes: number;
  contentHash: string;
  width: number;
  height: number;
  levels: SlideLevel[];
  mppX: number | null;
  mppY: number | null;
  objectivePower: number | null;
  vendor: string;
  reader: ReaderKind;
  readerChoice: ReaderChoice;
  associatedImages: string[];
  addedAt: string;
  tileVersion: number;
  tags: SlideTag[];
}

export type NewSlide = Omit<SlideRecord, 'id' | 'addedAt' | 'tileVersion' | 'tags' | 'readerChoice'>;

interface SlideRow {
  id: number;
  path: string;
  file_name: string;
  file_size_bytes: number;
  content_hash: string;
  width: number;
  height: number;
  levels_json: string;
  mpp_x: number | null;
  mpp_y: number | null;
  objective_power: number | null;
  vendor: string;
  reader: string;
  reader_choice: string;
  associated_images_json: string;
  added_at: string;
  tile_version: number;
}

/** The content hash of a slide whose file is not known yet (see SlideCatalog.insertPlaceholder). */
export const PLACEHOLDER_CONTENT_HASH = '';

export function isPlaceholder(slide: Pick<SlideRecord, 'contentHash'>): boolean {
  return slide.contentHash === PLACEHOLDER_CONTENT_HASH;
}

function knownSize(size: number | undefined): number {
  return size !== undefined && Number.isSafeInteger(size) && size > 0 ? size : 0;
}

/** The slide tables of a project. Each write is one statement or one transaction. */
export class SlideCatalog {
  constructor(private readonly db: Database) {}

  list(): SlideRecord[] {
    const rows = this.db.prepare('SELECT * FROM slides WHERE deleted_at IS NULL ORDER BY id').all() as SlideRow[];
    const tagRows = this.db
      .prepare('SELECT slide_id, key, value FROM slide_tags ORDER BY key')
      .all() as { slide_id: number; key: string; value: string }[];
    const tagsBySlide = new Map<number, SlideTag[]>();
    for (const tag of tagRows) {
      const tags = tagsBySlide.get(tag.slide_id) ?? [];
      tags.push({ key: tag.key, value: tag.value });
      tagsBySlide.set(tag.slide_id, tags);
    }
    return rows.map((row) => toRecord(row, tagsBySlide.get(row.id) ?? []));
  }

  get(slideId: number): SlideRecord | null {
    const row = this.db.prepare('SELECT * FROM slides WHERE id = ? AND deleted_at IS NULL').get(slideId) as
      | SlideRow
      | undefined;
    if (!row) return null;
    const tags = this.db
      .prepare('SELECT key, value FROM slide_tags WHERE slide_id = ? ORDER BY key')
      .all(slideId) as SlideTag[];
    return toRecord(row, tags);
  }

  findByPath(slidePath: string): SlideRecord | null {
    const row = this.db.prepare('SELECT id FROM slides WHERE path = ? AND deleted_at IS NULL').get(slidePath) as
      | { id: number }
      | undefined;
    return row ? this.get(row.id) : null;
  }

  insert(slide: NewSlide): number {
    const result = this.db
      .prepare(
        `INSERT INTO slides (path, file_name, file_size_bytes, content_hash, width, height, levels_json,
           mpp_x, mpp_y, objective_power, vendor, reader, associated_images_json, added_at)
         VALUES (@path, @fileName, @fileSizeBytes, @contentHash, @width, @height, @levelsJson,
           @mppX, @mppY, @objectivePower, @vendor, @reader, @associatedImagesJson, @addedAt)`,
      )
      .run({
        ...slide,
        levels: undefined,
        associatedImages: undefined,
        levelsJson: JSON.stringify(slide.levels),
        associatedImagesJson: JSON.stringify(slide.associatedImages),
        addedAt: new Date().toISOString(),
      });
    return Number(result.lastInsertRowid);
  }

  /**
   * A slide known only from an annotation file (its image is not in the project yet): path '' and
   * content hash '' ("unknown") until SlideLibrary.relink completes it with the real file.
   * Width and height are what the annotation file states, or 0 when it states nothing.
   */
  insertPlaceholder(placeholder: { fileName: string; width?: number; height?: number }): number {
    return this.insert({
      path: '',
      fileName: placeholder.fileName,
      fileSizeBytes: 0,
      contentHash: PLACEHOLDER_CONTENT_HASH,
      width: knownSize(placeholder.width),
      height: knownSize(placeholder.height),
      levels: [],
      mppX: null,
      mppY: null,
      objectivePower: null,
      vendor: 'unknown',
      reader: 'image',
      associatedImages: [],
    });
  }

  /** Gives a placeholder slide its file and real metadata; tiles get a new version. False when the slide is not a placeholder. */
  completePlaceholder(slideId: number, slide: NewSlide): boolean {
    const result = this.db
      .prepare(
        `UPDATE slides SET path = @path, file_name = @fileName, file_size_bytes = @fileSizeBytes, content_hash = @contentHash,
           width = @width, height = @height, levels_json = @levelsJson, mpp_x = @mppX, mpp_y = @mppY,
           objective_power = @objectivePower, vendor = @vendor, reader = @reader,
           associated_images_json = @associatedImagesJson, tile_version = tile_version + 1
         WHERE id = @id AND content_hash = '' AND deleted_at IS NULL`,
      )
      .run({
        id: slideId,
        path: slide.path,
        fileName: slide.fileName,
        fileSizeBytes: slide.fileSizeBytes,
        contentHash: slide.contentHash,
        width: slide.width,
        height: slide.height,
        levelsJson: JSON.stringify(slide.levels),
        mppX: slide.mppX,
        mppY: slide.mppY,
        objectivePower: slide.objectivePower,
        vendor: slide.vendor,
        reader: slide.reader,
        associatedImagesJson: JSON.stringify(slide.associatedImages),
      });
    return result.changes === 1;
  }

  setTags(slideId: number, tags: SlideTag[]): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM slide_tags WHERE slide_id = ?').run(slideId);
      const insert = this.db.prepare('INSERT INTO slide_tags (slide_id, key, value) VALUES (?, ?, ?)');
      for (const tag of tags) insert.run(slideId, tag.key, tag.value);
    })();
  }

  /** A new location for the same content; tiles get a new version so caches refresh. */
  relink(slideId: number, slidePath: string, fileName: string): void {
    this.db
      .prepare('UPDATE slides SET path = ?, file_name = ?, tile_version = tile_version + 1 WHERE id = ?')
      .run(slidePath, fileName, slideId);
  }

  setReader(slideId: number, choice: ReaderChoice, opened: Omit<NewSlide, 'path' | 'fileName' | 'fileSizeBytes' | 'contentHash'>): void {
    this.db
      .prepare(
        `UPDATE slides SET reader_choice = @choice, reader = @reader, width = @width, height = @height,
           levels_json = @levelsJson, mpp_x = @mppX, mpp_y = @mppY, objective_power = @objectivePower,
           vendor = @vendor, associated_images_json = @associatedImagesJson, tile_version = tile_version + 1
         WHERE id = @id`,
      )
      .run({
        id: slideId,
        choice,
        reader: opened.reader,
        width: opened.width,
        height: opened.height,
        levelsJson: JSON.stringify(opened.levels),
        mppX: opened.mppX,
        mppY: opened.mppY,
        objectivePower: opened.objectivePower,
        vendor: opened.vendor,
        associatedImagesJson: JSON.stringify(opened.associatedImages),
      });
  }

  softDelete(slideId: number): void {
    this.db.prepare('UPDATE slides SET deleted_at = ? WHERE id = ?').run(new Date().toISOString(), slideId);
  }
}

function toRecord(row: SlideRow, tags: SlideTag[]): SlideRecord {
  return {
    id: row.id,
    path: row.path,
    fileName: row.file_name,
    fileSizeBytes: row.file_size_bytes,
    contentHash: row.content_hash,
    width: row.width,
    height: row.height,
    levels: JSON.parse(row.levels_json) as SlideLevel[],
    mppX: row.mpp_x,
    mppY: row.mpp_y,
    objectivePower: row.objective_power,
    vendor: row.vendor,
    reader: row.reader as ReaderKind,
    readerChoice: row.reader_choice as ReaderChoice,
    associatedImages: JSON.parse(row.associated_images_json) as string[],
    addedAt: row.added_at,
    tileVersion: row.tile_version,
    tags,
  };
}
