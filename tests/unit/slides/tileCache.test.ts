import { describe, expect, it } from 'vitest';
import { TileCache, type CachedTile } from '../../../src-main/services/slides/TileCache';

function tile(sizeBytes: number, fill = 0): CachedTile {
  return { data: Buffer.alloc(sizeBytes, fill), mimeType: 'image/jpeg' };
}

describe('TileCache', () => {
  it('returns what was stored and counts hits and misses', () => {
    const cache = new TileCache(1000);
    const stored = tile(10, 7);
    cache.set('1@1/5/0_0', stored);
    expect(cache.get('1@1/5/0_0')).toBe(stored);
    expect(cache.get('1@1/5/0_1')).toBeUndefined();
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, bytes: 10, entries: 1, maxBytes: 1000 });
  });

  it('evicts the least recently used tiles first, counting bytes not entries', () => {
    const cache = new TileCache(100);
    cache.set('a', tile(40));
    cache.set('b', tile(40));
    cache.get('a'); // a is now more recent than b
    cache.set('c', tile(40));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.stats().bytes).toBe(80);

    // One big tile pushes out as many old ones as needed.
    cache.set('d', tile(90));
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: 90 });
    expect(cache.get('d')).toBeDefined();
  });

  it('never holds more bytes than its bound', () => {
    const cache = new TileCache(1000);
    for (let i = 0; i < 200; i++) {
      cache.set(`k${i}`, tile(1 + ((i * 37) % 150)));
      expect(cache.stats().bytes).toBeLessThanOrEqual(1000);
    }
  });

  it('does not cache a tile larger than the whole cache, and keeps the others', () => {
    const cache = new TileCache(100);
    cache.set('small', tile(50));
    cache.set('huge', tile(101));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('small')).toBeDefined();
    expect(cache.stats().bytes).toBe(50);
  });

  it('replacing a key updates the byte count', () => {
    const cache = new TileCache(100);
    cache.set('a', tile(30));
    cache.set('a', tile(60));
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: 60 });
    cache.set('a', tile(200)); // too big: the old value must not linger either
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('deleteWhere drops one slide and leaves the others', () => {
    const cache = new TileCache(1000);
    cache.set('1@1/9/0_0', tile(10));
    cache.set('1@1/9/1_0', tile(10));
    cache.set('12@1/9/0_0', tile(10));
    cache.set('2@3/9/0_0', tile(10));
    expect(cache.deleteWhere('1@')).toBe(2);
    expect(cache.get('12@1/9/0_0')).toBeDefined();
    expect(cache.get('2@3/9/0_0')).toBeDefined();
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 20 });
  });

  it('clear empties it', () => {
    const cache = new TileCache(1000);
    cache.set('a', tile(10));
    cache.clear();
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('rejects a negative bound', () => {
    expect(() => new TileCache(-1)).toThrow(RangeError);
  });
});
