import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Envelope, ErrorInfo } from '../../../src-main/contract/errors';
import type { AddSlidesResult, AppInfo, ProjectSummary, SlideSummary } from '../../../src-main/contract/schemas';
import { dispatch } from '../../../src-main/handlers/dispatch';
import type { HandlerTable } from '../../../src-main/handlers/handlerTable';
import { PROJECT_FILE_NAME } from '../../../src-main/services/project/ProjectDatabase';
import { LATEST_SCHEMA_VERSION } from '../../../src-main/services/project/migrations';
import { copyInto, makeTempDir, removeTempDir, writeSyntheticImage, writeSyntheticPyramid } from '../../fixtures/syntheticSlides';
import type { SyntheticSlide } from '../../fixtures/syntheticSlides';
import { useHandlerHarness } from './handlerHarness';

let sources: string;
let pyramid: SyntheticSlide;
let png: SyntheticSlide;
beforeAll(async () => {
  sources = await makeTempDir('mitobench-dispatch-sources-');
  pyramid = await writeSyntheticPyramid(sources, { width: 300, height: 200 });
  png = await writeSyntheticImage(sources, { width: 40, height: 30, format: 'png' });
});
afterAll(async () => {
  await removeTempDir(sources);
});

const harness = useHandlerHarness('mitobench-dispatch-');
afterEach(() => {
  vi.restoreAllMocks();
});

async function ok<T>(name: string, input: unknown, handlers: HandlerTable = harness.table): Promise<T> {
  const envelope = await dispatch(handlers, name, input);
  if (!envelope.ok) throw new Error(`${name} failed: ${JSON.stringify(envelope.error)}`);
  return envelope.result as T;
}

async function failure(name: string, input: unknown, handlers: HandlerTable = harness.table): Promise<ErrorInfo> {
  const envelope: Envelope<unknown> = await dispatch(handlers, name, input);
  expect(envelope.ok, `${name} should have failed`).toBe(false);
  return (envelope as { ok: false; error: ErrorInfo }).error;
}

async function openProjectWithSlide(file: string): Promise<SlideSummary> {
  await ok<ProjectSummary>('project.create', { folder: path.join(harness.dir, 'project'), name: 'Study' });
  const result = await ok<AddSlidesResult>('slides.add', { paths: [file] });
  expect(result.failed).toEqual([]);
  return result.added[0]!;
}

describe('call names', () => {
  it('answers an unknown call with invalid-argument naming it', async () => {
    expect(await failure('slides.explode', {})).toEqual({ code: 'invalid-argument', message: 'unknown call "slides.explode"' });
  });

  it('does not treat inherited object keys as calls', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '']) {
      expect((await failure(name, {})).code, name).toBe('invalid-argument');
    }
  });
});

describe('argument validation', () => {
  it('names the field when a tag key is empty', async () => {
    const error = await failure('slides.setTags', { slideId: 1, tags: [{ key: '   ', value: 'x' }] });
    expect(error.code).toBe('invalid-argument');
    expect(error.message).toMatch(/^slides\.setTags: tags\.0\.key: /);
  });

  it('names the field when a slide id is not a positive whole number', async () => {
    for (const slideId of [-1, 0, 1.5, '1', null, Number.NaN]) {
      const error = await failure('slides.remove', { slideId });
      expect(error.code, String(slideId)).toBe('invalid-argument');
      expect(error.message, String(slideId)).toMatch(/^slides\.remove: slideId: /);
    }
  });

  it('names the field when a value has the wrong type', async () => {
    expect((await failure('slides.setTags', { slideId: 1, tags: { key: 'a', value: 'b' } })).message).toMatch(/^slides\.setTags: tags: /);
    expect((await failure('slides.setTags', { slideId: 1, tags: [{ key: 5, value: 'b' }] })).message).toMatch(/tags\.0\.key: /);
    expect((await failure('slides.setReader', { slideId: 1, reader: 'photoshop' })).message).toMatch(/^slides\.setReader: reader: /);
    expect((await failure('settings.setLanguage', { language: 'de' })).message).toMatch(/^settings\.setLanguage: language: /);
    expect((await failure('slides.add', { paths: [] })).message).toMatch(/^slides\.add: paths: /);
    expect((await failure('slides.add', { paths: [''] })).message).toMatch(/^slides\.add: paths\.0: /);
    expect((await failure('project.create', { folder: harness.dir, name: '  ' })).message).toMatch(/^project\.create: name: /);
  });

  it('names the missing field', async () => {
    expect((await failure('slides.relink', { slideId: 1 })).message).toMatch(/^slides\.relink: path: /);
  });

  it('refuses an argument that is not an object', async () => {
    for (const input of [[1, 2], 'slides', 42, true]) {
      const error = await failure('slides.list', input);
      expect(error.code).toBe('invalid-argument');
      expect(error.message).toMatch(/^slides\.list: input: /);
    }
  });

  it('validates before anything else, so bad arguments never reach a handler', async () => {
    const setTags = vi.fn();
    const spied: HandlerTable = { ...harness.table, 'slides.setTags': setTags };
    await failure('slides.setTags', { slideId: -1, tags: [] }, spied);
    expect(setTags).not.toHaveBeenCalled();
  });

  it('passes only the fields the contract knows to the handler', async () => {
    const remove = vi.fn(() => ({}));
    const spied: HandlerTable = { ...harness.table, 'slides.remove': remove };
    await ok('slides.remove', { slideId: 3, path: '/etc/passwd', __proto__: { admin: true } }, spied);
    expect(remove).toHaveBeenCalledWith({ slideId: 3 });
  });

  it('treats a missing argument as an empty object', async () => {
    expect((await ok<AppInfo>('app.info', undefined)).mode).toBe('browser');
    expect((await ok<AppInfo>('app.info', null)).version).toBe('test');
  });
});

describe('errors a user sees', () => {
  it('asks for a project before slide calls', async () => {
    for (const [name, input] of [
      ['slides.list', {}],
      ['slides.add', { paths: [pyramid.path] }],
      ['slides.tileSource', { slideId: 1 }],
    ] as const) {
      expect(await failure(name, input), name).toEqual({ code: 'no-project', message: 'Open or create a project first.' });
    }
  });

  it('reports a project written by a newer Mitobench as project-newer, naming the file', async () => {
    const folder = path.join(harness.dir, 'future');
    await ok('project.create', { folder, name: 'Future' });
    await ok('project.close', {});
    const file = path.join(folder, PROJECT_FILE_NAME);
    const raw = new BetterSqlite3(file);
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    raw.close();

    const error = await failure('project.open', { folder });
    expect(error.code).toBe('project-newer');
    expect(error.file).toBe(file);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/newer Mitobench/);
  });

  it('reports a folder without a project as not-found, and an existing project as file-exists', async () => {
    const empty = path.join(harness.dir, 'empty');
    fs.mkdirSync(empty);
    expect(await failure('project.open', { folder: empty })).toMatchObject({
      code: 'not-found',
      file: path.join(empty, PROJECT_FILE_NAME),
    });
    const folder = path.join(harness.dir, 'p');
    await ok('project.create', { folder, name: 'P' });
    expect(await failure('project.create', { folder, name: 'Again' })).toMatchObject({
      code: 'file-exists',
      file: path.join(folder, PROJECT_FILE_NAME),
    });
  });

  it('keeps the open project when opening another one fails', async () => {
    const folder = path.join(harness.dir, 'current');
    await ok('project.create', { folder, name: 'Current' });
    await failure('project.open', { folder: path.join(harness.dir, 'not-a-project') });
    await failure('project.create', { folder, name: 'Duplicate' });
    expect((await ok<AppInfo>('app.info', {})).project).toMatchObject({ folder, name: 'Current' });
    expect(await ok('slides.list', {})).toEqual([]);
  });

  it('reports an unreadable slide as slide-unreadable, naming the file', async () => {
    const file = await copyInto(png.path, harness.dir, 'crop.png');
    const slide = await openProjectWithSlide(file);
    const error = await failure('slides.setReader', { slideId: slide.id, reader: 'tiff' });
    expect(error).toEqual({ code: 'slide-unreadable', file, message: `${file}: not a TIFF file (bad byte-order mark)` });
  });

  it('reports a missing file as not-found, naming it', async () => {
    const slide = await openProjectWithSlide(await copyInto(pyramid.path, harness.dir, 'slide.tif'));
    const nowhere = path.join(harness.dir, 'nowhere.tif');
    expect(await failure('slides.relink', { slideId: slide.id, path: nowhere })).toMatchObject({ code: 'not-found', file: nowhere });
  });

  it('reports a relink to another file as invalid-argument, naming that file', async () => {
    const slide = await openProjectWithSlide(await copyInto(pyramid.path, harness.dir, 'slide.tif'));
    const error = await failure('slides.relink', { slideId: slide.id, path: png.path });
    expect(error.code).toBe('invalid-argument');
    expect(error.file).toBe(png.path);
    expect(error.message).toContain(png.path);
  });

  it('reports a relink to the file of another slide as a user-facing error naming that file', async () => {
    const first = await copyInto(pyramid.path, harness.dir, 'first.tif');
    const second = await copyInto(pyramid.path, harness.dir, 'second.tif');
    const slide = await openProjectWithSlide(first);
    await ok<AddSlidesResult>('slides.add', { paths: [second] });
    fs.renameSync(first, path.join(harness.dir, 'first-moved.tif'));
    const error = await failure('slides.relink', { slideId: slide.id, path: second });
    expect(error).toMatchObject({ file: second, message: `${second}: this file is already the project's slide "second.tif"` });
    expect(error.code).not.toBe('internal');
  });

  it('reports a slide whose file changed since it was added as slide-unreadable, naming the file', async () => {
    const file = await copyInto(pyramid.path, harness.dir, 'slide.tif');
    const slide = await openProjectWithSlide(file);
    fs.appendFileSync(file, Buffer.alloc(10));
    expect(await failure('slides.tileSource', { slideId: slide.id })).toEqual({
      code: 'slide-unreadable',
      file,
      message: `${file}: the file changed since it was added (${slide.fileSizeBytes + 10} bytes, was ${slide.fileSizeBytes}); relink to the original file`,
    });
  });

  it('reports a slide id that is not in the project as not-found', async () => {
    await openProjectWithSlide(await copyInto(pyramid.path, harness.dir, 'slide.tif'));
    expect(await failure('slides.tileSource', { slideId: 999 })).toEqual({
      code: 'not-found',
      message: 'slide 999 is not in this project',
    });
  });

  it('wraps an unexpected failure as internal and keeps running', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const broken: HandlerTable = {
      ...harness.table,
      'slides.list': () => {
        throw new Error('disk on fire');
      },
    };
    expect(await failure('slides.list', {}, broken)).toEqual({ code: 'internal', message: 'disk on fire' });
    expect((await ok<AppInfo>('app.info', {}, broken)).mode).toBe('browser');
  });

  it('refuses to send a result that breaks the contract', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const broken = { ...harness.table, 'app.info': () => ({ version: 1 }) } as unknown as HandlerTable;
    expect((await failure('app.info', {}, broken)).code).toBe('internal');
  });
});

describe('successful calls', () => {
  it('creates a project, adds slides and announces the changes', async () => {
    const events: [string, unknown][] = [];
    harness.workspace.onEvent((name, payload) => events.push([name, payload]));
    const folder = path.join(harness.dir, 'project');
    const summary = await ok<ProjectSummary>('project.create', { folder, name: '  Canine lymphoma ' });
    expect(summary).toMatchObject({ folder, name: 'Canine lymphoma', slideCount: 0 });

    const added = await ok<AddSlidesResult>('slides.add', { paths: [pyramid.path] });
    expect(added.added).toHaveLength(1);
    const slideId = added.added[0]!.id;
    const tagged = await ok<SlideSummary>('slides.setTags', { slideId, tags: [{ key: ' tumour ', value: 'lymphoma ' }] });
    expect(tagged.tags).toEqual([{ key: 'tumour', value: 'lymphoma' }]);

    expect(events.filter(([name]) => name !== 'jobs.changed')).toEqual([
      ['project.changed', summary],
      ['slides.changed', { slideIds: [slideId] }],
      ['slides.changed', { slideIds: [slideId] }],
    ]);
    // Adding ran as a job: announced when it started and when it ended.
    const jobStates = events.filter(([name]) => name === 'jobs.changed').map(([, job]) => (job as { state: string }).state);
    expect(jobStates[0]).toBe('running');
    expect(jobStates.at(-1)).toBe('succeeded');
  });
});
