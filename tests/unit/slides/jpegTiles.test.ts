import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { markJpegAsRgb, mergeJpegTables, selfContainedJpegTile } from '../../../src-main/services/slides/tiff/jpegTiles';

const soi = [0xff, 0xd8];
const eoi = [0xff, 0xd9];
const dqt = [0xff, 0xdb, 0x00, 0x04, 0xaa, 0xbb];
const sof = [0xff, 0xc0, 0x00, 0x05, 0x08, 0x01, 0x02];
const sos = [0xff, 0xda, 0x00, 0x03, 0x01, 0x12, 0x34];
const jfif = [0xff, 0xe0, 0x00, 0x07, 0x4a, 0x46, 0x49, 0x46, 0x00];
const adobeTransform0 = [0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00];

const bytes = (...parts: number[][]): Buffer => Buffer.from(parts.flat());

/** Splits a full JPEG into the TIFF pair: a tables-only stream and an abbreviated image stream. */
function splitLikeTiff(jpeg: Buffer): { tables: Buffer; tile: Buffer } {
  const tableParts: Buffer[] = [];
  const imageParts: Buffer[] = [];
  let at = 2;
  while (at < jpeg.length) {
    const marker = jpeg[at + 1] ?? 0;
    if (marker === 0xda) {
      imageParts.push(jpeg.subarray(at));
      break;
    }
    const end = at + 2 + jpeg.readUInt16BE(at + 2);
    const segment = jpeg.subarray(at, end);
    if (marker === 0xdb || marker === 0xc4) tableParts.push(segment);
    else if (marker !== 0xe0) imageParts.push(segment);
    at = end;
  }
  return {
    tables: Buffer.concat([Buffer.from(soi), ...tableParts, Buffer.from(eoi)]),
    tile: Buffer.concat([Buffer.from(soi), ...imageParts]),
  };
}

describe('mergeJpegTables', () => {
  it('puts the tables between SOI and the tile body, dropping the extra EOI and SOI', () => {
    const merged = mergeJpegTables(bytes(soi, dqt, eoi), bytes(soi, sof, sos, eoi));
    expect([...merged]).toEqual(bytes(soi, dqt, sof, sos, eoi).toJSON().data);
  });

  it('accepts a tables stream without a trailing EOI', () => {
    const merged = mergeJpegTables(bytes(soi, dqt), bytes(soi, sof, sos, eoi));
    expect([...merged]).toEqual(bytes(soi, dqt, sof, sos, eoi).toJSON().data);
  });

  it('returns a tile unchanged when there are no tables (a self-contained tile)', () => {
    const tile = bytes(soi, dqt, sof, sos, eoi);
    expect(mergeJpegTables(null, tile).equals(tile)).toBe(true);
    expect(mergeJpegTables(bytes(soi, eoi), tile).equals(tile)).toBe(true);
  });

  it('rejects a tile or tables stream that is not JPEG', () => {
    expect(() => mergeJpegTables(null, bytes([0x00, 0x01, 0x02]))).toThrow(/SOI/);
    expect(() => mergeJpegTables(bytes([0x12, 0x34], dqt, eoi), bytes(soi, sof, sos, eoi))).toThrow(/JPEGTables/);
  });

  it('rebuilds a JPEG that decodes to the same pixels as the original', async () => {
    const raw = Buffer.alloc(32 * 16 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7) % 251;
    const original = await sharp(raw, { raw: { width: 32, height: 16, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    const { tables, tile } = splitLikeTiff(original);
    await expect(sharp(tile).raw().toBuffer()).rejects.toThrow();
    const merged = mergeJpegTables(tables, tile);
    const [expected, actual] = await Promise.all([sharp(original).raw().toBuffer(), sharp(merged).raw().toBuffer()]);
    expect(actual.equals(expected)).toBe(true);
  });
});

describe('markJpegAsRgb', () => {
  it('inserts an Adobe APP14 segment with transform 0 right after SOI', () => {
    const marked = markJpegAsRgb(bytes(soi, dqt, sof, sos, eoi));
    expect([...marked]).toEqual(bytes(soi, adobeTransform0, dqt, sof, sos, eoi).toJSON().data);
  });

  it('drops a JFIF segment (which would force YCbCr) and is idempotent', () => {
    const once = markJpegAsRgb(bytes(soi, jfif, dqt, sof, sos, eoi));
    expect([...once]).toEqual(bytes(soi, adobeTransform0, dqt, sof, sos, eoi).toJSON().data);
    expect(markJpegAsRgb(once).equals(once)).toBe(true);
  });

  it('makes decoders skip the YCbCr to RGB conversion', async () => {
    // A red JPEG holds Y=76 Cb=85 Cr=255; read as RGB those become the colour.
    const red = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .toBuffer();
    const asYcbcr = await sharp(red).raw().toBuffer();
    const asRgb = await sharp(markJpegAsRgb(red)).raw().toBuffer();
    expect(asYcbcr[0]).toBeGreaterThan(240);
    expect(Math.abs((asRgb[0] ?? 0) - 76)).toBeLessThanOrEqual(2);
    expect(Math.abs((asRgb[1] ?? 0) - 85)).toBeLessThanOrEqual(2);
    expect(asRgb[2]).toBeGreaterThan(250);
  });
});

describe('selfContainedJpegTile', () => {
  it('adds the Adobe marker only for photometric RGB', () => {
    const tables = bytes(soi, dqt, eoi);
    const tile = bytes(soi, sof, sos, eoi);
    expect([...selfContainedJpegTile(tables, tile, 6)]).toEqual(bytes(soi, dqt, sof, sos, eoi).toJSON().data);
    expect([...selfContainedJpegTile(tables, tile, 2)]).toEqual(
      bytes(soi, adobeTransform0, dqt, sof, sos, eoi).toJSON().data,
    );
    expect([...selfContainedJpegTile(tables, tile, null)]).toEqual(bytes(soi, dqt, sof, sos, eoi).toJSON().data);
  });
});
