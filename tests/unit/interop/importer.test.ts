import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnnotationStore } from '../../../src-main/services/annotations/AnnotationStore';
import { UnknownReferenceError } from '../../../src-main/services/annotations/errors';
import type { AnnotationChangeEvent } from '../../../src-main/services/annotations/types';
import type { AnnotationBundle } from '../../../src-main/services/interop/AnnotationBundle';
import { AnnotationImporter, type ImportCounts, type ImportPreview, type ImportReport } from '../../../src-main/services/interop/AnnotationImporter';
import { InteropError } from '../../../src-main/services/interop/InteropError';
import { parseMidogJson } from '../../../src-main/services/interop/midog/parseMidogJson';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { RelinkMismatchError, SlideLibrary } from '../../../src-main/services/slides/SlideLibrary';
import { TileCache } from '../../../src-main/services/slides/TileCache';
import { sampleMidogBundle, sampleNamedVotersBundle, sampleSlideRunnerBundle } from '../../fixtures/interopSamples';
import { hasSharedAnnotations, midogPlusPlusJsonPath } from '../../fixtures/sharedAnnotations';
import { makeTempDir, removeTempDir, writeSyntheticPyramid, type SyntheticSlide } from '../../fixtures/syntheticSlides';

if (!fs.existsSync(midogPlusPlusJsonPath)) {
  console.warn(`AnnotationImporter: the MIDOG++.json import tests are skipped: ${midogPlusPlusJsonPath} is absent`);
}

const MITOTIC_FIGURE = 1;
const IMPOSTER = 2;

/** A fresh project on disk, opened as the app opens it, with one person who imports. */
class ImportProject {
  readonly folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-import-'));
  readonly project = ProjectDatabase.create(path.join(this.folder, 'project'), 'import test');
  readonly store = new AnnotationStore(this.project.db);
  readonly catalog = new SlideCatalog(this.project.db);
  readonly importer = new AnnotationImporter(this.project.db, this.store, this.catalog);
  readonly actorId = this.store.ensureAnnotator('Importing Person').id;

  get db() {
    return this.project.db;
  }

  count(table: string, where = ''): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM ${table} ${where}`).get() as { n: number }).n;
  }

  /** Row count and sha256 of the sorted rows of every table (R*Tree shadow tables and sqlite_sequence included). */
  fingerprint(): Record<string, { rows: number; sha256: string }> {
    const tables = this.db
      .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
      .all() as { name: string }[];
    const result: Record<string, { rows: number; sha256: string }> = {};
    for (const { name } of tables) {
      const rows = (this.db.prepare(`SELECT * FROM "${name}"`).raw().all() as unknown[][]).map((row) =>
        JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
      );
      rows.sort();
      result[name] = { rows: rows.length, sha256: crypto.createHash('sha256').update(rows.join('\n')).digest('hex') };
    }
    return result;
  }

  dispose(): void {
    this.project.close();
    fs.rmSync(this.folder, { recursive: true, force: true });
  }
}

const countFields: (keyof ImportCounts)[] = [
  'cells',
  'votes',
  'votesWithoutClass',
  'repeatedVotes',
  'agreedClassVotes',
  'agreedClassNotKept',
  'alreadyPresent',
  'deletedInSource',
];

function countsOf(result: ImportPreview | ImportReport): ImportCounts {
  return Object.fromEntries(countFields.map((field) => [field, result[field]])) as unknown as ImportCounts;
}

let lab: ImportProject;
beforeEach(() => {
  lab = new ImportProject();
});
afterEach(() => lab.dispose());

describe.skipIf(!hasSharedAnnotations || !fs.existsSync(midogPlusPlusJsonPath))('importing the real MIDOG++.json', () => {
  it('lands in a fresh project in one call: 553 placeholder slides, 26,286 cells, 61,131 votes, tumour tags, classes mapped', () => {
    const started = performance.now();
    const bundle = parseMidogJson(fs.readFileSync(midogPlusPlusJsonPath), midogPlusPlusJsonPath);
    const parsedAt = performance.now();
    const report = lab.importer.import(bundle, lab.actorId, { file: midogPlusPlusJsonPath });
    const doneAt = performance.now();
    console.info(
      `MIDOG++.json parse + import: ${(doneAt - started).toFixed(0)} ms ` +
        `(parse ${(parsedAt - started).toFixed(0)} ms, import transaction ${report.durationMs.toFixed(0)} ms; target ≤ 3000 ms)`,
    );

    expect(report.createdSlides).toHaveLength(553);
    expect(report.matchedSlides).toHaveLength(0);
    expect(report.cells).toBe(26_286);
    expect(report.votes).toBe(61_131);
    expect(report.annotationIds).toHaveLength(26_286);
    expect(report.changeId).not.toBeNull();
    expect(countsOf(report)).toMatchObject({ votesWithoutClass: 0, repeatedVotes: 0, agreedClassVotes: 0, alreadyPresent: 0, deletedInSource: 0 });

    expect(lab.count('slides')).toBe(553);
    expect(lab.count('slides', `WHERE content_hash = '' AND path = ''`)).toBe(553);
    expect(lab.count('annotations')).toBe(26_286);
    expect(lab.count('labels')).toBe(61_131);
    // One change holds the whole import: one undo removes it.
    expect(lab.count('changes')).toBe(1);
    expect(lab.count('slide_tags', `WHERE key = 'tumour'`)).toBe(553);
    const tumours = lab.db.prepare(`SELECT DISTINCT value FROM slide_tags WHERE key = 'tumour'`).pluck().all();
    expect(tumours).toHaveLength(7);
    expect(tumours).toContain('canine lymphosarcoma');

    // "mitotic figure" is the project's default class; "not mitotic figure" is new (no mapping chosen).
    const classes = lab.store.listClasses();
    expect(classes.map((entry) => entry.name)).toEqual(['mitotic figure', 'non-mitotic figure (imposter)', 'not mitotic figure']);
    expect(report.createdClasses.map((entry) => entry.name)).toEqual(['not mitotic figure']);
    const mitoticVotes = lab.count('labels', `WHERE class_id = ${MITOTIC_FIGURE}`);
    const raw = JSON.parse(fs.readFileSync(midogPlusPlusJsonPath, 'utf8')) as { annotations: { labels?: number[] }[] };
    expect(mitoticVotes).toBe(raw.annotations.flatMap((annotation) => annotation.labels ?? []).filter((label) => label === 1).length);
    expect(report.createdAnnotators.map((annotator) => annotator.name)).toEqual(['expert 1', 'expert 2', 'expert 3']);

    // A slide's placeholder carries the size from the file.
    const first = lab.catalog.get(report.createdSlides[0]!.slideId)!;
    expect(first).toMatchObject({ fileName: '001.tiff', contentHash: '', levels: [] });
    expect(first.width).toBeGreaterThan(0);
  });

  it('previews exactly what it imports, and a second import of the same file adds nothing', () => {
    const bundle = parseMidogJson(fs.readFileSync(midogPlusPlusJsonPath), midogPlusPlusJsonPath);
    const options = { file: 'MIDOG++.json', classMapping: { 'not mitotic figure': IMPOSTER } };
    const before = lab.fingerprint();
    const preview = lab.importer.preview(bundle, options);
    expect(lab.fingerprint()).toEqual(before);

    expect(preview.cells).toBe(26_286);
    expect(preview.votes).toBe(61_131);
    expect(preview.slides.unmatched).toHaveLength(553);
    expect(preview.slides.unmatched.reduce((sum, slide) => sum + slide.cells, 0)).toBe(26_286);
    expect(preview.classes).toEqual([
      expect.objectContaining({ name: 'mitotic figure', agreedCells: 11_937, projectClass: { id: MITOTIC_FIGURE, name: 'mitotic figure' } }),
      expect.objectContaining({ name: 'not mitotic figure', projectClass: { id: IMPOSTER, name: 'non-mitotic figure (imposter)' } }),
    ]);
    expect(preview.classes.reduce((sum, entry) => sum + entry.votes, 0)).toBe(61_131);
    expect(preview.annotators.map(({ name, kind, annotatorId }) => ({ name, kind, annotatorId }))).toEqual([
      { name: 'expert 1', kind: 'person', annotatorId: null },
      { name: 'expert 2', kind: 'person', annotatorId: null },
      { name: 'expert 3', kind: 'person', annotatorId: null },
    ]);
    expect(preview.tags).toHaveLength(1);
    expect(preview.tags[0]!.key).toBe('tumour');
    expect(preview.tags[0]!.values).toHaveLength(7);
    expect(preview.tags[0]!.values.reduce((sum, value) => sum + value.slides, 0)).toBe(553);

    const report = lab.importer.import(bundle, lab.actorId, options);
    expect(countsOf(report)).toEqual(countsOf(preview));
    expect(report.warnings).toEqual(preview.warnings);
    expect(lab.store.listClasses()).toHaveLength(2);
    expect(lab.count('labels')).toBe(preview.votes);
    expect(lab.count('annotations')).toBe(preview.cells);

    // Again: MIDOG cells have no guid, but their derived guids are the same, so every cell is already present.
    const afterFirst = lab.fingerprint();
    const again = lab.importer.preview(bundle, options);
    expect(again).toMatchObject({ cells: 0, votes: 0, alreadyPresent: 26_286 });
    expect(again.slides.matched).toHaveLength(553);
    expect(again.slides.unmatched).toHaveLength(0);
    expect(again.tags).toEqual([]);
    const second = lab.importer.import(bundle, lab.actorId, options);
    expect(countsOf(second)).toEqual(countsOf(again));
    expect(second.changeId).toBeNull();
    expect(second.createdSlides).toEqual([]);
    expect(lab.fingerprint()).toEqual(afterFirst);
  });
});

describe('preview and import of generated bundles', () => {
  it('maps classes by name ignoring case, annotators by name, slides by base name ignoring case; the preview equals the import', () => {
    const existingSlide = lab.catalog.insertPlaceholder({ fileName: 'A.TIFF', width: 7215, height: 5412 });
    lab.catalog.setTags(existingSlide, [
      { key: 'scanner', value: 'CS2' },
      { key: 'tumour', value: 'old' },
    ]);
    const mitose = lab.store.createClass({ name: 'MITOSE', colour: '#112233' });
    const cb = lab.store.ensureAnnotator('CB', 'person');
    const bundle = sampleSlideRunnerBundle();
    bundle.slides[0]!.fileName = 'C:\\slides\\a.tiff';
    bundle.slides[0]!.tags = { tumour: 'canine cutaneous mast cell tumour' };

    const before = lab.fingerprint();
    const preview = lab.importer.preview(bundle, { file: 'sample.sqlite' });
    expect(lab.fingerprint()).toEqual(before);

    expect(preview.classes).toEqual([
      { name: 'Mitose', votes: 3, agreedCells: 2, projectClass: { id: mitose.id, name: 'MITOSE' }, colour: '#112233' },
      { name: 'Hard negative', votes: 1, agreedCells: 0, projectClass: null, colour: '#dcd7d3' },
      { name: 'ROI', votes: 1, agreedCells: 1, projectClass: null, colour: '#00ff00' },
    ]);
    expect(preview.annotators).toEqual([
      { name: 'CB', kind: 'person', kindInFile: 'person', annotatorId: cb.id, votes: 2, marksWithoutClass: 0 },
      { name: 'RetinaNet', kind: 'model', kindInFile: 'model', annotatorId: null, votes: 1, marksWithoutClass: 0 },
      { name: 'RK', kind: 'person', kindInFile: 'person', annotatorId: null, votes: 2, marksWithoutClass: 0 },
    ]);
    expect(preview.slides).toEqual({
      matched: [{ fileName: 'C:\\slides\\a.tiff', slideId: existingSlide, projectName: 'A.TIFF', cells: 1 }],
      unmatched: [{ fileName: 'b.svs', width: 0, height: 0, cells: 3 }],
    });
    expect(preview.tags).toEqual([{ key: 'tumour', values: [{ value: 'canine cutaneous mast cell tumour', slides: 1 }], overwrites: 1 }]);
    // Cell 1: RetinaNet twice (one repeat), CB and RK; the deleted cell is skipped; the polygon has no vote.
    expect(countsOf(preview)).toEqual({
      cells: 4,
      votes: 5,
      votesWithoutClass: 0,
      repeatedVotes: 1,
      agreedClassVotes: 0,
      agreedClassNotKept: 0,
      alreadyPresent: 0,
      deletedInSource: 1,
    });
    expect(preview.warnings).toEqual([
      '1 cell(s) are marked deleted in the file and will be skipped',
      "1 repeated vote(s) of an annotator on the same cell: each annotator's last class is kept",
      '1 cell description(s) are not kept',
      '1 cell(s) lie on another frame or focal plane (z level); the z level is not kept',
    ]);

    const report = lab.importer.import(bundle, lab.actorId, { file: 'sample.sqlite' });
    expect(countsOf(report)).toEqual(countsOf(preview));
    expect(report.warnings).toEqual(preview.warnings);
    expect(report.createdClasses.map(({ name, colour, hotkey }) => ({ name, colour, hotkey }))).toEqual([
      { name: 'Hard negative', colour: '#dcd7d3', hotkey: '3' },
      { name: 'ROI', colour: '#00ff00', hotkey: '4' },
    ]);
    expect(report.createdAnnotators.map(({ name, kind }) => ({ name, kind }))).toEqual([
      { name: 'RetinaNet', kind: 'model' },
      { name: 'RK', kind: 'person' },
    ]);
    expect(report.matchedSlides).toEqual([{ fileName: 'A.TIFF', slideId: existingSlide }]);
    expect(report.createdSlides).toEqual([{ slideId: expect.any(Number), fileName: 'b.svs' }]);
    expect(report.slidesTagged).toBe(1);
    expect(lab.count('annotations')).toBe(preview.cells);
    expect(lab.count('labels')).toBe(preview.votes);

    // Tags merged: the file's key overwrites, the slide's other tag stays.
    expect(lab.catalog.get(existingSlide)!.tags).toEqual([
      { key: 'scanner', value: 'CS2' },
      { key: 'tumour', value: 'canine cutaneous mast cell tumour' },
    ]);
    // Guids kept; the repeated RetinaNet vote is one vote; the creator is the first voter.
    const first = lab.store.get(report.annotationIds[0]!, { viewerId: lab.actorId })!;
    const retinaNet = report.createdAnnotators[0]!.id;
    const rk = report.createdAnnotators[1]!.id;
    const hardNegative = report.createdClasses[0]!.id;
    expect(first.guid).toBe('2acb63fd-1580-4a76-b7eb-fce6eb457637');
    expect(first.createdBy).toBe(retinaNet);
    expect(first.votes.map(({ annotatorId, classId }) => ({ annotatorId, classId }))).toEqual(
      [
        { annotatorId: cb.id, classId: mitose.id },
        { annotatorId: retinaNet, classId: hardNegative },
        { annotatorId: rk, classId: mitose.id },
      ].sort((a, b) => a.annotatorId - b.annotatorId),
    );
    // The model's vote does not count: the people agree.
    expect(first.consensus).toEqual({ status: 'agreed', classId: mitose.id });
    const rectangle = lab.store.get(report.annotationIds[2]!, { viewerId: lab.actorId })!;
    expect(rectangle.geometry).toEqual({ shape: 'rectangle', x: 0, y: 0, width: 2000, height: 1500 });
  });

  it('keeps a cell marked without class, and turns a class stated without votes into the importer’s vote', () => {
    const bundle = sampleNamedVotersBundle();
    const preview = lab.importer.preview(bundle);
    expect(countsOf(preview)).toMatchObject({ cells: 2, votes: 3, votesWithoutClass: 1, agreedClassVotes: 1, agreedClassNotKept: 1 });
    expect(preview.annotators.find((annotator) => annotator.name === 'RetinaNet')).toMatchObject({ votes: 0, marksWithoutClass: 1 });

    const report = lab.importer.import(bundle, lab.actorId);
    expect(countsOf(report)).toEqual(countsOf(preview));
    const retinaNet = lab.store.listAnnotators().find((annotator) => annotator.name === 'RetinaNet')!;
    expect(retinaNet.kind).toBe('model');
    const imposter = report.createdClasses.find((entry) => entry.name === 'imposter')!;
    const marked = lab.store.get(report.annotationIds[1]!, { viewerId: lab.actorId })!;
    expect(marked.createdBy).toBe(retinaNet.id);
    expect(marked.votes.map(({ annotatorId, classId }) => ({ annotatorId, classId }))).toEqual([{ annotatorId: lab.actorId, classId: imposter.id }]);
    // The detector sees its candidate in blind mode: it created the cell.
    expect(lab.store.get(marked.id, { viewerId: retinaNet.id, blind: true })).toMatchObject({ votes: [] });
    // The 1:1 disagreement stays a disagreement with both votes.
    const disputed = lab.store.get(report.annotationIds[0]!, { viewerId: lab.actorId })!;
    expect(disputed.consensus?.status).toBe('disagreement');
    expect(disputed.votes).toHaveLength(2);
  });

  it('lets the preview map a class onto another project class and correct an annotator’s kind', () => {
    const bundle = sampleNamedVotersBundle();
    const options = { classMapping: { imposter: IMPOSTER }, annotatorKinds: { 'Dr. Grace Hopper': 'model' as const } };
    const preview = lab.importer.preview(bundle, options);
    expect(preview.classes[1]).toMatchObject({ name: 'imposter', projectClass: { id: IMPOSTER, name: 'non-mitotic figure (imposter)' } });
    expect(preview.annotators[2]).toMatchObject({ name: 'Dr. Grace Hopper', kind: 'model', kindInFile: 'person' });
    const report = lab.importer.import(bundle, lab.actorId, options);
    expect(report.createdClasses).toEqual([]);
    expect(lab.count('labels', `WHERE class_id = ${IMPOSTER}`)).toBe(2);
    expect(() => lab.importer.preview(bundle, { classMapping: { imposter: 999 } })).toThrow(UnknownReferenceError);
  });

  it('recognises cells already in the project by guid and skips them, and only them', () => {
    const bundle = sampleSlideRunnerBundle();
    const first = lab.importer.import(bundle, lab.actorId);
    expect(first.cells).toBe(4);
    // One more cell, plus a vote on a known cell that must not be applied: known cells are left as they are.
    bundle.cells.push({ slideIndex: 1, shape: { kind: 'point', x: 1, y: 2 }, votes: [{ annotator: 'RK', className: 'Mitose' }], guid: 'new-cell' });
    bundle.cells[0]!.votes.push({ annotator: 'RK', className: 'Hard negative' });
    const preview = lab.importer.preview(bundle);
    expect(preview).toMatchObject({ cells: 1, votes: 1, alreadyPresent: 4 });
    expect(preview.warnings).toContain('4 cell(s) are already in the project (same guid) and will be skipped');
    const second = lab.importer.import(bundle, lab.actorId);
    expect(countsOf(second)).toEqual(countsOf(preview));
    expect(second.createdSlides).toEqual([]);
    expect(second.createdClasses).toEqual([]);
    expect(lab.count('annotations')).toBe(5);
    const rk = lab.store.listAnnotators().find((annotator) => annotator.name === 'RK')!;
    const mitose = lab.store.listClasses().find((entry) => entry.name === 'Mitose')!;
    const known = lab.store.get(first.annotationIds[0]!, { viewerId: rk.id })!;
    expect(known.votes.find((vote) => vote.annotatorId === rk.id)?.classId).toBe(mitose.id);
  });

  it('derives the same guid for a guid-less cell each time (MIDOG ids), so a MIDOG file imported twice adds nothing', () => {
    const first = lab.importer.import(sampleMidogBundle(), lab.actorId);
    expect(first.cells).toBe(4);
    const guids = first.annotationIds.map((id) => lab.store.get(id, { viewerId: lab.actorId })!.guid);
    expect(new Set(guids).size).toBe(4);
    for (const guid of guids) expect(guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const second = lab.importer.import(sampleMidogBundle(), lab.actorId);
    expect(second).toMatchObject({ cells: 0, alreadyPresent: 4, changeId: null });
    expect(lab.count('annotations')).toBe(4);
  });

  it('imports a zero-size box as a point at its centre, with a warning', () => {
    const bundle = sampleMidogBundle();
    bundle.cells[3]!.shape = { kind: 'rectangle', x1: 100, y1: 200, x2: 100, y2: 260 };
    const report = lab.importer.import(bundle, lab.actorId);
    expect(report.warnings).toContain('1 circle(s) or rectangle(s) of zero size were imported as points at their centre');
    expect(lab.store.get(report.annotationIds[3]!, { viewerId: lab.actorId })!.geometry).toEqual({ shape: 'point', x: 100, y: 230 });
  });

  it('is one undoable change: undo removes every imported cell at once', () => {
    const report = lab.importer.import(sampleMidogBundle(), lab.actorId);
    expect(lab.store.undoStatus(lab.actorId).undo).toBe('import 4 annotations from the imported file');
    lab.store.undo(lab.actorId);
    for (const id of report.annotationIds) expect(lab.store.get(id, { viewerId: lab.actorId })!.deletedAt).not.toBeNull();
  });
});

describe('a failed import changes nothing', () => {
  /** A project that already holds work, so "nothing changed" is checked against real content. */
  function seedProject(): void {
    lab.importer.import(sampleMidogBundle(), lab.actorId);
    lab.store.createAnnotation(lab.catalog.list()[0]!.id, { shape: 'point', x: 5, y: 5 }, lab.actorId, MITOTIC_FIGURE);
  }

  /** A bundle big enough that an injected failure lands mid-way through each step. */
  function generatedBundle(cells = 2_000): AnnotationBundle {
    const slides = Array.from({ length: 20 }, (_, index) => ({ fileName: `generated-${index}.svs`, widthPx: 50_000, heightPx: 40_000, tags: { tumour: `type ${index % 3}` } }));
    return {
      sourceFormat: 'sliderunner-sqlite',
      classes: [{ name: 'mitotic figure' }, { name: 'new class A', colour: '#010203' }],
      annotators: [
        { name: 'Pathologist A', kind: 'person' },
        { name: 'Detector', kind: 'model' },
      ],
      slides,
      cells: Array.from({ length: cells }, (_, index) => ({
        slideIndex: index % slides.length,
        shape: { kind: 'point' as const, x: 10 + index, y: 20 + index },
        votes: [
          { annotator: 'Pathologist A', className: index % 2 === 0 ? 'mitotic figure' : 'new class A' },
          { annotator: 'Detector', className: 'mitotic figure' },
        ],
        guid: `generated-${index}`,
      })),
      warnings: [],
    };
  }

  function expectUnchanged(action: () => unknown, error: RegExp | (new (...args: never[]) => Error)): void {
    const before = lab.fingerprint();
    const events: AnnotationChangeEvent[] = [];
    const stop = lab.store.onChange((event) => events.push(event));
    try {
      expect(action).toThrow(error);
    } finally {
      stop();
    }
    expect(lab.fingerprint()).toEqual(before);
    expect(events).toEqual([]);
  }

  it('a vote naming a class the file does not have: refused before anything is written', () => {
    seedProject();
    const bundle = generatedBundle();
    bundle.cells[1_500]!.votes[0]!.className = 'no such class';
    expectUnchanged(() => lab.importer.import(bundle, lab.actorId, { file: 'bad.sqlite' }), InteropError);
    expect(() => lab.importer.preview(bundle, { file: 'bad.sqlite' })).toThrow(
      'bad.sqlite: cells[1500].votes[0].className: class "no such class" is not among the bundle\'s classes',
    );
  });

  it('an unknown importing annotator', () => {
    seedProject();
    expectUnchanged(() => lab.importer.import(generatedBundle(), 9_999), UnknownReferenceError);
  });

  it.each([
    ['while creating placeholder slides (the 9th of 20)', 'slides', 10],
    ['while writing slide tags', 'slide_tags', 5],
    ['inside the store, at the 1,000th annotation', 'annotations', 1_000 + 5],
    ['inside the store, at the 3,000th vote', 'labels', 3_000 + 2],
    ['inside the store, while appending the history', 'change_items', 1_500],
  ])('a failure injected %s rolls everything back', (_where, table, rowsBefore) => {
    seedProject();
    // A TEMP trigger lives on this connection only and is not part of the database file's content.
    lab.db.exec(`CREATE TEMP TRIGGER inject_failure BEFORE INSERT ON main.${table}
      WHEN (SELECT count(*) FROM main.${table}) >= ${rowsBefore} BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    try {
      expectUnchanged(() => lab.importer.import(generatedBundle(), lab.actorId), /injected failure/);
    } finally {
      lab.db.exec('DROP TRIGGER temp.inject_failure');
    }
    // The project is usable afterwards and the same import now succeeds whole.
    const report = lab.importer.import(generatedBundle(), lab.actorId);
    expect(report.cells).toBe(2_000);
    expect(report.votes).toBe(4_000);
    expect(report.createdSlides).toHaveLength(20);
    expect(lab.store.undoStatus(lab.actorId).undo).toBe('import 2000 annotations from the imported file');
  });
});

describe('a placeholder slide from an import, relinked to its image', () => {
  let sources: string;
  let pyramid: SyntheticSlide;
  let otherPyramid: SyntheticSlide;
  let library: SlideLibrary;
  beforeAll(async () => {
    sources = await makeTempDir('mitobench-import-slides-');
    pyramid = await writeSyntheticPyramid(sources, { width: 700, height: 500, mpp: 0.25, fileName: 'case 7.tif' });
    otherPyramid = await writeSyntheticPyramid(sources, { width: 600, height: 400, fileName: 'other.tif' });
  });
  afterAll(async () => removeTempDir(sources));
  beforeEach(() => {
    library = new SlideLibrary(lab.catalog, path.join(lab.project.cacheFolder, 'thumbnails'), new TileCache(16 * 1024 * 1024), lab.project.projectKey);
  });
  afterEach(async () => library.close());

  function importCase7(size?: { widthPx: number; heightPx: number }): number {
    const bundle = sampleNamedVotersBundle();
    bundle.slides[0] = { fileName: 'CASE 7.TIF', tags: { tumour: 'lymphoma' }, ...size };
    return lab.importer.import(bundle, lab.actorId).createdSlides[0]!.slideId;
  }

  it('shows as missing, naming the file and what to do', async () => {
    const slideId = importCase7({ widthPx: 700, heightPx: 500 });
    expect(library.get(slideId)).toMatchObject({
      name: 'CASE 7.TIF',
      path: '',
      status: 'missing',
      problem: 'CASE 7.TIF: imported from an annotation file; its image is not in the project yet — relink to the file',
      reader: null,
      width: 700,
      height: 500,
      levels: [],
      tags: [{ key: 'tumour', value: 'lymphoma' }],
    });
    await expect(library.tileSource(slideId)).rejects.toMatchObject({ filePath: 'CASE 7.TIF', kind: 'missing' });
  });

  it('relinked to the same-named pyramid, becomes ok with the real metadata and a new tile version', async () => {
    const slideId = importCase7({ widthPx: 700, heightPx: 500 });
    const before = library.get(slideId);
    const relinked = await library.relink(slideId, pyramid.path);
    expect(relinked).toMatchObject({ status: 'ok', problem: null, path: fs.realpathSync(pyramid.path), name: 'case 7.tif', width: 700, height: 500, mppX: 0.25, reader: 'tiff' });
    expect(relinked.levels.length).toBeGreaterThan(1);
    expect(relinked.fileSizeBytes).toBe(fs.statSync(pyramid.path).size);
    expect(relinked.tileVersion).not.toBe(before.tileVersion);
    expect(lab.catalog.get(slideId)!.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect((await library.tileSource(slideId)).width).toBe(700);
    // Its cells and tags stay with it.
    expect(lab.store.listForSlide(slideId, { viewerId: lab.actorId })).toHaveLength(2);
    expect(relinked.tags).toEqual([{ key: 'tumour', value: 'lymphoma' }]);
  });

  it('without a known size, accepts the same name and refuses another name', async () => {
    const slideId = importCase7();
    await expect(library.relink(slideId, otherPyramid.path)).rejects.toThrow(RelinkMismatchError);
    expect(library.get(slideId).status).toBe('missing');
    expect(await library.relink(slideId, pyramid.path)).toMatchObject({ status: 'ok', width: 700, height: 500 });
  });

  it('with a known size, accepts another name of that size, and refuses a file of another name and size', async () => {
    const slideId = importCase7({ widthPx: 600, heightPx: 400 });
    const wrong = importCase7Other();
    const error = await library.relink(wrong, otherPyramid.path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RelinkMismatchError);
    expect((error as Error).message).toBe(
      `${otherPyramid.path}: its image is 600 × 400 pixels, but the annotation file gives "slide 9.svs" as 900 × 800 pixels; choose the image the annotations were made on`,
    );
    expect(library.get(wrong)).toMatchObject({ status: 'missing', path: '', width: 900, height: 800, tileVersion: `${lab.project.projectKey}.1` });
    expect(await library.relink(slideId, otherPyramid.path)).toMatchObject({ status: 'ok', name: 'other.tif', width: 600, height: 400 });
  });

  it('refuses a same-named file of another size: the cells would not fit it', async () => {
    const slideId = importCase7({ widthPx: 1400, heightPx: 1000 });
    await expect(library.relink(slideId, pyramid.path)).rejects.toThrow(/its image is 700 × 500 pixels/);
    expect(library.get(slideId).status).toBe('missing');
  });

  function importCase7Other(): number {
    const bundle = sampleNamedVotersBundle();
    bundle.slides[0] = { fileName: 'slide 9.svs', widthPx: 900, heightPx: 800, tags: {} };
    for (const cell of bundle.cells) cell.sourceId = (cell.sourceId ?? 0) + 100;
    return lab.importer.import(bundle, lab.actorId).createdSlides[0]!.slideId;
  }
});
