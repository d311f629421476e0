import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EventName, EventPayload } from '../../../src-main/contract/api';
import type { AddSlidesResult, SlideSummary } from '../../../src-main/contract/schemas';
import { PROJECT_FILE_NAME } from '../../../src-main/services/project/ProjectDatabase';
import { sampleMidogDocument } from '../../fixtures/interopSamples';
import { midogPlusPlusJsonPath } from '../../fixtures/sharedAnnotations';
import { copyInto, makeTempDir, removeTempDir, writeSyntheticPyramid } from '../../fixtures/syntheticSlides';
import { useHandlerHarness } from './handlerHarness';

const MITOTIC_FIGURE = 1;
const IMPOSTER = 2;
const hasMidogPlusPlus = fs.existsSync(midogPlusPlusJsonPath);
if (!hasMidogPlusPlus) {
  console.warn(`annotation handlers: the MIDOG++.json import test is skipped: ${midogPlusPlusJsonPath} is absent`);
}

let sources: string;
let slideFile: string;
/** A slide named as the first image of sampleMidogDocument, so that a MIDOG import matches it. */
let matchingSlideFile: string;
beforeAll(async () => {
  sources = await makeTempDir('mitobench-annotation-calls-sources-');
  slideFile = (await writeSyntheticPyramid(sources, { width: 300, height: 200 })).path;
  matchingSlideFile = await copyInto(slideFile, sources, '001.tiff');
});
afterAll(async () => {
  await removeTempDir(sources);
});

type SentEvent = { [N in EventName]: { name: N; payload: EventPayload<N> } }[EventName];

const harness = useHandlerHarness('mitobench-annotation-calls-');
const { ok, failure } = harness;
let sent: SentEvent[];
beforeEach(() => {
  sent = [];
  harness.workspace.onEvent((name, payload) => sent.push({ name, payload } as SentEvent));
});

function annotationEvents(): EventPayload<'annotations.changed'>[] {
  return sent.flatMap((event) => (event.name === 'annotations.changed' ? [event.payload] : []));
}

const projectFolder = () => path.join(harness.dir, 'project');

async function openProject(files: string[]): Promise<SlideSummary[]> {
  await ok('project.create', { folder: projectFolder(), name: 'Annotations' });
  const result: AddSlidesResult = await ok('slides.add', { paths: files });
  expect(result.failed).toEqual([]);
  return result.added;
}

/** Row counts of the tables an import writes, read from the project file as another process would. */
function projectRows(): Record<string, number> {
  const db = new BetterSqlite3(path.join(projectFolder(), PROJECT_FILE_NAME), { readonly: true });
  try {
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return Object.fromEntries(
      ['slides', 'slide_tags', 'annotations', 'labels', 'changes', 'classes', 'annotators'].map((name) => [name, count(name)]),
    );
  } finally {
    db.close();
  }
}

const wholeSlide = { x: 0, y: 0, width: 300, height: 200 };

describe('annotation calls without a project', () => {
  it('answer no-project', async () => {
    expect((await failure('annotations.classes', {})).code).toBe('no-project');
    expect((await failure('annotations.undo', { actorId: 1 })).code).toBe('no-project');
    expect((await failure('interop.preview', { path: path.join(harness.dir, 'x.json') })).code).toBe('no-project');
  });
});

describe('labelling through the calls', () => {
  it('creates, queries, votes, hides votes in blind mode, undoes, redoes and tells the history', async () => {
    const [slide] = await openProject([slideFile]);
    const slideId = slide!.id;

    const classes = await ok('annotations.classes', {});
    expect(classes.map((entry) => entry.id)).toEqual([MITOTIC_FIGURE, IMPOSTER]);
    const ada = await ok('annotations.ensureAnnotator', { name: '  Ada ', kind: 'person' });
    expect(ada).toMatchObject({ name: 'Ada', kind: 'person' });
    expect(await ok('annotations.ensureAnnotator', { name: 'Ada', kind: 'person' })).toEqual(ada);
    const grace = await ok('annotations.ensureAnnotator', { name: 'Grace', kind: 'person' });
    expect((await ok('annotations.annotators', {})).map((annotator) => annotator.name)).toEqual(['Ada', 'Grace']);

    const created = await ok('annotations.create', {
      slideId,
      geometry: { shape: 'point', x: 100.5, y: 50 },
      actorId: ada.id,
      classId: MITOTIC_FIGURE,
    });
    expect(Object.keys(created).sort()).toEqual(['guid', 'id']);
    expect(annotationEvents()).toEqual([{ slideId, annotationIds: [created.id], origin: 'local' }]);

    const seen = await ok('annotations.query', { slideId, rect: { x: 90, y: 40, width: 20, height: 20 }, viewerId: ada.id });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      id: created.id,
      guid: created.guid,
      slideId,
      geometry: { shape: 'point', x: 100.5, y: 50 },
      createdBy: ada.id,
      deletedAt: null,
      votes: [{ annotatorId: ada.id, classId: MITOTIC_FIGURE, annotatorKind: 'person' }],
      consensus: { status: 'agreed', classId: MITOTIC_FIGURE },
    });
    expect(await ok('annotations.query', { slideId, rect: { x: 200, y: 100, width: 50, height: 50 }, viewerId: ada.id })).toEqual([]);

    const vote = await ok('annotations.vote', { annotationId: created.id, actorId: grace.id, classId: IMPOSTER });
    expect(vote).toEqual({ changeId: expect.any(Number), annotationIds: [created.id] });
    const [disputed] = await ok('annotations.query', { slideId, rect: wholeSlide, viewerId: ada.id });
    expect(disputed!.consensus).toEqual({ status: 'disagreement', classIds: [MITOTIC_FIGURE, IMPOSTER] });
    expect(disputed!.votes.map((entry) => entry.annotatorId)).toEqual([ada.id, grace.id]);

    const [blind] = await ok('annotations.query', { slideId, rect: wholeSlide, viewerId: grace.id, blind: true });
    expect(blind!.votes).toEqual([{ annotatorId: grace.id, classId: IMPOSTER, annotatorKind: 'person' }]);
    expect(blind!.consensus).toBeNull();

    const undone = await ok('annotations.undo', { actorId: grace.id });
    expect(undone).toMatchObject({ reversedChangeId: vote.changeId, annotationIds: [created.id] });
    const [afterUndo] = await ok('annotations.query', { slideId, rect: wholeSlide, viewerId: ada.id });
    expect(afterUndo!.consensus).toEqual({ status: 'agreed', classId: MITOTIC_FIGURE });
    const redone = await ok('annotations.redo', { actorId: grace.id });
    expect(redone).toMatchObject({ reversedChangeId: undone!.changeId });
    expect(await ok('annotations.redo', { actorId: grace.id })).toBeNull();
    expect(annotationEvents().map((event) => event.origin)).toEqual(['local', 'local', 'undo', 'redo']);

    expect(await ok('annotations.clearVote', { annotationId: created.id, actorId: grace.id })).toMatchObject({ annotationIds: [created.id] });
    expect(await ok('annotations.move', { annotationId: created.id, actorId: ada.id, geometry: { shape: 'point', x: 10, y: 10 } })).toMatchObject({
      annotationIds: [created.id],
    });
    expect(await ok('annotations.delete', { annotationId: created.id, actorId: ada.id })).toMatchObject({ annotationIds: [created.id] });
    expect(await ok('annotations.query', { slideId, rect: wholeSlide, viewerId: ada.id })).toEqual([]);
    expect(await failure('annotations.clearVote', { annotationId: created.id, actorId: grace.id })).toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/^annotationId: .*deleted/),
    });

    const history = await ok('annotations.history', { annotationId: created.id });
    expect(history.map((entry) => [entry.actor.name, entry.kind, entry.description])).toEqual([
      ['Ada', 'edit', 'create point as mitotic figure'],
      ['Grace', 'edit', 'vote non-mitotic figure (imposter)'],
      ['Grace', 'undo', 'undo: vote non-mitotic figure (imposter)'],
      ['Grace', 'redo', 'redo: vote non-mitotic figure (imposter)'],
      ['Grace', 'edit', 'clear vote'],
      ['Ada', 'edit', 'move point'],
      ['Ada', 'edit', 'delete point'],
    ]);
    expect(history[0]!.before).toBeNull();
    expect(history.at(-1)!.after.deleted).toBe(true);

    // The delete comes back on undo, and its event says so.
    sent = [];
    await ok('annotations.undo', { actorId: ada.id });
    expect(annotationEvents()).toEqual([{ slideId, annotationIds: [created.id], origin: 'undo' }]);
    expect(await ok('annotations.query', { slideId, rect: wholeSlide, viewerId: ada.id })).toHaveLength(1);
  });

  it('refuses bad ids and bad geometry with envelopes naming the field', async () => {
    const [slide] = await openProject([slideFile]);
    const ada = await ok('annotations.ensureAnnotator', { name: 'Ada', kind: 'person' });

    const unknownSlide = await failure('annotations.create', { slideId: 999, geometry: { shape: 'point', x: 1, y: 1 }, actorId: ada.id });
    expect(unknownSlide).toEqual({ code: 'not-found', message: 'slideId: no slide 999 in this project' });
    expect(await failure('annotations.query', { slideId: 999, rect: wholeSlide, viewerId: ada.id })).toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/^slideId: /),
    });
    expect(await failure('annotations.vote', { annotationId: 42, actorId: ada.id, classId: 1 })).toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/^annotationId: no annotation 42/),
    });
    expect(await failure('annotations.undo', { actorId: 77 })).toMatchObject({ code: 'not-found', message: expect.stringMatching(/77/) });
    expect(await failure('annotations.history', { annotationId: 5 })).toMatchObject({ code: 'not-found' });

    const nan = await failure('annotations.create', { slideId: slide!.id, geometry: { shape: 'point', x: NaN, y: 1 }, actorId: ada.id });
    expect(nan.code).toBe('invalid-argument');
    expect(nan.message).toMatch(/^annotations\.create: geometry\.x: /);
    const polygon = await failure('annotations.create', {
      slideId: slide!.id,
      geometry: { shape: 'polygon', points: [[0, 0], [1, 1]] },
      actorId: ada.id,
    });
    expect(polygon).toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/geometry\.points/) });
    for (const [field, value] of [['slideId', 0], ['actorId', 1.5], ['classId', -1]] as const) {
      const error = await failure('annotations.create', {
        slideId: slide!.id,
        geometry: { shape: 'point', x: 1, y: 1 },
        actorId: ada.id,
        [field]: value,
      });
      expect(error.code, field).toBe('invalid-argument');
      expect(error.message, field).toMatch(new RegExp(`^annotations\\.create: ${field}: `));
    }
    expect((await failure('annotations.ensureAnnotator', { name: '  ', kind: 'person' })).code).toBe('invalid-argument');
    expect((await failure('annotations.ensureAnnotator', { name: 'X', kind: 'robot' })).code).toBe('invalid-argument');
    // None of that wrote anything.
    expect(projectRows()).toMatchObject({ annotations: 0, changes: 0 });
    expect(annotationEvents()).toEqual([]);
  });
});

describe('importing annotation files through the calls', () => {
  function writeSample(fileName = 'sample.json'): string {
    const file = path.join(harness.dir, fileName);
    fs.writeFileSync(file, JSON.stringify(sampleMidogDocument(), null, 2));
    return file;
  }

  it('previews a small MIDOG JSON without writing, then imports exactly that', async () => {
    const [, matching] = await openProject([slideFile, matchingSlideFile]);
    const actor = await ok('annotations.ensureAnnotator', { name: 'Importer', kind: 'person' });
    const file = writeSample();
    const before = projectRows();

    const preview = await ok('interop.preview', { path: file });
    expect(projectRows()).toEqual(before);
    expect(preview).toMatchObject({
      file,
      formatId: 'midog-json',
      cells: 4,
      votes: 9,
      alreadyPresent: 0,
      classCount: 2,
      annotatorCount: 3,
      slideCount: 2,
      matchedSlides: [{ fileName: '001.tiff', slideId: matching!.id, cells: 2 }],
      unmatchedSlides: [{ fileName: '201.tiff', cells: 2 }],
    });
    expect(preview.classes.map(({ name, projectClassId }) => [name, projectClassId])).toEqual([
      ['mitotic figure', MITOTIC_FIGURE],
      ['not mitotic figure', null],
    ]);
    expect(preview.annotators.map(({ name, annotatorId }) => [name, annotatorId])).toEqual([
      ['expert 1', null],
      ['expert 2', null],
      ['expert 3', null],
    ]);
    expect(JSON.parse(JSON.stringify(preview))).toEqual(preview);

    sent = [];
    const report = await ok('interop.import', { path: file, actorId: actor.id, classMapping: { 'not mitotic figure': IMPOSTER } });
    expect(report).toMatchObject({ file, formatId: 'midog-json', cells: 4, votes: 9, alreadyPresent: 0, matchedSlides: 1 });
    expect(report.changeId).toEqual(expect.any(Number));
    expect(report.createdClasses).toEqual([]);
    expect(report.createdAnnotators.map((annotator) => annotator.name)).toEqual(['expert 1', 'expert 2', 'expert 3']);
    expect(report.createdSlides.map((slide) => slide.fileName)).toEqual(['201.tiff']);
    expect(report).not.toHaveProperty('annotationIds');
    expect(projectRows()).toMatchObject({ annotations: before.annotations! + 4, slides: before.slides! + 1 });

    const imported = annotationEvents();
    expect(imported.map((event) => event.origin)).toEqual(['import', 'import']);
    expect(imported.map((event) => event.slideId).sort()).toEqual([matching!.id, report.createdSlides[0]!.slideId].sort());
    expect(imported.flatMap((event) => event.annotationIds)).toHaveLength(4);
    expect(sent.some((event) => event.name === 'slides.changed')).toBe(true);

    // Seen through the query call on the matched slide: the 2:1 cell is a disagreement.
    const expert1 = report.createdAnnotators[0]!.id;
    const cells = await ok('annotations.query', {
      slideId: matching!.id,
      rect: { x: 0, y: 0, width: 10_000, height: 10_000 },
      viewerId: expert1,
    });
    expect(cells.map((cell) => cell.consensus?.status).sort()).toEqual(['agreed', 'disagreement']);

    // The same file again adds nothing; one undo removes the whole import.
    const again = await ok('interop.import', { path: file, actorId: actor.id, classMapping: { 'not mitotic figure': IMPOSTER } });
    expect(again).toMatchObject({ cells: 0, alreadyPresent: 4, changeId: null });
    const undone = await ok('annotations.undo', { actorId: actor.id });
    expect(undone).toMatchObject({ reversedChangeId: report.changeId });
    expect(undone!.annotationIds).toHaveLength(4);
  });

  it('answers a truncated file with an invalid-argument envelope naming it, and writes nothing', async () => {
    await openProject([slideFile]);
    const actor = await ok('annotations.ensureAnnotator', { name: 'Importer', kind: 'person' });
    const file = path.join(harness.dir, 'truncated.json');
    const whole = JSON.stringify(sampleMidogDocument());
    fs.writeFileSync(file, whole.slice(0, Math.floor(whole.length / 2)));
    const before = projectRows();
    sent = [];

    for (const [name, input] of [
      ['interop.preview', { path: file }],
      ['interop.import', { path: file, actorId: actor.id }],
    ] as const) {
      const error = await failure(name, input);
      expect(error.code, name).toBe('invalid-argument');
      expect(error.file, name).toBe(file);
      expect(error.message, name).toContain(file);
    }
    expect(projectRows()).toEqual(before);
    expect(sent).toEqual([]);
  });

  it('refuses a missing file, an unknown extension and an unknown actor, naming what is wrong', async () => {
    await openProject([slideFile]);
    const actor = await ok('annotations.ensureAnnotator', { name: 'Importer', kind: 'person' });
    const missing = path.join(harness.dir, 'nowhere.json');
    expect(await failure('interop.preview', { path: missing })).toMatchObject({ code: 'invalid-argument', file: missing });
    const odd = path.join(harness.dir, 'labels.xyz');
    fs.writeFileSync(odd, 'x');
    expect(await failure('interop.preview', { path: odd })).toMatchObject({ code: 'invalid-argument', file: odd });
    expect(await failure('interop.import', { path: writeSample(), actorId: actor.id + 100 })).toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/^actorId: /),
    });
    expect((await failure('interop.import', { path: writeSample(), actorId: 0 })).code).toBe('invalid-argument');
    expect((await failure('interop.preview', { path: writeSample(), formatId: 'xml' })).code).toBe('invalid-argument');
    expect(projectRows()).toMatchObject({ annotations: 0, changes: 0 });
  });

  it.skipIf(!hasMidogPlusPlus)('imports the real MIDOG++.json: 26,286 cells, as previewed', async () => {
    await openProject([slideFile]);
    const actor = await ok('annotations.ensureAnnotator', { name: 'Importer', kind: 'person' });

    const preview = await ok('interop.preview', { path: midogPlusPlusJsonPath });
    expect(preview.cells).toBe(26_286);
    const report = await ok('interop.import', { path: midogPlusPlusJsonPath, actorId: actor.id });
    console.info(`interop.import of MIDOG++.json: import transaction ${report.durationMs.toFixed(0)} ms`);

    expect(report.cells).toBe(26_286);
    for (const key of ['cells', 'votes', 'votesWithoutClass', 'repeatedVotes', 'agreedClassVotes', 'alreadyPresent', 'deletedInSource'] as const) {
      expect(report[key], key).toBe(preview[key]);
    }
    expect(report.createdSlides).toHaveLength(preview.unmatchedSlides.length);
    expect(report.createdSlides).toHaveLength(553);
    expect(report.createdAnnotators).toHaveLength(preview.annotatorCount);
    expect(report.createdClasses.map((entry) => entry.name)).toEqual(
      preview.classes.filter((entry) => entry.projectClassId === null).map((entry) => entry.name),
    );
    expect(projectRows().annotations).toBe(26_286);
    expect(new Set(annotationEvents().map((event) => event.origin))).toEqual(new Set(['import']));
    expect(annotationEvents().reduce((sum, event) => sum + event.annotationIds.length, 0)).toBe(26_286);
  }, 60_000);
});
