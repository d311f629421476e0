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
 * Answers a tile, thumbnail or associated-image request for both transports (the Electron
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
    return text(400, `not a tile address: ${pathBelowRoot}`);
  } catch (error) {
    const info = toErrorInfo(error);
    const status = info.code === 'no-project' ? 409 : info.code === 'not-found' ? 404 : 500;
    return text(status, info.message);
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
