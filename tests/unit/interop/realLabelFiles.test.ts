import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnnotationBundle } from '../../../src-main/services/interop/AnnotationBundle';
import { parseMidogJson } from '../../../src-main/services/interop/midog/parseMidogJson';
import { serializeMidogJson } from '../../../src-main/services/interop/midog/serializeMidogJson';
import { readSlideRunnerFile } from '../../../src-main/services/interop/sliderunner/readSlideRunner';
import { writeSlideRunnerFile } from '../../../src-main/services/interop/sliderunner/writeSlideRunner';
import { openSqliteFile } from '../../../src-main/services/project/openSqliteFile';
import { alterSqliteFile, contentOf } from '../../fixtures/interopSamples';
import {
  hamamatsuJsonPath,
  hamamatsuSqlitePath,
  hasSharedAnnotations,
  midogPlusPlusJsonPath,
  warnWhenSharedAnnotationsAbsent,
} from '../../fixtures/sharedAnnotations';
import { expectInteropError } from './expectInteropError';

warnWhenSharedAnnotationsAbsent('The interop tests on the real MIDOG label files');

interface RawMidog {
  images: Array<{ id: number; tumor_type?: string }>;
  annotations: Array<{ category_id: number; labels?: number[] }>;
}

/** Cell class by slide file name and rounded centre: how two formats of one data set are compared. */
function classByPlace(bundle: AnnotationBundle): Map<string, string | undefined> {
  const places = new Map<string, string | undefined>();
  for (const cell of bundle.cells) {
    if (cell.shape.kind !== 'point') throw new Error(`expected points, found a ${cell.shape.kind}`);
    const key = `${bundle.slides[cell.slideIndex]!.fileName}@${Math.round(cell.shape.x)},${Math.round(cell.shape.y)}`;
    expect(places.has(key), `two cells at ${key}`).toBe(false);
    places.set(key, cell.agreedClass);
  }
  return places;
}

describe.skipIf(!hasSharedAnnotations)('the real MIDOG label files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-real-labels-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('MIDOG++.json: 553 images, 26,286 cells, 11,937 mitotic figures, 7 tumour types, every vote', () => {
    const bytes = fs.readFileSync(midogPlusPlusJsonPath);
    const started = performance.now();
    const bundle = parseMidogJson(bytes, midogPlusPlusJsonPath);
    const parseMs = performance.now() - started;
    console.info(`MIDOG++.json (${(bytes.length / 1e6).toFixed(1)} MB, 26,286 cells) parsed in ${parseMs.toFixed(0)} ms`);

    expect(bundle.slides).toHaveLength(553);
    expect(bundle.cells).toHaveLength(26_286);
    expect(bundle.cells.filter((cell) => cell.agreedClass === 'mitotic figure')).toHaveLength(11_937);
    expect(bundle.classes.map((entry) => entry.name)).toEqual(['mitotic figure', 'not mitotic figure']);
    const tumours = new Set(bundle.slides.map((slide) => slide.tags.tumour));
    expect(tumours.size).toBe(7);
    expect(tumours).toContain('canine lymphosarcoma');
    expect(bundle.warnings).toEqual([]);

    // Votes counted from the raw JSON, independently of the parser: every label of every annotation.
    const raw = JSON.parse(bytes.toString('utf8')) as RawMidog;
    const rawVotes = raw.annotations.flatMap((annotation) => annotation.labels ?? []);
    const votes = bundle.cells.flatMap((cell) => cell.votes);
    expect(votes).toHaveLength(rawVotes.length);
    expect(votes.filter((vote) => vote.className === 'mitotic figure')).toHaveLength(rawVotes.filter((label) => label === 1).length);
    expect(votes.filter((vote) => vote.className === 'not mitotic figure')).toHaveLength(rawVotes.filter((label) => label === 2).length);
    expect(bundle.cells.map((cell) => cell.votes.length)).toEqual(raw.annotations.map((annotation) => annotation.labels?.length ?? 0));
    expect(new Set(votes.map((vote) => vote.annotator))).toEqual(new Set(['expert 1', 'expert 2', 'expert 3']));
    expect(bundle.slides.map((slide) => slide.tags.tumour)).toEqual(raw.images.map((image) => image.tumor_type));
  });

  it('MIDOG++.json is written back as the same document', () => {
    const text = fs.readFileSync(midogPlusPlusJsonPath, 'utf8');
    const bundle = parseMidogJson(text, midogPlusPlusJsonPath);
    expect(JSON.parse(serializeMidogJson(bundle, 'again.json'))).toEqual(JSON.parse(text));
  });

  it('MIDOG_HamamatsuXR.sqlite and .json hold the same 1,175 cells with the same classes', () => {
    const started = performance.now();
    const fromSqlite = readSlideRunnerFile(hamamatsuSqlitePath);
    console.info(`MIDOG_HamamatsuXR.sqlite (1,175 cells) read in ${(performance.now() - started).toFixed(0)} ms`);
    const fromJson = parseMidogJson(fs.readFileSync(hamamatsuJsonPath), hamamatsuJsonPath);

    expect(fromSqlite.cells).toHaveLength(1175);
    expect(fromJson.cells).toHaveLength(1175);
    expect(fromSqlite.classes.map((entry) => entry.name)).toEqual(fromJson.classes.map((entry) => entry.name));
    const sqlitePlaces = classByPlace(fromSqlite);
    expect(sqlitePlaces).toEqual(classByPlace(fromJson));
    expect(new Set(sqlitePlaces.values())).toEqual(new Set(['Mitose', 'Hard negative']));
  });

  it('MIDOG_HamamatsuXR.sqlite: every per-person label, the detector as a model, nothing skipped', () => {
    const bundle = readSlideRunnerFile(hamamatsuSqlitePath);
    const db = openSqliteFile(hamamatsuSqlitePath, { readonly: true });
    let labelRows: number;
    let slideRows: number;
    try {
      labelRows = (db.prepare('SELECT COUNT(*) AS n FROM Annotations_label').get() as { n: number }).n;
      slideRows = (db.prepare('SELECT COUNT(*) AS n FROM Slides').get() as { n: number }).n;
    } finally {
      db.close();
    }
    expect(labelRows).toBe(3252);
    expect(bundle.cells.reduce((sum, cell) => sum + cell.votes.length, 0)).toBe(labelRows);
    expect(bundle.slides).toHaveLength(slideRows);
    expect(bundle.annotators).toEqual([
      { name: 'CB', kind: 'person', sourceId: 1 },
      { name: 'RetinaNet', kind: 'model', sourceId: 2 },
      { name: 'RK', kind: 'person', sourceId: 3 },
      { name: 'TD', kind: 'person', sourceId: 4 },
    ]);
    expect(bundle.warnings).toEqual([]);
  });

  it('MIDOG_HamamatsuXR.sqlite round-trips through a fresh SlideRunner file', () => {
    const original = readSlideRunnerFile(hamamatsuSqlitePath);
    const copy = path.join(dir, 'rewritten.sqlite');
    writeSlideRunnerFile(original, copy);
    expect(contentOf(readSlideRunnerFile(copy))).toEqual(contentOf(original));
  });

  it('a copy of the real database with an unknown column is refused, naming it', () => {
    const copy = path.join(dir, 'extra-column.sqlite');
    fs.copyFileSync(hamamatsuSqlitePath, copy);
    fs.chmodSync(copy, 0o644);
    alterSqliteFile(copy, 'ALTER TABLE Annotations_label ADD COLUMN confidence REAL');
    expectInteropError(() => readSlideRunnerFile(copy), copy, 'Annotations_label.confidence', /not part of any SlideRunner schema/);
  });

  it('a truncated copy of MIDOG++.json is refused as truncated', () => {
    const text = fs.readFileSync(midogPlusPlusJsonPath, 'utf8');
    const truncated = text.slice(0, 1_000_000);
    expectInteropError(() => parseMidogJson(truncated, 'MIDOG++ (truncated).json'), 'MIDOG++ (truncated).json', /^line 1, column 1000001$/, /looks truncated/);
  });
});
