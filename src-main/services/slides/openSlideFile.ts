import fs from 'node:fs';
import path from 'node:path';
import type { ReaderKind, SlideReader } from './SlideReader';
import { SlideError } from './SlideError';
import { openTiffSlide } from './tiff/TiffSlideReader';
import { openOpenSlide } from './OpenSlideReader';
import { openImageSlide } from './ImageSlideReader';

export type ReaderChoice = ReaderKind | 'auto';

const openers: Record<ReaderKind, (file: string) => Promise<SlideReader>> = {
  tiff: openTiffSlide,
  openslide: openOpenSlide,
  image: openImageSlide,
};

const TIFF_EXTENSIONS = new Set(['.svs', '.tif', '.tiff', '.btf', '.tf2', '.tf8']);
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.webp', '.gif']);
const OPENSLIDE_ONLY_EXTENSIONS = new Set(['.ndpi', '.mrxs', '.scn', '.vms', '.vmu', '.bif', '.svslide']);

export const SLIDE_EXTENSIONS: ReadonlySet<string> = new Set([
  ...TIFF_EXTENSIONS,
  ...IMAGE_EXTENSIONS,
  ...OPENSLIDE_ONLY_EXTENSIONS,
]);

export function looksLikeSlide(file: string): boolean {
  return SLIDE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/**
 * The readers to try, in order, for a file: the built-in TIFF reader first because it serves
 * stored JPEG tiles without re-encoding, OpenSlide for everything else it knows, and the plain
 * image reader for single images.
 */
export function readerOrder(file: string): ReaderKind[] {
  const extension = path.extname(file).toLowerCase();
  if (TIFF_EXTENSIONS.has(extension)) return ['tiff', 'openslide', 'image'];
  if (IMAGE_EXTENSIONS.has(extension)) return ['image'];
  if (OPENSLIDE_ONLY_EXTENSIONS.has(extension)) return ['openslide'];
  return ['tiff', 'openslide', 'image'];
}

/**
 * Opens a slide with the chosen reader, or with the first reader that supports it. When every
 * reader declines, the error is the first reader's reason (the most specific one, e.g.
 * "JPEG 2000 tiles need OpenSlide"); a corrupt file stops the search at once.
 */
export async function openSlideFile(file: string, choice: ReaderChoice = 'auto'): Promise<SlideReader> {
  try {
    await fs.promises.access(file, fs.constants.R_OK);
  } catch {
    throw new SlideError(file, 'file not found or not readable', 'missing');
  }
  if (choice !== 'auto') return openers[choice](file);

  const declined: SlideError[] = [];
  for (const kind of readerOrder(file)) {
    try {
      return await openers[kind](file);
    } catch (error) {
      if (error instanceof SlideError && error.kind === 'unsupported') {
        declined.push(error);
        continue;
      }
      throw error;
    }
  }
  throw declined[0] ?? new SlideError(file, 'no reader supports this file', 'unsupported');
}
