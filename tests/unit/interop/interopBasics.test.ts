import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotationCsvFormat, formatForFile, midogJsonFormat, slideRunnerFormat } from '../../../src-main/services/interop/annotationFormats';
import { guessAnnotatorKind } from '../../../src-main/services/interop/annotatorKind';
import { findJsonSyntaxProblem } from '../../../src-main/services/interop/jsonSyntaxError';
import { assignSourceIds } from '../../../src-main/services/interop/sourceIds';
import { contentOf, sampleCsvBundle, sampleMidogBundle, sampleSlideRunnerBundle } from '../../fixtures/interopSamples';
import { expectInteropError } from './expectInteropError';

describe('finding where JSON goes wrong', () => {
  it.each([
    ['{"images": [1, 2,, 3]}', 17, false, 'a value'],
    ['{"a": tru', 9, true, '"true"'],
    ['{"a": 1} x', 9, false, 'the end of the file after the top-level value'],
    ['{"a": 1,}', 8, false, 'a property name in double quotes'],
    ['{"a" 1}', 5, false, '":"'],
    ['{"a": "b\\x"}', 9, false, 'a valid escape after \\'],
    ['[1, 2', 5, true, '"," or "]"'],
    ['{"a": "abc', 10, true, 'the closing quote of a string'],
    ['', 0, true, 'a value'],
  ])('%j fails at offset %i', (text, offset, endsEarly, expected) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(findJsonSyntaxProblem(text)).toEqual({ offset, endsEarly, expected });
  });

  it('finds nothing wrong in valid JSON', () => {
    const text = JSON.stringify({ a: [1, -2.5e-3, 'x\n"y"\u0001', true, false, null, {}], b: { c: [] } });
    expect(findJsonSyntaxProblem(text)).toBeNull();
  });
});

describe('ids for formats that number things', () => {
  it('keeps usable source ids and numbers the rest above the largest', () => {
    expect(assignSourceIds([{ sourceId: 5 }, {}, { sourceId: 5 }, { sourceId: 2 }, { sourceId: 0 }, { sourceId: 1.5 }])).toEqual([
      5, 6, 7, 2, 8, 9,
    ]);
    expect(assignSourceIds([{}, {}])).toEqual([1, 2]);
  });
});

describe('annotator kinds', () => {
  it('guesses detectors and models from their names, people otherwise', () => {
    expect(['RetinaNet', 'YOLOv8 detector', 'Mask R-CNN', 'UNI linear probe', 'AI'].map(guessAnnotatorKind)).toEqual(
      Array(5).fill('model'),
    );
    expect(['CB', 'Dr. Taryn Donovan', 'Vittoria Rossi', 'Lora Kim', 'Aileen'].map(guessAnnotatorKind)).toEqual(Array(5).fill('person'));
  });
});

describe('every format through its files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-formats-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    [midogJsonFormat.id, midogJsonFormat, sampleMidogBundle, 'labels.json'],
    [slideRunnerFormat.id, slideRunnerFormat, sampleSlideRunnerBundle, 'labels.sqlite'],
    [annotationCsvFormat.id, annotationCsvFormat, sampleCsvBundle, 'labels.csv'],
  ] as const)('%s writes a file atomically and reads it back whole', (_id, format, sample, name) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, 'an older export');
    format.writeFile(sample(), file);
    expect(contentOf(format.readFile(file))).toEqual(contentOf(sample()));
    expect(contentOf(format.parse(fs.readFileSync(file), file))).toEqual(contentOf(sample()));
    expect(fs.readdirSync(dir).filter((entry) => entry.endsWith('.tmp'))).toEqual([]);
  });

  it('name a file that cannot be read', () => {
    const missing = path.join(dir, 'missing.json');
    expectInteropError(() => midogJsonFormat.readFile(missing), missing, '', /cannot be read/);
  });
});

describe('choosing a format by file name', () => {
  it('knows the usual extensions', () => {
    expect(formatForFile('/data/MIDOG++.json')).toBe(midogJsonFormat);
    expect(formatForFile('C:\\labels\\MIDOG.SQLITE')).toBe(slideRunnerFormat);
    expect(formatForFile('cells.csv')).toBe(annotationCsvFormat);
    expect(formatForFile('annotations.xml')?.id).toBe('asap-xml');
    expect(formatForFile('notes.docx')).toBeUndefined();
  });
});
