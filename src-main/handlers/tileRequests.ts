import { CropRequestError, readCellCrop } from '../services/slides/cellCrop';
import { toErrorInfo } from './dispatch';
import type { Workspace } from './Workspace';

export interface TileResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

const IMMUTABLE = 'private, max-age=31536000, immutable';

// The version segment is "<project key>.<slide's tile version>" (see SlideLibrary).
const VERSION = 'v([0-9a-f]+\\.\\d+)';
const TILE = new RegExp(`^(\\d+)/${VERSION}/(\\d+)/(\\d+)_(\\d+)\\.jpg$`);
const THUMBNAIL = new RegExp(`^(\\d+)/${VERSION}/thumbnail\\.jpg$`);
const ASSOCIATED = new RegExp(`^(\\d+)/${VERSION}/associated/([a-z]+)\\.jpg$`);
// crop/<centre x>_<centre y>_<size px>_<downsample>.jpg: level-0 centre, output size, level-0 pixels per output pixel.
const CROP = new RegExp(`^(\\d+)/${VERSION}/crop/(\\d+)_(\\d+)_(\\d+)_(\\d+(?:\\.\\d+)?)\\.jpg$`);

/** The decoded path, or null when its percent-encoding is malformed (e.g. "%E0%A4%A"). */
export function decodePathname(pathname: string): string | null {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return null;
  }
}

/** URL path (below the tile root) of one viewer tile: addressed by slide id, never by path. */
export function tilePath(slideId: number, tileVersion: string, level: number, column: number, row: number): string {
  return `${slideId}/v${tileVersion}/${level}/${column}_${row}.jpg`;
}

/**
 * URL path (below the tile root) of a square JPEG crop of `size` pixels centred on a level-0
 * point, at `downsample` level-0 pixels per crop pixel (1: the scan's full resolution). The
 * renderer builds the same address (client.cropUrl).
 */
export function cropPath(slideId: number, tileVersion: string, x: number, y: number, size: number, downsample: number): string {
  return `${slideId}/v${tileVersion}/crop/${Math.max(0, Math.round(x))}_${Math.max(0, Math.round(y))}_${size}_${downsample}.jpg`;
}

/**
 * Answers a tile, thumbnail, crop or associated-image request for both transports (the Electron
 * slide:// scheme and browser mode's /tiles/). The version segment changes whenever the
 * pixels may change, so current-version answers can be cached forever.
 */
export async function answerTileRequest(workspace: Workspace, pathBelowRoot: string): Promise<TileResponse> {
  try {
    const tile = TILE.exec(pathBelowRoot);
    if (tile) {
      const version = tile[2]!;
      const [slideId, level, column, row] = [tile[1], tile[3], tile[4], tile[5]].map(Number) as [number, number, number, number];
      const answer = await workspace.slides().readTile(slideId, level, column, row);
      return image(answer.data, cacheControl(workspace, slideId, version), { 'X-Tile-Source': answer.source });
    }
    const thumbnail = THUMBNAIL.exec(pathBelowRoot);
    if (thumbnail) {
      const slideId = Number(thumbnail[1]);
      const version = thumbnail[2]!;
      return image(await workspace.slides().thumbnailJpeg(slideId), cacheControl(workspace, slideId, version));
    }
    const associated = ASSOCIATED.exec(pathBelowRoot);
    if (associated) {
      const slideId = Number(associated[1]);
      const version = associated[2]!;
      const jpeg = await workspace.slides().associatedImageJpeg(slideId, associated[3]!);
      return image(jpeg, cacheControl(workspace, slideId, version));
    }
    const crop = CROP.exec(pathBelowRoot);
    if (crop) {
      const version = crop[2]!;
      const [slideId, x, y, size, downsample] = [crop[1], crop[3], crop[4], crop[5], crop[6]].map(Number) as [number, number, number, number, number];
      return image(await readCrop(workspace, slideId, x, y, size, downsample), cacheControl(workspace, slideId, version));
    }
    return text(400, `not a tile address: ${pathBelowRoot}`);
  } catch (error) {
    if (error instanceof CropRefusal) return text(error.status, error.message);
    if (error instanceof CropRequestError) return text(400, `${pathBelowRoot}: ${error.message}`);
    const info = toErrorInfo(error);
    const status = info.code === 'no-project' ? 409 : info.code === 'not-found' ? 404 : 500;
    return text(status, info.message);
  }
}

/**
 * The crop (see cellCrop.ts), cached with the tiles under the slide's current version: a relink
 * or a reader switch changes the version and drops the slide's cached entries.
 */
async function readCrop(workspace: Workspace, slideId: number, x: number, y: number, size: number, downsample: number): Promise<Buffer> {
  const slide = workspace.slides().get(slideId);
  // An open reader would go on reading a file that has gone meanwhile.
  if (slide.status === 'missing') throw new CropRefusal(404, slide.problem ?? `${slide.path}: file not found`);
  const key = `${slideId}@${slide.tileVersion}/crop/${x}_${y}_${size}_${downsample}`;
  const cached = workspace.tileCache.get(key);
  if (cached) return cached.data;
  const jpeg = await readCellCrop(workspace.slides(), slideId, x, y, size, downsample);
  workspace.tileCache.set(key, { data: jpeg, mimeType: 'image/jpeg' });
  return jpeg;
}

class CropRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function cacheControl(workspace: Workspace, slideId: number, requestedVersion: string): string {
  return workspace.slides().currentTileVersion(slideId) === requestedVersion ? IMMUTABLE : 'no-cache';
}

function image(body: Buffer, cache: string, extra: Record<string, string> = {}): TileResponse {
  return {
    status: 200,
    headers: { 'Content-Type': 'image/jpeg', 'Cache-Control': cache, 'Content-Length': String(body.length), ...extra },
    body,
  };
}

function text(status: number, message: string): TileResponse {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, body: message };
}
