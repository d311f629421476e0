import fs from 'node:fs';
import path from 'node:path';
import type { AnnotationBundle, InterchangeFormatId } from './AnnotationBundle';
import { writeFileAtomically } from './atomicFile';
import { parseAnnotationCsv, serializeAnnotationCsv } from './csv/annotationCsv';
import { InteropError } from './InteropError';
import { parseMidogJson } from './midog/parseMidogJson';
import { serializeMidogJson } from './midog/serializeMidogJson';
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
});

export const annotationCsvFormat = textFormat({
  id: 'csv',
  displayName: 'CSV (x, y, label, slide, annotator)',
  fileExtensions: ['.csv', '.tsv', '.txt'],
  parse: parseAnnotationCsv,
  serialize: serializeAnnotationCsv,
});

export const slideRunnerFormat: AnnotationFormat = {
  id: 'sliderunner-sqlite',
  displayName: 'SlideRunner database',
  fileExtensions: ['.sqlite', '.sqlite3', '.db'],
  parse: parseSlideRunner,
  serialize: serializeSlideRunner,
  readFile: readSlideRunnerFile,
  writeFile: writeSlideRunnerFile,
};

export const annotationFormats: readonly AnnotationFormat[] = [midogJsonFormat, slideRunnerFormat, annotationCsvFormat];

/** The format a file's extension suggests, if any. */
export function formatForFile(filePath: string): AnnotationFormat | undefined {
  const extension = path.extname(filePath).toLowerCase();
  return annotationFormats.find((format) => format.fileExtensions.includes(extension));
}
