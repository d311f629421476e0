import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AnnotationStore } from '../../../src-main/services/annotations/AnnotationStore';
import { AnnotationImporter } from '../../../src-main/services/interop/AnnotationImporter';
import { formatForFile, midogJsonFormat, qupathGeoJsonFormat } from '../../../src-main/services/interop/annotationFormats';
import { parseQuPathGeoJson, readQuPathGeoJson } from '../../../src-main/services/interop/qupath/parseQuPathGeoJson';
import { serializeQuPathGeoJson } from '../../../src-main/services/interop/qupath/serializeQuPathGeoJson';
import { resolveSlideOfFile } from '../../../src-main/services/interop/singleSlideFiles';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { contentOf } from '../../fixtures/interopSamples';
import { qupathExportText, qupathLegacyText, sampleSingleSlideBundle } from '../../fixtures/qupathAsapSamples';
import { expectInteropError } from './expectInteropError';

const FILE = '/data/CMU-1.svs.geojson';

describe('QuPath GeoJSON', () => {
  it('round-trips a Mitobench bundle: cells, shapes, classes, colours, every vote, guids, slide and tags', () => {
    const bundle = sampleSingleSlideBundle('qupath-geojson');
    const text = serializeQuPathGeoJson(bundle, FILE);
    const back = parseQuPathGeoJson(text, '/elsewhere/renamed.json');
    expect(contentOf(back)).toEqual(contentOf(bundle));
    expect(back.sourceFormat).toBe('qupath-geojson');
  });

  it('writes what QuPath reads: Points and closed Polygons in pixels, the shown class with an RGB colour, UUID ids', () => {
    const document = JSON.parse(serializeQuPathGeoJson(sampleSingleSlideBundle('qupath-geojson'), FILE));
    expect(document.type).toBe('FeatureCollection');
    const [first, second, , circle, rectangle] = document.features;
    expect(first).toMatchObject({ type: 'Feature', id: '6f1c1c4e-4a8f-4b8e-9a55-2f0e0f6d3c11', geometry: { type: 'Point', coordinates: [1234.5, 678.25] } });
    // A 1:1 tie (the model's vote has no class): QuPath shows no class.
    expect(first.properties.classification).toBeUndefined();
    expect(first.properties.objectType).toBe('annotation');
    // A guid that is not a UUID is not given to QuPath as id.
    expect(second.id).toBeUndefined();
    expect(second.properties.classification).toEqual({ name: 'mitotic figure', color: [230, 25, 75] });
    expect(circle.geometry.type).toBe('Polygon');
    const ring = circle.geometry.coordinates[0];
    expect(ring[0]).toEqual(ring.at(-1));
    expect(ring).toHaveLength(65);
    expect(rectangle.geometry.coordinates[0]).toEqual([[700, 650], [900, 650], [900, 800], [700, 800], [700, 650]]);
  });

  it('reads a bare array of Features as QuPath exports it: MultiPoint → one cell per point, rectangles, classes with colours', () => {
    const { bundle, slideFrom } = readQuPathGeoJson(qupathExportText(), '/data/CMU-1.svs.geojson');
    expect(slideFrom).toBe('file name');
    expect(bundle.slides).toEqual([{ fileName: 'CMU-1.svs', tags: {} }]);
    expect(bundle.classes).toEqual([
      { name: 'Mitosis', colour: '#ff0000' },
      { name: 'Imposter', colour: '#0080ff' },
    ]);
    expect(bundle.annotators).toEqual([]);
    expect(bundle.cells).toHaveLength(6);
    expect(bundle.cells.slice(0, 3).map((cell) => cell.shape)).toEqual([
      { kind: 'point', x: 1200.5, y: 800 },
      { kind: 'point', x: 1300, y: 820.25 },
      { kind: 'point', x: 1410, y: 900 },
    ]);
    expect(new Set(bundle.cells.slice(0, 3).map((cell) => cell.guid)).size).toBe(3);
    expect(bundle.cells[0]).toMatchObject({ agreedClass: 'Mitosis', votes: [] });
    expect(bundle.cells[3]).toMatchObject({ guid: 'a0f3c7e2-5b1d-4e8a-9c6f-2d4b6a8c0e12', agreedClass: 'Imposter' });
    expect(bundle.cells[4]).toMatchObject({ shape: { kind: 'rectangle', x1: 100, y1: 100, x2: 400, y2: 300 }, description: 'ROI 1' });
    expect(bundle.cells[4]!.agreedClass).toBeUndefined();
    expect(bundle.cells[5]!.shape).toEqual({ kind: 'polygon', points: [{ x: 500, y: 500 }, { x: 560, y: 510 }, { x: 540, y: 580 }] });
    expect(bundle.warnings.join('\n')).toMatch(/annotation.*detection|detection.*annotation/);
    expect(bundle.warnings.join('\n')).toMatch(/1 line object/);
    expect(bundle.warnings.join('\n')).toMatch(/1 hole/);
    expect(bundle.warnings.join('\n')).toMatch(/does not name its image/);
  });

  it('reads QuPath 0.2 files: FeatureCollection, packed colorRGB, no ids', () => {
    const bundle = parseQuPathGeoJson(qupathLegacyText(), '/data/slide 7.json');
    expect(bundle.classes).toEqual([{ name: 'Mitosis', colour: '#ff0000' }]);
    expect(bundle.slides[0]!.fileName).toBe('slide 7');
    expect(bundle.cells.map((cell) => [cell.guid, cell.sourceId, cell.agreedClass])).toEqual([
      [undefined, 1, 'Mitosis'],
      [undefined, 2, undefined],
    ]);
  });

  it('takes the slide the caller chooses over the one the file names', () => {
    const text = serializeQuPathGeoJson(sampleSingleSlideBundle('qupath-geojson'), FILE);
    expect(readQuPathGeoJson(text, FILE).slideFrom).toBe('file');
    const chosen = readQuPathGeoJson(text, FILE, { slideFileName: 'other.ndpi' });
    expect(chosen.slideFrom).toBe('caller');
    expect(chosen.bundle.slides[0]!.fileName).toBe('other.ndpi');
  });

  it('refuses to write cells of several slides into one file', () => {
    const bundle = sampleSingleSlideBundle('qupath-geojson');
    bundle.slides.push({ fileName: 'two.svs', tags: {} });
    bundle.cells[1]!.slideIndex = 1;
    expectInteropError(() => serializeQuPathGeoJson(bundle, '/out/x.geojson'), '/out/x.geojson', 'slides', /one image.*2 slides/);
  });

  describe('malformed files name the file and the problem', () => {
    it('truncated JSON', () => {
      const text = qupathExportText();
      expectInteropError(() => parseQuPathGeoJson(text.slice(0, text.length / 2), FILE), FILE, /^line \d+, column \d+$/, /truncated/);
    });
    it('a Feature without geometry', () => {
      const features = JSON.parse(qupathExportText());
      delete features[1].geometry;
      expectInteropError(() => parseQuPathGeoJson(JSON.stringify(features), FILE), FILE, '[1].geometry', /no geometry/);
      features[1].geometry = null;
      expectInteropError(() => parseQuPathGeoJson(JSON.stringify(features), FILE), FILE, '[1].geometry', /null.*no geometry/);
    });
    it('wrong coordinate arity', () => {
      const features = JSON.parse(qupathExportText());
      features[0].geometry.coordinates[2] = [1410];
      expectInteropError(() => parseQuPathGeoJson(JSON.stringify(features), FILE), FILE, '[0].geometry.coordinates[2]', /\[x, y\].*has 1/);
      const collection = { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [1, 2, 3, 4] }, properties: {} }] };
      expectInteropError(() => parseQuPathGeoJson(JSON.stringify(collection), FILE), FILE, 'features[0].geometry.coordinates', /has 4/);
    });
    it('a polygon ring of two points, an unknown geometry type, a bad colour, a MIDOG file', () => {
      const ring = [{ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 1], [0, 0]]] } }];
      expectInteropError(() => parseQuPathGeoJson(JSON.stringify(ring), FILE), FILE, '[0].geometry.coordinates[0]', /at least 3/);
      const circle = [{ type: 'Feature', geometry: { type: 'Circle', coordinates: [0, 0] } }];
      expectInteropError(() => parseQuPathGeoJson(JSON.stringify(circle), FILE), FILE, '[0].geometry.type', /"Circle" is not supported/);
      const colour = [{ type: 'Feature', geometry: { type: 'Point', coordinates: [0, 0] }, properties: { classification: { name: 'A', color: [300, 0] } } }];
      expectInteropError(() => parseQuPathGeoJson(JSON.stringify(colour), FILE), FILE, '[0].properties.classification.color', /\[r, g, b\]/);
      expectInteropError(() => parseQuPathGeoJson('{"images": [], "annotations": [], "categories": []}', FILE), FILE, 'type', /MIDOG/);
    });
    it('a vote for a class the file does not have', () => {
      const document = JSON.parse(serializeQuPathGeoJson(sampleSingleSlideBundle('qupath-geojson'), FILE));
      document.features[0].properties.mitobench.votes[0].class = 'ghost';
      expectInteropError(() => parseQuPathGeoJson(JSON.stringify(document), FILE), FILE, 'features[0].properties.mitobench.votes[0].class', /"ghost"/);
    });
  });

  describe('recognised by content and extension', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-qupath-'));
    afterEach(() => undefined);
    it('a .json file is QuPath or MIDOG by its content; .geojson is QuPath', () => {
      const qupath = path.join(folder, 'a.json');
      fs.writeFileSync(qupath, qupathExportText());
      const midog = path.join(folder, 'b.json');
      fs.writeFileSync(midog, JSON.stringify({ images: [], categories: [], annotations: [] }));
      const collection = path.join(folder, 'c.json');
      fs.writeFileSync(collection, qupathLegacyText());
      expect(formatForFile(qupath)).toBe(qupathGeoJsonFormat);
      expect(formatForFile(midog)).toBe(midogJsonFormat);
      expect(formatForFile(collection)).toBe(qupathGeoJsonFormat);
      expect(formatForFile(path.join(folder, 'absent.geojson'))).toBe(qupathGeoJsonFormat);
      fs.rmSync(folder, { recursive: true, force: true });
    });
  });
});

describe('QuPath GeoJSON through the importer', () => {
  const folders: string[] = [];
  afterEach(() => {
    for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
  });

  function project() {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-qupath-import-'));
    folders.push(folder);
    const database = ProjectDatabase.create(path.join(folder, 'project'), 'qupath import');
    const store = new AnnotationStore(database.db);
    const catalog = new SlideCatalog(database.db);
    return { database, store, catalog, importer: new AnnotationImporter(database.db, store, catalog), actorId: store.ensureAnnotator('Importer').id };
  }

  it('matches the slide by name without extension, imports plain QuPath classes as the importer\'s votes', () => {
    const { database, store, catalog, importer, actorId } = project();
    const slideId = catalog.insertPlaceholder({ fileName: 'CMU-1.svs', width: 46000, height: 32914 });
    const parsed = readQuPathGeoJson(qupathExportText(), '/data/CMU-1.geojson');
    const { bundle, choice } = resolveSlideOfFile(parsed, catalog.list());
    expect(choice).toEqual({ from: 'file name', fileName: 'CMU-1.svs', slideId });
    const preview = importer.preview(bundle, { file: 'CMU-1.geojson' });
    expect(preview).toMatchObject({ cells: 6, votes: 5, agreedClassVotes: 5 });
    expect(preview.slides.matched).toEqual([{ fileName: 'CMU-1.svs', slideId, projectName: 'CMU-1.svs', cells: 6 }]);
    const report = importer.import(bundle, actorId, { file: 'CMU-1.geojson' });
    expect(report.cells).toBe(6);
    const cells = store.listForSlide(slideId, { viewerId: actorId });
    expect(cells).toHaveLength(6);
    // Importing the same file again adds nothing: QuPath ids (and derived guids) are recognised.
    expect(importer.preview(resolveSlideOfFile(readQuPathGeoJson(qupathExportText(), '/data/CMU-1.geojson'), catalog.list()).bundle).alreadyPresent).toBe(6);
    database.close();
  });

  it('a Mitobench export re-imported into a fresh project keeps every annotator\'s vote', () => {
    const { database, store, catalog, importer, actorId } = project();
    const text = serializeQuPathGeoJson(sampleSingleSlideBundle('qupath-geojson'), FILE);
    const parsed = readQuPathGeoJson(text, FILE);
    const { bundle, choice } = resolveSlideOfFile(parsed, catalog.list());
    expect(choice).toMatchObject({ from: 'file', fileName: 'CMU-1.svs', slideId: null });
    const report = importer.import(bundle, actorId, { file: FILE });
    expect(report.cells).toBe(7);
    const slideId = report.createdSlides[0]!.slideId;
    const names = new Map(store.listAnnotators().map((annotator) => [annotator.id, annotator.name]));
    const classes = new Map(store.listClasses().map((entry) => [entry.id, entry.name]));
    const first = store.listForSlide(slideId, { viewerId: actorId }).find((cell) => cell.guid === '6f1c1c4e-4a8f-4b8e-9a55-2f0e0f6d3c11')!;
    expect(first.votes.map((vote) => [names.get(vote.annotatorId), classes.get(vote.classId)]).sort()).toEqual([
      ['B. Bertram', 'non-mitotic figure (imposter)'],
      ['Dr. Ōta & "Co"', 'mitotic figure'],
    ]);
    expect(catalog.get(slideId)!.tags).toEqual(expect.arrayContaining([{ key: 'tumour', value: 'canine lymphoma' }]));
    database.close();
  });

  it('a chosen slide wins; a slide id not in the project is refused', () => {
    const { database, catalog } = project();
    const chosen = catalog.insertPlaceholder({ fileName: 'other.ndpi' });
    const parsed = readQuPathGeoJson(qupathExportText(), FILE);
    expect(resolveSlideOfFile(parsed, catalog.list(), chosen).choice).toEqual({ from: 'caller', fileName: 'other.ndpi', slideId: chosen });
    expectInteropError(() => resolveSlideOfFile(parsed, catalog.list(), 999), 'slide 999', '', /not a slide of this project/);
    database.close();
  });
});
