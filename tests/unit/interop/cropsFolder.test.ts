import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AnnotationStore } from '../../../src-main/services/annotations/AnnotationStore';
import { CropsImporter } from '../../../src-main/services/interop/crops/CropsImporter';
import { scanCropsFolder } from '../../../src-main/services/interop/crops/scanCropsFolder';
import { InteropError } from '../../../src-main/services/interop/InteropError';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { SlideLibrary } from '../../../src-main/services/slides/SlideLibrary';
import { TileCache } from '../../../src-main/services/slides/TileCache';
import { writeCorruptPng, writeCropsFolder, type CropSpec } from '../../fixtures/qupathAsapSamples';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempFolder(prefix: string): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.rmSync(folder, { recursive: true, force: true }));
  return folder;
}

function openProject() {
  const database = ProjectDatabase.create(path.join(tempFolder('mitobench-crops-project-'), 'project'), 'crops');
  const store = new AnnotationStore(database.db);
  const catalog = new SlideCatalog(database.db);
  const library = new SlideLibrary(catalog, path.join(database.cacheFolder, 'thumbnails'), new TileCache(8 * 1024 * 1024), database.projectKey);
  cleanups.push(async () => {
    await library.close();
    database.close();
  });
  const importer = new CropsImporter(database.db, store, library, catalog);
  const actorId = store.ensureAnnotator('Importing Person').id;
  const count = (table: string) => (database.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const liveSlides = () => catalog.list().length;
  return { database, store, catalog, library, importer, actorId, count, liveSlides };
}

function job() {
  const controller = new AbortController();
  const steps: number[] = [];
  return { controller, steps, context: { signal: controller.signal, progress: (done: number) => void steps.push(done) } };
}

const classFolderCrops: CropSpec[] = [
  { relativePath: 'mitotic figure/a.png', label: 'mitotic figure', widthPx: 64, heightPx: 48 },
  { relativePath: 'mitotic figure/nested/b.jpg', label: 'mitotic figure', widthPx: 50, heightPx: 50 },
  { relativePath: 'non-mitotic figure (imposter)/a.png', label: 'non-mitotic figure (imposter)', widthPx: 32, heightPx: 40 },
  { relativePath: 'eosinophil/c.tif', label: 'eosinophil' },
];

describe('folder of labelled crops', () => {
  it('previews one sub-folder per class: counts per class, images, matched classes; writes nothing', async () => {
    const folder = tempFolder('mitobench-crops-');
    await writeCropsFolder(folder, classFolderCrops, 'class-folders');
    fs.writeFileSync(path.join(folder, 'mitotic figure', 'README.txt'), 'not an image');
    const { importer, count, liveSlides } = openProject();
    const preview = await importer.preview(folder);
    expect(preview).toMatchObject({ layout: 'class-folders', csvFile: null, images: 4, cropsWithoutAnnotator: 4, unreadable: [], alreadySlides: 0, annotators: [] });
    expect(preview.classes.map((entry) => [entry.name, entry.crops, entry.projectClassId !== null])).toEqual([
      ['eosinophil', 1, false],
      ['mitotic figure', 2, true],
      ['non-mitotic figure (imposter)', 1, true],
    ]);
    expect(preview.warnings.join('\n')).toMatch(/1 file\(s\) that are not PNG, JPEG or TIFF/);
    expect(liveSlides()).toBe(0);
    expect(count('annotations')).toBe(0);
  });

  it('imports each crop as a slide with one point at its centre voted by the importing annotator; a second import adds nothing', async () => {
    const folder = tempFolder('mitobench-crops-');
    await writeCropsFolder(folder, classFolderCrops, 'class-folders');
    const { importer, store, catalog, actorId } = openProject();
    const { context, steps } = job();
    const report = await importer.import(folder, actorId, context);
    expect(report).toMatchObject({ cancelled: false, slidesAdded: 4, cells: 4, alreadyPresent: 0 });
    expect(report.createdClasses.map((entry) => entry.name)).toEqual(['eosinophil']);
    expect(steps.length).toBeGreaterThan(0);
    const classes = new Map(store.listClasses().map((entry) => [entry.id, entry.name]));
    const cells = catalog.list().map((slide) => {
      const [cell] = store.listForSlide(slide.id, { viewerId: actorId });
      return [slide.fileName, cell!.geometry, cell!.votes.map((vote) => [vote.annotatorId, classes.get(vote.classId)])];
    });
    expect(cells).toEqual(
      expect.arrayContaining([
        ['a.png', { shape: 'point', x: 32, y: 24 }, [[actorId, 'mitotic figure']]],
        ['b.jpg', { shape: 'point', x: 25, y: 25 }, [[actorId, 'mitotic figure']]],
        ['a.png', { shape: 'point', x: 16, y: 20 }, [[actorId, 'non-mitotic figure (imposter)']]],
        ['c.tif', { shape: 'point', x: 32, y: 24 }, [[actorId, 'eosinophil']]],
      ]),
    );
    // One change: one undo removes the whole import.
    expect(store.undo(actorId)?.annotationIds ?? []).toHaveLength(4);
    store.redo(actorId);
    const again = await importer.import(folder, actorId, job().context);
    expect(again).toMatchObject({ slidesAdded: 0, cells: 0, alreadyPresent: 4 });
  });

  it('reads images plus a CSV of file, label, annotator: one cell per image with each annotator\'s vote', async () => {
    const folder = tempFolder('mitobench-crops-');
    await writeCropsFolder(
      folder,
      [
        { relativePath: 'img/p1.png', label: 'mitotic figure', annotator: 'Dr. A' },
        { relativePath: 'img/p1.png', label: 'non-mitotic figure (imposter)', annotator: 'Dr. B' },
        { relativePath: 'img/p2.jpeg', label: 'atypical, "tripolar"', annotator: 'Dr. A' },
        { relativePath: 'img/p3.png', label: 'mitotic figure' },
      ],
      'csv',
    );
    const { importer, store, catalog, actorId } = openProject();
    const preview = await importer.preview(folder);
    expect(preview).toMatchObject({ layout: 'csv', csvFile: 'labels.csv', images: 3, cropsWithoutAnnotator: 1 });
    expect(preview.classes.map((entry) => [entry.name, entry.crops])).toEqual([
      ['mitotic figure', 2],
      ['non-mitotic figure (imposter)', 1],
      ['atypical, "tripolar"', 1],
    ]);
    expect(preview.annotators.map((entry) => [entry.name, entry.crops, entry.annotatorId])).toEqual([
      ['Dr. A', 2, null],
      ['Dr. B', 1, null],
    ]);
    const report = await importer.import(folder, actorId, job().context);
    expect(report).toMatchObject({ slidesAdded: 3, cells: 3 });
    expect(report.createdAnnotators.map((annotator) => annotator.name)).toEqual(['Dr. A', 'Dr. B']);
    const p1 = catalog.list().find((slide) => slide.fileName === 'p1.png')!;
    const [cell] = store.listForSlide(p1.id, { viewerId: actorId });
    expect(cell!.votes).toHaveLength(2);
  });

  it('names a corrupt image and a missing one, and an import with them writes nothing at all', async () => {
    const folder = tempFolder('mitobench-crops-');
    await writeCropsFolder(folder, classFolderCrops, 'class-folders');
    writeCorruptPng(path.join(folder, 'mitotic figure', 'broken.png'));
    const { importer, actorId, count, liveSlides, store } = openProject();
    const classesBefore = store.listClasses().length;
    const preview = await importer.preview(folder);
    expect(preview.images).toBe(5);
    expect(preview.unreadable).toEqual([{ relativePath: path.join('mitotic figure', 'broken.png'), reason: expect.stringMatching(/not a readable PNG, JPEG or TIFF image/) }]);

    let caught: unknown;
    await importer.import(folder, actorId, job().context).catch((error: unknown) => (caught = error));
    expect(caught).toBeInstanceOf(InteropError);
    expect((caught as InteropError).message).toContain(folder);
    expect((caught as InteropError).message).toMatch(/1 image\(s\) cannot be read: mitotic figure.broken\.png \(not a readable.*nothing was imported/);
    expect(liveSlides()).toBe(0);
    expect(count('annotations')).toBe(0);
    expect(store.listClasses()).toHaveLength(classesBefore);

    const csvFolder = tempFolder('mitobench-crops-csv-');
    await writeCropsFolder(csvFolder, [{ relativePath: 'x.png', label: 'mitotic figure' }], 'csv');
    fs.appendFileSync(path.join(csvFolder, 'labels.csv'), 'gone.png,mitotic figure\n');
    expect((await scanCropsFolder(csvFolder)).unreadable).toEqual([{ relativePath: 'gone.png', reason: 'file not found' }]);
  });

  it('a cancelled import removes the slides it added and writes no cell', async () => {
    const folder = tempFolder('mitobench-crops-');
    await writeCropsFolder(folder, classFolderCrops, 'class-folders');
    const { importer, actorId, count, liveSlides } = openProject();
    const { controller, context } = job();
    // Cancel once the slides are being added (the second half of the progress).
    const cancelling = { signal: context.signal, progress: (done: number, total: number | null) => (total !== null && done > total / 2 ? controller.abort() : undefined) };
    const report = await importer.import(folder, actorId, cancelling);
    expect(report.cancelled).toBe(true);
    expect(report.cells).toBe(0);
    expect(liveSlides()).toBe(0);
    expect(count('annotations')).toBe(0);
  });

  it('says what is wrong with a folder that is not a crops folder, or a CSV without the columns', async () => {
    const empty = tempFolder('mitobench-crops-empty-');
    await expect(scanCropsFolder(empty)).rejects.toThrow(/holds no crops: expected one sub-folder per class/);
    const badCsv = tempFolder('mitobench-crops-badcsv-');
    fs.writeFileSync(path.join(badCsv, 'labels.csv'), 'image,class\na.png,x\n');
    await expect(scanCropsFolder(badCsv)).rejects.toThrow(/labels\.csv: line 1: the header must name file and label/);
    await expect(scanCropsFolder(path.join(empty, 'absent'))).rejects.toThrow(/is not a readable folder/);
  });
});
