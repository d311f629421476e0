import type { Database } from 'better-sqlite3';
import { UserFacingError } from '../../contract/errors';
import { EmbeddingCache, labelledCells } from './EmbeddingCache';
import { pca2 } from './pca';
import { UMAP_MIN_CELLS, umap2 } from './umap';

export interface MapSlide {
  readonly name: string;
  readonly tags: readonly { key: string; value: string }[];
}

export interface MapPoint {
  readonly annotationId: number;
  readonly slideId: number;
  readonly slideName: string;
  /** The point on the map (first two principal components, or the UMAP coordinates). */
  readonly x: number;
  readonly y: number;
  /** The cell's centre on its slide, level-0 pixels (where a click on the point opens the viewer). */
  readonly cellX: number;
  readonly cellY: number;
  /** The agreed class; null for a disagreement. */
  readonly classId: number | null;
  readonly className: string | null;
  readonly tags: Readonly<Record<string, string>>;
  /** The group the point is coloured by: a class name, a tag value, or '' (no such tag / disagreement). */
  readonly group: string;
}

export interface MapGroup {
  readonly name: string;
  /** The class colour when colouring by class; null for tag values (the view picks a palette). */
  readonly colour: string | null;
  readonly count: number;
}

export type MapProjection = 'pca' | 'umap';

export interface EmbeddingMapResult {
  readonly projection: MapProjection;
  readonly points: MapPoint[];
  readonly groups: MapGroup[];
  /** PCA: share of the variance explained by the two axes; null for UMAP (its axes explain nothing). */
  readonly explained: [number, number] | null;
  readonly tagKeys: string[];
}

export interface MapOptions {
  /** 'class' or a slide tag key. */
  readonly colourBy: string;
  readonly projection: MapProjection;
  /** UMAP of the vectors; default umap2 on this thread (the app passes its worker's, UmapWorker). */
  readonly umap?: (vectors: readonly Float32Array[]) => Promise<[number, number][]>;
}

/** Seed of the UMAP layout: the same cells give the same map. */
export const UMAP_SEED = 42;

/**
 * The 2-D map (PCA, or UMAP) of a model's cached embeddings of the project's labelled cells, each
 * point grouped by its consensus class (`colourBy` 'class') or by the value of one slide tag.
 */
export async function embeddingMap(
  db: Database,
  modelKey: string,
  paramsKey: string,
  slideOf: (slideId: number) => MapSlide,
  { colourBy, projection, umap = async (vectors) => umap2(vectors, UMAP_SEED) }: MapOptions,
): Promise<EmbeddingMapResult> {
  const cells = labelledCells(db);
  const byId = new Map(cells.map((cell) => [cell.annotationId, cell]));
  const cached = new EmbeddingCache(db).vectors(modelKey, paramsKey, cells);
  const dims = cached[0]?.vector.length ?? 0;
  const usable = cached.filter((entry) => entry.vector.length === dims);
  const vectors = usable.map((entry) => entry.vector);
  if (projection === 'umap' && vectors.length > 0 && vectors.length < UMAP_MIN_CELLS) {
    throw new UserFacingError('invalid-argument', `UMAP needs at least ${UMAP_MIN_CELLS} embedded cells; ${vectors.length} are cached for this model. Use PCA, or extract more.`);
  }
  const { points, explained } = projection === 'umap' ? { points: await umap(vectors), explained: null } : pca2(vectors, dims);
  const classes = new Map(
    (db.prepare('SELECT id, name, colour FROM classes').all() as { id: number; name: string; colour: string }[]).map((row) => [row.id, row]),
  );
  const slides = new Map<number, MapSlide>();
  const slide = (id: number) => {
    let found = slides.get(id);
    if (!found) slides.set(id, (found = slideOf(id)));
    return found;
  };
  const tagKeys = new Set<string>();
  const counts = new Map<string, MapGroup>();
  const mapPoints = usable.map((entry, i): MapPoint => {
    const { name, tags } = slide(entry.slideId);
    for (const tag of tags) tagKeys.add(tag.key);
    const cell = byId.get(entry.annotationId)!;
    const cellConsensus = cell.consensus;
    const classId = cellConsensus.status === 'agreed' ? cellConsensus.classId : null;
    const tagMap = Object.fromEntries(tags.map((tag) => [tag.key, tag.value]));
    const group = colourBy === 'class' ? (classId === null ? '' : (classes.get(classId)?.name ?? String(classId))) : (tagMap[colourBy] ?? '');
    const colour = colourBy === 'class' && classId !== null ? (classes.get(classId)?.colour ?? null) : null;
    const previous = counts.get(group);
    counts.set(group, { name: group, colour, count: (previous?.count ?? 0) + 1 });
    return { annotationId: entry.annotationId, slideId: entry.slideId, slideName: name, x: points[i]![0], y: points[i]![1], cellX: cell.x, cellY: cell.y, classId, className: classId === null ? null : (classes.get(classId)?.name ?? String(classId)), tags: tagMap, group };
  });
  const groups = [...counts.values()].sort((a, b) => (a.name === '' ? 1 : b.name === '' ? -1 : a.name.localeCompare(b.name)));
  return { projection, points: mapPoints, groups, explained, tagKeys: [...tagKeys].sort() };
}
