const markerPrefix = 0xff;
const soi = 0xd8;
const eoi = 0xd9;
const sos = 0xda;
const app0 = 0xe0;
const app14 = 0xee;

/** TIFF PhotometricInterpretation value for RGB. */
const photometricRgb = 2;

/**
 * Adobe APP14 segment with transform 0: tells libjpeg and browsers the three components
 * are R, G, B and must not be converted from YCbCr.
 */
const adobeRgbSegment = Buffer.from([
  markerPrefix, app14, 0x00, 0x0e, // marker, segment length 14
  0x41, 0x64, 0x6f, 0x62, 0x65, // "Adobe"
  0x00, 0x64, // version 100
  0x00, 0x00, 0x00, 0x00, // flags0, flags1
  0x00, // transform 0: no colour transform
]);

function startsWithSoi(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === markerPrefix && bytes[1] === soi;
}

/**
 * Joins a TIFF JPEGTables stream (SOI, tables, EOI) and an abbreviated tile stream
 * (SOI, frame, scan, EOI) into one self-contained JPEG: tables without EOI, then the tile
 * without its SOI. A tile that already carries its own tables passes through unchanged.
 */
export function mergeJpegTables(tables: Uint8Array | null, tile: Uint8Array): Buffer {
  if (!startsWithSoi(tile)) throw new Error('JPEG tile does not start with an SOI marker');
  if (!tables || tables.length <= 4) return Buffer.from(tile);
  if (!startsWithSoi(tables)) throw new Error('JPEGTables does not start with an SOI marker');
  const endsWithEoi = tables[tables.length - 2] === markerPrefix && tables[tables.length - 1] === eoi;
  const tablesBody = tables.subarray(0, endsWithEoi ? tables.length - 2 : tables.length);
  return Buffer.concat([tablesBody, tile.subarray(2)]);
}

interface Segment {
  marker: number;
  /** Byte range of the whole segment, marker included. */
  start: number;
  end: number;
}

/** Marker segments between SOI and the first SOS (the header a decoder reads first). */
function headerSegments(jpeg: Uint8Array): Segment[] {
  const segments: Segment[] = [];
  let at = 2;
  while (at + 4 <= jpeg.length) {
    if (jpeg[at] !== markerPrefix) break;
    const marker = jpeg[at + 1] ?? 0;
    // Fill bytes (FF FF ...) may pad between segments.
    if (marker === markerPrefix) {
      at += 1;
      continue;
    }
    if (marker === sos || marker === eoi) break;
    const length = ((jpeg[at + 2] ?? 0) << 8) | (jpeg[at + 3] ?? 0);
    segments.push({ marker, start: at, end: at + 2 + length });
    at += 2 + length;
  }
  return segments;
}

function segmentIs(jpeg: Uint8Array, segment: Segment, marker: number, identifier: string): boolean {
  if (segment.marker !== marker) return false;
  const idStart = segment.start + 4;
  return Buffer.from(jpeg.subarray(idStart, idStart + identifier.length)).toString('latin1') === identifier;
}

/**
 * Marks a JPEG as holding RGB (not YCbCr) components. A JFIF APP0 segment would force
 * decoders back to YCbCr, so it is dropped along with any existing Adobe segment.
 */
export function markJpegAsRgb(jpeg: Uint8Array): Buffer {
  if (!startsWithSoi(jpeg)) throw new Error('JPEG does not start with an SOI marker');
  const dropped = headerSegments(jpeg).filter(
    (segment) => segmentIs(jpeg, segment, app0, 'JFIF') || segmentIs(jpeg, segment, app14, 'Adobe'),
  );
  const parts: Uint8Array[] = [jpeg.subarray(0, 2), adobeRgbSegment];
  let at = 2;
  for (const segment of dropped) {
    parts.push(jpeg.subarray(at, segment.start));
    at = segment.end;
  }
  parts.push(jpeg.subarray(at));
  return Buffer.concat(parts);
}

/**
 * The self-contained JPEG for one stored tile: tables merged in, and, for photometric RGB,
 * the Adobe marker that stops decoders from applying a YCbCr conversion (Aperio RGB tiles).
 */
export function selfContainedJpegTile(tables: Uint8Array | null, tile: Uint8Array, photometric: number | null): Buffer {
  const merged = mergeJpegTables(tables, tile);
  return photometric === photometricRgb ? markJpegAsRgb(merged) : merged;
}
