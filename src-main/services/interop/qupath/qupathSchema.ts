import { z } from 'zod';

/**
 * QuPath's GeoJSON ("Export objects as GeoJSON", `exportObjectsToGeoJson`, also what
 * `PathIO.readObjects` / drag-and-drop reads back), as QuPath 0.3–0.5 writes it:
 *
 * - either a FeatureCollection or a bare JSON array of Features (QuPath's default);
 * - `Feature.id`: the object's UUID (0.4+); older files have none;
 * - `geometry`: Point / MultiPoint (points annotations), Polygon / MultiPolygon (areas; a
 *   rectangle or ellipse is written as its outline), LineString (lines); coordinates in
 *   full-resolution image pixels, y downwards;
 * - `properties.objectType`: "annotation", "detection", "cell", "tile" …;
 * - `properties.classification`: `{ name, color: [r, g, b] }` (0.4+) or `{ name, colorRGB }` (a
 *   packed signed int, 0.2–0.3); derived classes as `names: [...]` in 0.5;
 * - `properties.name`, `isLocked`, `measurements` (numbers), `metadata` (strings).
 *
 * QuPath reads those properties and ignores others, so Mitobench keeps what QuPath has no
 * place for (every annotator's vote, the exact circle behind an outline, the slide) under its
 * own key `mitobench`: on the FeatureCollection (file level) and in each Feature's properties.
 */
export const MITOBENCH_KEY = 'mitobench';

const colourSchema = z.string().regex(/^#[0-9a-fA-F]{6}$/, { error: 'must be a colour such as "#e6194b"' });

export const mitobenchFileSchema = z.object({
  version: z.literal(1),
  slide: z
    .object({
      fileName: z.string().min(1),
      widthPx: z.number().positive().optional(),
      heightPx: z.number().positive().optional(),
      tags: z.record(z.string(), z.string()).default({}),
    })
    .optional(),
  classes: z.array(z.object({ name: z.string().min(1), colour: colourSchema.optional() })).default([]),
  annotators: z.array(z.object({ name: z.string().min(1), kind: z.enum(['person', 'model']) })).default([]),
});
export type MitobenchFileExtras = z.infer<typeof mitobenchFileSchema>;

const finite = z.number().finite();

/** The exact shape when the geometry is only an outline of it (circles) or loses the corner order (rectangles). */
const exactShapeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('circle'), x: finite, y: finite, radius: finite.nonnegative() }),
  z.object({ kind: z.literal('rectangle'), x1: finite, y1: finite, x2: finite, y2: finite }),
]);

export const mitobenchFeatureSchema = z.object({
  guid: z.string().min(1).optional(),
  votes: z.array(z.object({ annotator: z.string().min(1), class: z.string().min(1).nullable() })).default([]),
  agreedClass: z.string().min(1).optional(),
  shape: exactShapeSchema.optional(),
  description: z.string().optional(),
  zLevel: z.number().int().optional(),
});
export type MitobenchFeatureExtras = z.infer<typeof mitobenchFeatureSchema>;

export const classificationSchema = z.looseObject({
  name: z.string().optional(),
  names: z.array(z.string()).optional(),
  color: z.array(z.number()).optional(),
  colorRGB: z.number().int().optional(),
});

export const propertiesSchema = z.looseObject({
  objectType: z.string().optional(),
  classification: classificationSchema.nullable().optional(),
  name: z.string().nullable().optional(),
  id: z.string().optional(),
  [MITOBENCH_KEY]: mitobenchFeatureSchema.optional(),
});
