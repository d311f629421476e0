import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src-main/services/random/seededRandom';
import { umap2, UmapWorker } from '../../../src-main/services/embeddings/umap';

const worker = new UmapWorker({ file: path.join(import.meta.dirname, 'umapWorkerEntry.mjs') });
afterAll(() => worker.close());

/** Two Gaussian clusters, 60 cells each, 32-d, whose centres are 8 units apart. */
function twoClusters(): { vectors: Float32Array[]; cluster: number[] } {
  const random = seededRandom(4);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const cluster = Array.from({ length: 120 }, (_, i) => i % 2);
  const vectors = cluster.map((c) => Float32Array.from({ length: 32 }, (_, d) => gaussian() + (d === 0 ? 8 * c : 0)));
  return { vectors, cluster };
}

/** Share of each point's 5 nearest neighbours on the map that come from its own cluster. */
function neighbourPurity(points: [number, number][], cluster: number[]): number {
  let same = 0;
  points.forEach(([x, y], i) => {
    const nearest = points
      .map(([u, v], j) => ({ j, distance: (u - x) ** 2 + (v - y) ** 2 }))
      .filter(({ j }) => j !== i)
      .sort((a, b) => a.distance - b.distance)
      .slice(0, 5);
    same += nearest.filter(({ j }) => cluster[j] === cluster[i]).length;
  });
  return same / (points.length * 5);
}

describe('UMAP of cached embeddings', () => {
  it('keeps two separate clusters apart, and lays the same cells out the same way for a seed', () => {
    const { vectors, cluster } = twoClusters();
    const points = umap2(vectors, 42);
    expect(points).toHaveLength(120);
    expect(neighbourPurity(points, cluster)).toBeGreaterThan(0.98);
    expect(umap2(vectors, 42)).toEqual(points);
    expect(umap2(vectors, 7)).not.toEqual(points);
  });

  it('names too few cells', () => {
    expect(() => umap2([Float32Array.of(1, 2), Float32Array.of(2, 1), Float32Array.of(0, 0)], 42)).toThrow('UMAP needs at least 4 embedded cells, not 3');
  });

  it('on its worker thread, gives the in-thread layout, and keeps it for the same cells', async () => {
    const { vectors } = twoClusters();
    const first = worker.project(vectors, 42);
    expect(await first).toEqual(umap2(vectors, 42));
    expect(worker.project(vectors.map((vector) => vector.slice()), 42)).toBe(first);
    await expect(worker.project(vectors.slice(0, 2), 42)).rejects.toThrow('UMAP needs at least 4 embedded cells, not 2');
  });
});
