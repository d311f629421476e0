import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir, writeSyntheticPyramid } from '../../fixtures/syntheticSlides';
import { useHandlerHarness } from './handlerHarness';

let sources: string;
let slideFile: string;
beforeAll(async () => {
  sources = await makeTempDir('mitobench-viewer-calls-sources-');
  slideFile = (await writeSyntheticPyramid(sources, { width: 300, height: 200 })).path;
});
afterAll(async () => {
  await removeTempDir(sources);
});

const harness = useHandlerHarness('mitobench-viewer-calls-');
const { ok, failure } = harness;

describe('class editing calls', () => {
  it('answer no-project without a project', async () => {
    expect((await failure('annotations.createClass', { name: 'x', colour: '#000000' })).code).toBe('no-project');
  });

  it('add, rename, recolour, re-key and delete (soft: votes kept), refusing duplicates by field', async () => {
    await ok('project.create', { folder: path.join(harness.dir, 'project'), name: 'Classes' });
    const [slide] = (await ok('slides.add', { paths: [slideFile] })).added;
    const before = await ok('annotations.classes', {});

    const atypical = await ok('annotations.createClass', { name: ' atypical mitosis ', colour: '#AA33CC', hotkey: '3' });
    expect(atypical).toMatchObject({ name: 'atypical mitosis', colour: '#aa33cc', hotkey: '3', deletedAt: null });

    // The same hotkey or name again: refused, naming the field; nothing is added.
    const sameKey = await failure('annotations.createClass', { name: 'other', colour: '#000000', hotkey: '3' });
    expect(sameKey).toMatchObject({ code: 'invalid-argument' });
    expect(sameKey.message).toMatch(/^hotkey: key "3" already picks class "atypical mitosis"/);
    expect((await failure('annotations.createClass', { name: 'atypical mitosis', colour: '#000000' })).message).toMatch(/^name:/);
    expect((await failure('annotations.createClass', { name: 'x', colour: 'red' })).message).toContain('colour');
    expect((await failure('annotations.updateClass', { classId: atypical.id, hotkey: before[0]!.hotkey })).message).toMatch(/^hotkey:/);
    expect(await ok('annotations.classes', {})).toHaveLength(before.length + 1);

    const renamed = await ok('annotations.updateClass', { classId: atypical.id, name: 'atypical', colour: '#112233', hotkey: null });
    expect(renamed).toMatchObject({ id: atypical.id, name: 'atypical', colour: '#112233', hotkey: null });

    const ada = await ok('annotations.ensureAnnotator', { name: 'Ada', kind: 'person' });
    const cell = await ok('annotations.create', { slideId: slide!.id, geometry: { shape: 'point', x: 10, y: 10 }, actorId: ada.id, classId: atypical.id });
    await ok('annotations.deleteClass', { classId: atypical.id });
    expect((await ok('annotations.classes', {})).map((item) => item.id)).not.toContain(atypical.id);
    const all = await ok('annotations.allClasses', {});
    expect(all.find((item) => item.id === atypical.id)?.deletedAt).not.toBeNull();
    // The vote for the deleted class is still there.
    const [seen] = await ok('annotations.query', { slideId: slide!.id, rect: { x: 0, y: 0, width: 300, height: 200 }, viewerId: ada.id });
    expect(seen).toMatchObject({ id: cell.id, votes: [{ annotatorId: ada.id, classId: atypical.id }] });
    // A deleted class frees its hotkey and name, and cannot be edited or voted for.
    await ok('annotations.createClass', { name: 'atypical', colour: '#000000' });
    expect((await failure('annotations.updateClass', { classId: atypical.id, name: 'again' })).code).toBe('not-found');
  });
});
