import fs from 'node:fs';
import path from 'node:path';
import type { AnnotationBundle, InterchangeFormatId } from './AnnotationBundle';
import { parseAsapXml, readAsapXml } from './asap/parseAsapXml';
import { serializeAsapXml } from './asap/serializeAsapXml';
import { writeFileAtomically } from './atomicFile';
import { parseAnnotationCsv, serializeAnnotationCsv } from './csv/annotationCsv';
import { InteropError } from './InteropError';
import { parseMidogJson } from './midog/parseMidogJson';
import { serializeMidogJson } from './midog/serializeMidogJson';
import { parseQuPathGeoJson, readQuPathGeoJson } from './qupath/parseQuPathGeoJson';
import { serializeQuPathGeoJson } from './qupath/serializeQuPathGeoJson';
import type { SingleSlideParse, SingleSlideParseOptions } from './singleSlideFiles';
import { parseSlideRunner, readSlideRunnerFile } from './sliderunner/readSlideRunner';
import { serializeSlideRunner, writeSlideRunnerFile } from './sliderunner/writeSlideRunner';

/** One interchange format, as the importer, the exporter and the CLI use it. */
export interface AnnotationFormat {
  readonly id: InterchangeFormatId;
  readonly displayName: string;
  /** Lower case, with the dot. */
  readonly fileExtensions: readonly string[];
  /** Parses a file's bytes; `file` names it in errors. Throws InteropError, returns only whole bundles. */
  parse(content: Uint8Array, file: string): AnnotationBundle;
  /** The file's content; `file` names it in errors. Throws InteropError for what the format cannot hold. */
  serialize(bundle: AnnotationBundle, file: string): string | Uint8Array;
  readFile(filePath: string): AnnotationBundle;
  /** Writes atomically: the target is replaced whole or left as it was. */
  writeFile(bundle: AnnotationBundle, filePath: string): void;
  /**
   * Formats whose files hold one image and do not name it (QuPath GeoJSON, ASAP XML): parses
   * with the caller's choice of slide and says where the slide's name came from.
   */
  readSingleSlide?(content: Uint8Array, file: string, options: SingleSlideParseOptions): SingleSlideParse;
  /** Whether the first bytes of a file look like this format (they may be cut anywhere). */
  sniff(head: Uint8Array): boolean;
}

function readBytes(filePath: string): Buffer {
  try {
    return fs.readFileSync(filePath);
  } catch (error) {
    throw new InteropError(filePath, '', `cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
}

function textFormat(format: Omit<AnnotationFormat, 'readFile' | 'writeFile'>): AnnotationFormat {
  return {
    ...format,
    readFile: (filePath) => format.parse(readBytes(filePath), filePath),
    writeFile: (bundle, filePath) => {
      const text = format.serialize(bundle, filePath);
      try {
        writeFileAtomically(filePath, text);
      } catch (error) {
        throw new InteropError(filePath, '', `cannot be written (${error instanceof Error ? error.message : String(error)})`);
      }
    },
  };
}

export const midogJsonFormat = textFormat({
  id: 'midog-json',
  displayName: 'MIDOG / MIDOG++ JSON',
  fileExtensions: ['.json'],
  parse: parseMidogJson,
  serialize: serializeMidogJson,
  sniff: (head) => {
    const text = headText(head);
    return text.startsWith('{') && /"(images|categories|annotations)"\s*:/.test(text) && !/"type"\s*:\s*"Feature/.test(text);
  },
});

export const annotationCsvFormat = textFormat({
  id: 'csv',
  displayName: 'CSV (x, y, label, slide, annotator)',
  fileExtensions: ['.csv', '.tsv', '.txt'],
  parse: parseAnnotationCsv,
  serialize: serializeAnnotationCsv,
  sniff: (head) => /^[^\n]*\bx\b[^\n]*\by\b[^\n]*\blabel\b/i.test(headText(head)),
});

export const qupathGeoJsonFormat = textFormat({
  id: 'qupath-geojson',
  displayName: 'QuPath GeoJSON',
  fileExtensions: ['.geojson', '.json'],
  parse: parseQuPathGeoJson,
  serialize: serializeQuPathGeoJson,
  readSingleSlide: readQuPathGeoJson,
  // QuPath writes a bare array of Features by default, or a FeatureCollection.
  sniff: (head) => {
    const text = headText(head);
    return (text.startsWith('[') && (text.length < 2 || /^\[\s*(\]|\{)/.test(text))) || /^\{[^]*"type"\s*:\s*"Feature(Collection)?"/.test(text);
  },
});

export const asapXmlFormat = textFormat({
  id: 'asap-xml',
  displayName: 'ASAP XML',
  fileExtensions: ['.xml'],
  parse: parseAsapXml,
  serialize: serializeAsapXml,
  readSingleSlide: readAsapXml,
  sniff: (head) => headText(head).includes('<ASAP_Annotations'),
});

export const slideRunnerFormat: AnnotationFormat = {
  id: 'sliderunner-sqlite',
  displayName: 'SlideRunner database',
  fileExtensions: ['.sqlite', '.sqlite3', '.db'],
  parse: parseSlideRunner,
  serialize: serializeSlideRunner,
  readFile: readSlideRunnerFile,
  writeFile: writeSlideRunnerFile,
  sniff: (head) => Buffer.from(head.subarray(0, 16)).toString('latin1') === 'SQLite format 3\0',
};

/** In order of preference when only an extension is known (.json is MIDOG before QuPath). */
export const annotationFormats: readonly AnnotationFormat[] = [
  midogJsonFormat,
  slideRunnerFormat,
  annotationCsvFormat,
  qupathGeoJsonFormat,
  asapXmlFormat,
];

const SNIFF_BYTES = 64 * 1024;

/** The start of a file as text without a byte-order mark and leading space ('' when not text). */
function headText(head: Uint8Array): string {
  return new TextDecoder('utf-8').decode(head).replace(/^\uFEFF/, '').trimStart();
}

function readHead(filePath: string): Uint8Array | null {
  let handle: number | undefined;
  try {
    handle = fs.openSync(filePath, 'r');
    const buffer = Buffer.alloc(SNIFF_BYTES);
    return buffer.subarray(0, fs.readSync(handle, buffer, 0, SNIFF_BYTES, 0));
  } catch {
    return null;
  } finally {
    if (handle !== undefined) fs.closeSync(handle);
  }
}

/**
 * The format of a file: by its content where it can be read (the first 64 KiB: a .json file is
 * MIDOG or QuPath, and a file with an unexpected extension is still recognised), else by its
 * extension alone.
 */
export function formatForFile(filePath: string): AnnotationFormat | undefined {
  const extension = path.extname(filePath).toLowerCase();
  const byExtension = annotationFormats.filter((format) => format.fileExtensions.includes(extension));
  const head = readHead(filePath);
  if (head === null || head.length === 0) return byExtension[0];
  return byExtension.find((format) => format.sniff(head)) ?? annotationFormats.find((format) => format.sniff(head)) ?? byExtension[0];
}
