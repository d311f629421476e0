import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  calls,
  events,
  isCallName,
  type CallInput,
  type CallName,
  type CallOutput,
  type EventName,
  type EventPayload,
} from '../../../src-main/contract/api';
import { callNames, eventNames } from '../../../src-main/contract/channels';
import { UserFacingError, type Envelope, type ErrorCode, type ErrorInfo } from '../../../src-main/contract/errors';
import {
  slideTagSchema,
  tileSourceInfoSchema,
  type AddSlidesResult,
  type AppInfo,
  type ProjectSummary,
  type SlideSummary,
  type SlideTag,
  type TileSourceInfo,
} from '../../../src-main/contract/schemas';
import { createHandlerTable } from '../../../src-main/handlers/handlerTable';
import { Workspace } from '../../../src-main/handlers/Workspace';
import type { Annotation, AnnotationClass, Annotator } from '../../../src-main/services/annotations/types';
import type { HistoryEntry } from '../../../src-main/services/annotations/ChangeLog';
import { AppSettings } from '../../../src-main/services/project/AppSettings';

const contractFolder = path.resolve(import.meta.dirname, '../../../src-main/contract');

describe('types both sides rely on', () => {
  it('pins call inputs', () => {
    expectTypeOf<CallInput<'slides.add'>>().toEqualTypeOf<{ paths: string[] }>();
    expectTypeOf<CallInput<'slides.list'>>().toEqualTypeOf<Record<string, never>>();
    expectTypeOf<CallInput<'slides.setTags'>>().toEqualTypeOf<{ slideId: number; tags: { key: string; value: string }[] }>();
    expectTypeOf<CallInput<'slides.setReader'>['reader']>().toEqualTypeOf<'auto' | 'tiff' | 'openslide' | 'image'>();
    expectTypeOf<CallInput<'slides.relink'>>().toEqualTypeOf<{ slideId: number; path: string }>();
    expectTypeOf<CallInput<'project.create'>>().toEqualTypeOf<{ folder: string; name: string }>();
    expectTypeOf<CallInput<'settings.setLanguage'>['language']>().toEqualTypeOf<'en' | 'ja'>();
    expectTypeOf<CallInput<'annotations.vote'>>().toEqualTypeOf<{ annotationId: number; actorId: number; classId: number }>();
    expectTypeOf<CallInput<'annotations.undo'>>().toEqualTypeOf<{ actorId: number }>();
    expectTypeOf<CallInput<'annotations.create'>['geometry']['shape']>().toEqualTypeOf<'point' | 'circle' | 'rectangle' | 'polygon'>();
    expectTypeOf<CallInput<'interop.import'>['formatId']>().toEqualTypeOf<'midog-json' | 'sliderunner-sqlite' | 'csv' | 'qupath-geojson' | 'asap-xml' | undefined>();
  });

  it('pins call outputs', () => {
    expectTypeOf<CallOutput<'slides.tileSource'>>().toEqualTypeOf<TileSourceInfo>();
    expectTypeOf<CallOutput<'slides.tileSource'>['tileSize']>().toEqualTypeOf<number>();
    expectTypeOf<CallOutput<'slides.tileSource'>['tileVersion']>().toEqualTypeOf<string>();
    expectTypeOf<CallOutput<'slides.tileSource'>['reader']>().toEqualTypeOf<'tiff' | 'openslide' | 'image'>();
    expectTypeOf<CallOutput<'slides.add'>>().toEqualTypeOf<AddSlidesResult>();
    expectTypeOf<CallOutput<'slides.add'>['failed']>().toEqualTypeOf<{ path: string; message: string }[]>();
    expectTypeOf<CallOutput<'slides.list'>>().toEqualTypeOf<SlideSummary[]>();
    expectTypeOf<CallOutput<'slides.setTags'>['tags']>().toEqualTypeOf<SlideTag[]>();
    expectTypeOf<CallOutput<'project.open'>>().toEqualTypeOf<ProjectSummary>();
    expectTypeOf<CallOutput<'app.info'>>().toEqualTypeOf<AppInfo>();
    expectTypeOf<SlideSummary['status']>().toEqualTypeOf<'ok' | 'missing' | 'error'>();
    expectTypeOf<SlideSummary['problem']>().toEqualTypeOf<string | null>();
    expectTypeOf<SlideSummary['id']>().toEqualTypeOf<number>();
    expectTypeOf<CallOutput<'annotations.create'>>().toEqualTypeOf<{ id: number; guid: string }>();
    expectTypeOf<CallOutput<'annotations.vote'>>().toEqualTypeOf<{ changeId: number | null; annotationIds: number[] }>();
    expectTypeOf<CallOutput<'annotations.query'>[number]['consensus']>().toEqualTypeOf<
      { status: 'unlabelled' } | { status: 'agreed'; classId: number } | { status: 'disagreement'; classIds: number[] } | null
    >();
    expectTypeOf<CallOutput<'annotations.undo'>>().toEqualTypeOf<{
      changeId: number;
      reversedChangeId: number;
      description: string;
      annotationIds: number[];
    } | null>();
  });

  it('pins events', () => {
    expectTypeOf<EventName>().toEqualTypeOf<'project.changed' | 'slides.changed' | 'jobs.changed' | 'annotations.changed'>();
    expectTypeOf<EventPayload<'annotations.changed'>>().toEqualTypeOf<{
      slideId: number;
      annotationIds: number[];
      origin: 'local' | 'import' | 'undo' | 'redo';
    }>();
    expectTypeOf<EventPayload<'jobs.changed'>['state']>().toEqualTypeOf<
      'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted'
    >();
    expectTypeOf<CallOutput<'slides.add'>['cancelled']>().toEqualTypeOf<boolean>();
    expectTypeOf<EventPayload<'project.changed'>>().toEqualTypeOf<ProjectSummary | null>();
    expectTypeOf<EventPayload<'slides.changed'>>().toEqualTypeOf<{ slideIds: number[] }>();
  });

  it('matches the annotation schemas to the store\'s types', () => {
    expectTypeOf<Annotation>().toExtend<CallOutput<'annotations.query'>[number]>();
    expectTypeOf<CallOutput<'annotations.query'>[number]>().toExtend<Annotation>();
    expectTypeOf<HistoryEntry>().toExtend<CallOutput<'annotations.history'>[number]>();
    expectTypeOf<AnnotationClass>().toEqualTypeOf<CallOutput<'annotations.classes'>[number]>();
    expectTypeOf<Annotator>().toEqualTypeOf<CallOutput<'annotations.ensureAnnotator'>>();
  });

  it('pins the envelope and error codes', () => {
    expectTypeOf<Envelope<number>>().toEqualTypeOf<{ ok: true; result: number } | { ok: false; error: ErrorInfo }>();
    expectTypeOf<ErrorInfo['file']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<'slide-unreadable'>().toExtend<ErrorCode>();
    expectTypeOf<'project-newer'>().toExtend<ErrorCode>();
    expectTypeOf<'teapot'>().not.toExtend<ErrorCode>();
  });

  it('knows only the declared call names', () => {
    expectTypeOf<'slides.add'>().toExtend<CallName>();
    expectTypeOf<'slides.explode'>().not.toExtend<CallName>();
    // @ts-expect-error: not a call
    expectTypeOf<CallInput<'slides.explode'>>().toBeUnknown();
  });
});

describe('the tables at run time', () => {
  it('has a schema for every call name and a name for every schema', () => {
    expect(Object.keys(calls).sort()).toEqual([...callNames].sort());
    expect(new Set(callNames).size).toBe(callNames.length);
    for (const name of callNames) {
      expect(typeof calls[name].input.safeParse, name).toBe('function');
      expect(typeof calls[name].output.safeParse, name).toBe('function');
    }
  });

  it('has a schema for every event name and a name for every schema', () => {
    expect(Object.keys(events).sort()).toEqual([...eventNames].sort());
    expect(new Set(eventNames).size).toBe(eventNames.length);
    for (const name of eventNames) expect(typeof events[name].safeParse, name).toBe('function');
  });

  it('has a handler for every call', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-contract-'));
    try {
      const table = createHandlerTable(new Workspace(new AppSettings(path.join(folder, 'settings.json')), 'browser', 'test'));
      expect(Object.keys(table).sort()).toEqual([...callNames].sort());
      for (const name of callNames) expect(typeof table[name], name).toBe('function');
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('recognises call names as own keys only', () => {
    for (const name of callNames) expect(isCallName(name), name).toBe(true);
    for (const name of ['__proto__', 'constructor', 'toString', 'valueOf', 'slides', 'slides.add ', 'SLIDES.ADD']) {
      expect(isCallName(name), name).toBe(false);
    }
  });

  it('keeps the names importable without the schemas (the preload bundles only them)', () => {
    const channels = fs.readFileSync(path.join(contractFolder, 'channels.ts'), 'utf8');
    expect(channels).not.toMatch(/^\s*import\s/m);
  });

  it('imports nothing but zod and itself', () => {
    for (const file of fs.readdirSync(contractFolder).filter((name) => name.endsWith('.ts'))) {
      const source = fs.readFileSync(path.join(contractFolder, file), 'utf8');
      const specifiers = [...source.matchAll(/\bfrom\s+'([^']+)'/g)].map((match) => match[1]!);
      for (const specifier of specifiers) expect(specifier, `${file} imports ${specifier}`).toMatch(/^(zod|\.\/[\w]+)$/);
    }
  });
});

describe('schemas', () => {
  it('trims tags and refuses an empty key', () => {
    expect(slideTagSchema.parse({ key: ' tumour ', value: ' lymphoma ' })).toEqual({ key: 'tumour', value: 'lymphoma' });
    expect(slideTagSchema.safeParse({ key: '  ', value: 'x' }).success).toBe(false);
    expect(slideTagSchema.safeParse({ key: 'k'.repeat(101), value: 'x' }).success).toBe(false);
    expect(slideTagSchema.parse({ key: 'site', value: '' })).toEqual({ key: 'site', value: '' });
  });

  it('refuses slide ids that are not positive whole numbers', () => {
    const input = calls['slides.tileSource'].input;
    expect(input.safeParse({ slideId: 3 }).success).toBe(true);
    for (const slideId of [0, -1, 2.5, '3', null, Infinity]) expect(input.safeParse({ slideId }).success, String(slideId)).toBe(false);
  });

  it('refuses a tile source without its tile size', () => {
    const complete: TileSourceInfo = {
      slideId: 1,
      width: 700,
      height: 500,
      tileSize: 256,
      minLevel: 0,
      maxLevel: 10,
      mppX: 0.25,
      objectivePower: null,
      reader: 'tiff',
      tileVersion: '1',
    };
    expect(tileSourceInfoSchema.parse(complete)).toEqual(complete);
    const withoutTileSize: Partial<TileSourceInfo> = { ...complete };
    delete withoutTileSize.tileSize;
    expect(tileSourceInfoSchema.safeParse(withoutTileSize).success).toBe(false);
  });

  it('limits how many paths one add may carry', () => {
    const input = calls['slides.add'].input;
    expect(input.safeParse({ paths: Array.from({ length: 10_000 }, (_, i) => `/s/${i}.svs`) }).success).toBe(true);
    expect(input.safeParse({ paths: Array.from({ length: 10_001 }, (_, i) => `/s/${i}.svs`) }).success).toBe(false);
    expect(input.safeParse({ paths: ['x'.repeat(4097)] }).success).toBe(false);
  });

  it('refuses annotation ids that are not positive whole numbers and geometry that is not finite', () => {
    const vote = calls['annotations.vote'].input;
    expect(vote.safeParse({ annotationId: 1, actorId: 2, classId: 3 }).success).toBe(true);
    for (const bad of [0, -1, 2.5, '3', null, NaN, Infinity]) {
      expect(vote.safeParse({ annotationId: bad, actorId: 2, classId: 3 }).success, `annotationId ${String(bad)}`).toBe(false);
      expect(vote.safeParse({ annotationId: 1, actorId: bad, classId: 3 }).success, `actorId ${String(bad)}`).toBe(false);
      expect(vote.safeParse({ annotationId: 1, actorId: 2, classId: bad }).success, `classId ${String(bad)}`).toBe(false);
    }
    const create = calls['annotations.create'].input;
    const point = { shape: 'point', x: 10.5, y: 20 };
    expect(create.safeParse({ slideId: 1, actorId: 1, geometry: point }).success).toBe(true);
    for (const geometry of [
      { shape: 'point', x: NaN, y: 0 },
      { shape: 'point', x: 0, y: Infinity },
      { shape: 'circle', x: 0, y: 0, radius: 0 },
      { shape: 'rectangle', x: 0, y: 0, width: -1, height: 5 },
      { shape: 'polygon', points: [[0, 0], [1, 1]] },
      { shape: 'blob', x: 0, y: 0 },
    ]) {
      expect(create.safeParse({ slideId: 1, actorId: 1, geometry }).success, JSON.stringify(geometry)).toBe(false);
    }
    expect(events['annotations.changed'].safeParse({ slideId: 1, annotationIds: [2], origin: 'undo' }).success).toBe(true);
    expect(events['annotations.changed'].safeParse({ slideId: 1, annotationIds: [2], origin: 'remote' }).success).toBe(false);
  });

  it('accepts a null project.changed (project closed) and refuses garbage', () => {
    expect(events['project.changed'].safeParse(null).success).toBe(true);
    expect(events['project.changed'].safeParse({ folder: '/p' }).success).toBe(false);
    expect(events['slides.changed'].safeParse({ slideIds: [1, 2] }).success).toBe(true);
    expect(events['slides.changed'].safeParse({ slideIds: [0] }).success).toBe(false);
  });
});

describe('UserFacingError', () => {
  it('crosses the transport as code, message and the file when there is one', () => {
    expect(new UserFacingError('no-project', 'Open or create a project first.').toInfo()).toEqual({
      code: 'no-project',
      message: 'Open or create a project first.',
    });
    expect(new UserFacingError('not-found', '/x: folder not found', '/x').toInfo()).toEqual({
      code: 'not-found',
      message: '/x: folder not found',
      file: '/x',
    });
  });
});
