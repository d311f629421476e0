/** An encoded tile as sent to the viewer. */
export interface CachedTile {
  data: Buffer;
  mimeType: 'image/jpeg';
}

export interface TileCacheStats {
  hits: number;
  misses: number;
  /** Encoded bytes held now. */
  bytes: number;
  entries: number;
  maxBytes: number;
}

/**
 * Least-recently-used cache of encoded tiles for every open slide, bounded by the bytes it
 * holds (tiles range from a few hundred bytes to ~100 kB, so an entry count says little).
 * A Map iterates in insertion order, so re-inserting on use keeps the oldest entry first.
 */
export class TileCache {
  private readonly entries = new Map<string, CachedTile>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(readonly maxBytes: number) {
    if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be >= 0, got ${maxBytes}`);
  }

  get(key: string): CachedTile | undefined {
    const tile = this.entries.get(key);
    if (tile === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, tile);
    return tile;
  }

  /** A tile larger than the whole cache is not kept (it would only evict everything else). */
  set(key: string, tile: CachedTile): void {
    this.delete(key);
    const size = tile.data.byteLength;
    if (size > this.maxBytes) return;
    this.entries.set(key, tile);
    this.bytes += size;
    for (const [oldestKey] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(oldestKey);
    }
  }

  delete(key: string): boolean {
    const tile = this.entries.get(key);
    if (tile === undefined) return false;
    this.entries.delete(key);
    this.bytes -= tile.data.byteLength;
    return true;
  }

  /**
   * Drops every tile whose key starts with prefix, e.g. a slide's tiles after a relink or a
   * reader change. Include the separator ("12@") so slide 1 does not take slide 12 with it.
   */
  deleteWhere(prefix: string): number {
    let removed = 0;
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(prefix) && this.delete(key)) removed++;
    }
    return removed;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  stats(): TileCacheStats {
    return { hits: this.hits, misses: this.misses, bytes: this.bytes, entries: this.entries.size, maxBytes: this.maxBytes };
  }
}
