import fs from 'node:fs';
import path from 'node:path';
import type { ReaderKind, SlideReader } from './SlideReader';
import { SlideError } from './SlideError';
import { openTiffSlide } from './tiff/TiffSlideReader';
import { openOpenSlide } from './OpenSlideReader';
import { openImageSlide } from './ImageSlideReader';

export type ReaderChoice = ReaderKind | 'auto';
export type SlideOpeners = Record<ReaderKind, (file: string) => Promise<SlideReader>>;

const defaultOpeners: SlideOpeners = {
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

type Signature = 'tiff' | 'image' | 'unknown';

/** What the first bytes say the file is, whatever its name. */
export function signatureOf(head: Uint8Array): Signature {
  const startsWith = (...bytes: number[]) => bytes.every((byte, index) => head[index] === byte);
  const tiff =
    startsWith(0x49, 0x49, 0x2a, 0x00) ||
    startsWith(0x4d, 0x4d, 0x00, 0x2a) ||
    startsWith(0x49, 0x49, 0x2b, 0x00) ||
    startsWith(0x4d, 0x4d, 0x00, 0x2b);
  if (tiff) return 'tiff';
  const png = startsWith(0x89, 0x50, 0x4e, 0x47);
  const jpeg = startsWith(0xff, 0xd8, 0xff);
  const gif = startsWith(0x47, 0x49, 0x46, 0x38);
  const bmp = startsWith(0x42, 0x4d);
  const webp = startsWith(0x52, 0x49, 0x46, 0x46) && head[8] === 0x57 && head[9] === 0x45 && head[10] === 0x42 && head[11] === 0x50;
  return png || jpeg || gif || bmp || webp ? 'image' : 'unknown';
}

/**
 * The readers to try, in order: the built-in TIFF reader first because it serves stored JPEG
 * tiles without re-encoding, OpenSlide for the formats only it knows, the image reader for
 * single images. The content decides before the name does (a PNG saved as .tif is an image).
 */
export function readerOrder(file: string, signature: Signature): ReaderKind[] {
  const extension = path.extname(file).toLowerCase();
  if (OPENSLIDE_ONLY_EXTENSIONS.has(extension)) return ['openslide'];
  if (signature === 'tiff') return ['tiff', 'openslide', 'image'];
  if (signature === 'image') return ['image'];
  // Unknown content: the reader its name suggests gives the most specific reason.
  if (IMAGE_EXTENSIONS.has(extension)) return ['image'];
  return ['tiff', 'openslide', 'image'];
}

async function readHead(file: string): Promise<Uint8Array> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch {
    throw new SlideError(file, 'file not found or not readable', 'missing');
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new SlideError(file, 'is a folder, not a slide file', 'unsupported');
    const { size } = stat;
    if (size === 0) throw new SlideError(file, 'empty file (0 bytes)', 'corrupt');
    const head = Buffer.alloc(Math.min(16, size));
    await handle.read(head, 0, head.length, 0);
    return head;
  } finally {
    await handle.close();
  }
}

/**
 * Opens a slide with the chosen reader, or with the first reader that supports it. When every
 * reader declines, the error is the first reader's reason (the most specific one, e.g.
 * "JPEG 2000 tiles need OpenSlide"); a corrupt file stops the search at once.
 */
export async function openSlideFile(
  file: string,
  choice: ReaderChoice = 'auto',
  openers: SlideOpeners = defaultOpeners,
): Promise<SlideReader> {
  const head = await readHead(file);
  if (choice !== 'auto') return openers[choice](file);

  const signature = signatureOf(head);
  const declined: SlideError[] = [];
  for (const kind of readerOrder(file, signature)) {
    try {
      const reader = await openers[kind](file);
      if (kind === 'image' && signature === 'tiff' && declined.length > 0) await assertDecodable(reader, declined);
      return reader;
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

/**
 * The image reader opens any TIFF by its header, including tiled ones whose compression
 * (JPEG 2000, ZSTD) it cannot decode either. A TIFF the slide readers declined is only
 * accepted as an image once a pixel decodes; otherwise the slide reader's reason stands.
 * The decoded image is kept by the reader, so this costs nothing when it is shown.
 */
async function assertDecodable(reader: SlideReader, declined: SlideError[]): Promise<void> {
  try {
    await reader.readRegion(0, 0, 0, 1, 1);
  } catch {
    await reader.close();
    throw declined[0]!;
  }
}
