import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AnnotationStore } from '../../../src-main/services/annotations/AnnotationStore';
import { AnnotationImporter } from '../../../src-main/services/interop/AnnotationImporter';
import { asapXmlFormat, formatForFile } from '../../../src-main/services/interop/annotationFormats';
import { parseAsapXml, readAsapXml } from '../../../src-main/services/interop/asap/parseAsapXml';
import { serializeAsapXml } from '../../../src-main/services/interop/asap/serializeAsapXml';
import { readXml } from '../../../src-main/services/interop/asap/xmlReader';
import { resolveSlideOfFile } from '../../../src-main/services/interop/singleSlideFiles';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { contentOf } from '../../fixtures/interopSamples';
import { asapExportText, sampleSingleSlideBundle } from '../../fixtures/qupathAsapSamples';
import { expectInteropError } from './expectInteropError';

const FILE = '/data/CMU-1.xml';

describe('ASAP XML', () => {
  it('round-trips a Mitobench bundle: cells, shapes, classes, colours, every vote, guids, slide and tags', () => {
    const bundle = sampleSingleSlideBundle('asap-xml');
    const text = serializeAsapXml(bundle, FILE);
    const back = parseAsapXml(text, '/elsewhere/renamed.xml');
    expect(contentOf(back)).toEqual(contentOf(bundle));
    expect(back.sourceFormat).toBe('asap-xml');
  });

  it('writes what ASAP reads: Dot/Rectangle/Polygon with ordered coordinates, PartOfGroup and coloured groups', () => {
    const root = readXml(serializeAsapXml(sampleSingleSlideBundle('asap-xml'), FILE), FILE);
    expect(root.name).toBe('ASAP_Annotations');
    const annotations = root.children.find((child) => child.name === 'Annotations')!.children;
    expect(annotations.map((annotation) => annotation.attributes.get('Type'))).toEqual(['Dot', 'Dot', 'Dot', 'Polygon', 'Rectangle', 'Polygon', 'Polygon']);
    // A 1:1 tie shows no class in ASAP; an agreed class does.
    expect(annotations[0]!.attributes.get('PartOfGroup')).toBe('None');
    expect(annotations[1]!.attributes.get('PartOfGroup')).toBe('mitotic figure');
    const dot = annotations[0]!.children.find((child) => child.name === 'Coordinates')!.children[0]!;
    expect(Object.fromEntries(dot.attributes)).toEqual({ Order: '0', X: '1234.5', Y: '678.25' });
    const groups = root.children.find((child) => child.name === 'AnnotationGroups')!.children;
    expect(groups.map((group) => [group.attributes.get('Name'), group.attributes.get('Color')])).toEqual([
      ['mitotic figure', '#E6194B'],
      ['non-mitotic figure (imposter)', '#3CB4E6'],
      ['tumour region', undefined],
    ]);
  });

  it('reads a file as ASAP writes it: comments, both quote styles, entities, Order, PointSet, Spline', () => {
    const { bundle, slideFrom } = readAsapXml(asapExportText(), FILE);
    expect(slideFrom).toBe('file name');
    expect(bundle.slides).toEqual([{ fileName: 'CMU-1', tags: {} }]);
    expect(bundle.classes).toEqual([
      { name: 'mitotic figure', colour: '#64fe2e' },
      { name: 'hard & negative', colour: '#0000ff' },
    ]);
    expect(bundle.cells.map((cell) => [cell.shape, cell.agreedClass, cell.sourceId])).toEqual([
      [{ kind: 'point', x: 1234.5, y: 678 }, 'mitotic figure', 1],
      [{ kind: 'point', x: 10, y: 11 }, 'hard & negative', 2],
      [{ kind: 'point', x: 20, y: 21 }, 'hard & negative', 2],
      [{ kind: 'rectangle', x1: 100, y1: 200, x2: 300, y2: 400 }, undefined, 3],
      [{ kind: 'polygon', points: [{ x: 0, y: 0 }, { x: 50, y: 5 }, { x: 25, y: 40 }] }, 'mitotic figure', 4],
    ]);
    expect(bundle.cells[3]!.description).toBe('Tumour A');
    expect(bundle.warnings.join('\n')).toMatch(/1 Spline/);
  });

  describe('malformed files name the file and the problem', () => {
    it('XML that is not ASAP', () => {
      expectInteropError(() => parseAsapXml('<?xml version="1.0"?><Annotations></Annotations>', FILE), FILE, '<Annotations>', /not an ASAP annotation file/);
      expectInteropError(() => parseAsapXml('{"type": "FeatureCollection"}', FILE), FILE, 'line 1, column 1', /text outside the root element/);
    });
    it('an unclosed tag and a truncated file', () => {
      const text = asapExportText();
      expectInteropError(() => parseAsapXml(text.replace('</Coordinates>\n\t\t</Annotation>\n\t\t<Annotation Name=\'Annotation 1\'', '</Coordinates>\n\t\t<Annotation Name=\'Annotation 1\''), FILE), FILE, /^line \d+, column \d+$/, /<\/Annotations> closes <Annotation> opened at line 5/);
      expectInteropError(() => parseAsapXml(text.slice(0, 400), FILE), FILE, /^line \d+, column \d+$/, /truncated/);
      expectInteropError(() => parseAsapXml('<ASAP_Annotations><Annotations>', FILE), FILE, /^line 1/, /<Annotations> opened at line 1, column 19 is never closed/);
    });
    it('an unknown annotation Type, wrong coordinate counts, a bad number, an unknown entity', () => {
      const text = asapExportText();
      expectInteropError(() => parseAsapXml(text.replace('Type="Dot"', 'Type="Ellipse"'), FILE), FILE, 'Annotations/Annotation[0]', /unknown annotation Type "Ellipse"/);
      expectInteropError(() => parseAsapXml(text.replace('Type="Rectangle"', 'Type="Dot"'), FILE), FILE, 'Annotations/Annotation[2]', /a Dot has 1 coordinate, this one has 4/);
      expectInteropError(() => parseAsapXml(text.replace('X="1234.5"', 'X="12a"'), FILE), FILE, 'Annotations/Annotation[0]/Coordinates/Coordinate[0]', /X="12a" is not a number/);
      expectInteropError(() => parseAsapXml(text.replace('&amp; negative\' Color', '&nbsp; negative\' Color'), FILE), FILE, /^line 10/, /unknown entity "&nbsp;"/);
    });
    it('a vote for a class that is not a group', () => {
      const text = serializeAsapXml(sampleSingleSlideBundle('asap-xml'), FILE).replace('Class="tumour region"', 'Class="ghost"');
      expectInteropError(() => parseAsapXml(text, FILE), FILE, /^Annotations\/Annotation\[\d\]\/Mitobench\/Vote\[0\]$/, /"ghost"/);
    });
  });

  it('is recognised by content, whatever the extension', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-asap-'));
    const file = path.join(folder, 'labels.txt');
    fs.writeFileSync(file, asapExportText());
    expect(formatForFile(file)).toBe(asapXmlFormat);
    expect(formatForFile(path.join(folder, 'absent.xml'))).toBe(asapXmlFormat);
    fs.rmSync(folder, { recursive: true, force: true });
  });
});

describe('ASAP XML through the importer', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-asap-import-'));
  afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

  it('previews and imports a plain ASAP file onto the slide named like it; a Mitobench export keeps every vote', () => {
    const database = ProjectDatabase.create(path.join(folder, 'project'), 'asap import');
    const store = new AnnotationStore(database.db);
    const catalog = new SlideCatalog(database.db);
    const importer = new AnnotationImporter(database.db, store, catalog);
    const actorId = store.ensureAnnotator('Importer').id;
    const slideId = catalog.insertPlaceholder({ fileName: 'CMU-1.tiff', width: 1000, height: 1000 });

    const { bundle, choice } = resolveSlideOfFile(readAsapXml(asapExportText(), FILE), catalog.list());
    expect(choice).toEqual({ from: 'file name', fileName: 'CMU-1.tiff', slideId });
    const preview = importer.preview(bundle, { file: FILE });
    expect(preview).toMatchObject({ cells: 5, votes: 4, agreedClassVotes: 4 });
    expect(preview.classes.map((entry) => [entry.name, entry.votes, entry.projectClass])).toEqual([
      ['mitotic figure', 2, expect.objectContaining({ name: 'mitotic figure' })],
      ['hard & negative', 2, null],
    ]);
    expect(importer.import(bundle, actorId, { file: FILE }).cells).toBe(5);
    expect(store.listForSlide(slideId, { viewerId: actorId })).toHaveLength(5);

    const exported = serializeAsapXml(sampleSingleSlideBundle('asap-xml'), '/out/CMU-1.svs.xml');
    const again = resolveSlideOfFile(readAsapXml(exported, '/out/anything.xml'), catalog.list());
    expect(again.choice).toEqual({ from: 'file', fileName: 'CMU-1.svs', slideId: null });
    const report = importer.import(again.bundle, actorId, { file: 'anything.xml' });
    expect(report.cells).toBe(7);
    // 8 class votes of the three annotators, plus the agreed class of the cell nobody voted on, as the importer's vote.
    expect(report.votes).toBe(8 + 1);
    expect(report.createdAnnotators.map((annotator) => [annotator.name, annotator.kind])).toEqual([
      ['Dr. Ōta & "Co"', 'person'],
      ['B. Bertram', 'person'],
      ['RetinaNet', 'model'],
    ]);
    database.close();
  });
});
