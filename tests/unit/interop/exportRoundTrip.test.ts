import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UserFacingError } from '../../../src-main/contract/errors';
import { AnnotationStore } from '../../../src-main/services/annotations/AnnotationStore';
import type { Geometry } from '../../../src-main/services/annotations/geometry';
import { AnnotationExporter, exportFormats, type ExportReport } from '../../../src-main/services/interop/AnnotationExporter';
import { AnnotationImporter } from '../../../src-main/services/interop/AnnotationImporter';
import { annotationFormats } from '../../../src-main/services/interop/annotationFormats';
import { InteropError } from '../../../src-main/services/interop/InteropError';
import { ProjectDatabase } from '../../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../../src-main/services/slides/SlideCatalog';
import { hamamatsuSqlitePath, hasSharedAnnotations, warnWhenSharedAnnotationsAbsent } from '../../fixtures/sharedAnnotations';
import { slideRow } from '../../fixtures/slideRows';

warnWhenSharedAnnotationsAbsent('The export round trips of MIDOG_HamamatsuXR.sqlite');

/** A project on disk, opened as the app opens it, with the services the export and import use. */
class Project {
  readonly project: ProjectDatabase;
  readonly store: AnnotationStore;
  readonly catalog: SlideCatalog;
  readonly importer: AnnotationImporter;
  readonly exporter: AnnotationExporter;

  constructor(readonly folder: string) {
    this.project = ProjectDatabase.create(folder, path.basename(folder));
    this.store = new AnnotationStore(this.project.db);
    this.catalog = new SlideCatalog(this.project.db);
    this.importer = new AnnotationImporter(this.project.db, this.store, this.catalog);
    this.exporter = new AnnotationExporter(this.project.db, this.store, this.catalog, { protectedFiles: [this.project.file] });
  }

  /** Imports a file as a person named "Importer" (who casts no vote unless a cell has a class but no voter). */
  importFile(file: string, formatId: string): void {
    const format = annotationFormats.find((candidate) => candidate.id === formatId)!;
    const actor = this.store.ensureAnnotator('Importer');
    this.importer.import(format.readFile(file), actor.id, { file });
  }

  slideId(fileName: string): number {
    return this.catalog.list().find((slide) => slide.fileName === fileName)!.id;
  }

  close(): void {
    this.project.close();
  }
}

interface CellView {
  slide: string;
  geometry: Geometry;
  creator: string;
  guid: string;
  /** "annotator: class", sorted. */
  votes: string[];
}

interface ProjectView {
  cells: CellView[];
  /** "name colour" of live classes, sorted. */
  classes: string[];
  /** "name (kind)" of annotators with a vote or a cell, sorted. */
  annotators: string[];
  tags: Record<string, Record<string, string>>;
}

/** Everything a round trip must keep, by names (ids differ between projects). */
function viewOf(project: Project, slideNames?: string[]): ProjectView {
  const annotators = project.store.listAnnotators();
  const nameOf = new Map(annotators.map((annotator) => [annotator.id, annotator]));
  const classOf = new Map(project.store.listClasses({ includeDeleted: true }).map((entry) => [entry.id, entry.name]));
  const cells: CellView[] = [];
  const involved = new Set<number>();
  const tags: ProjectView['tags'] = {};
  for (const slide of project.catalog.list()) {
    if (slideNames && !slideNames.includes(slide.fileName)) continue;
    tags[slide.fileName] = Object.fromEntries(slide.tags.map((tag) => [tag.key, tag.value]));
    for (const annotation of project.store.listForSlide(slide.id, { viewerId: annotators[0]!.id })) {
      involved.add(annotation.createdBy);
      annotation.votes.forEach((vote) => involved.add(vote.annotatorId));
      cells.push({
        slide: slide.fileName,
        geometry: annotation.geometry,
        creator: nameOf.get(annotation.createdBy)!.name,
        guid: annotation.guid,
        votes: annotation.votes.map((vote) => `${nameOf.get(vote.annotatorId)!.name}: ${classOf.get(vote.classId)}`).sort(),
      });
    }
  }
  const key = (cell: CellView) => `${cell.slide} ${JSON.stringify(cell.geometry)}`;
  cells.sort((a, b) => key(a).localeCompare(key(b)));
  return {
    cells,
    classes: project.store
      .listClasses()
      .map((entry) => `${entry.name} ${entry.colour}`)
      .sort(),
    annotators: annotators
      .filter((annotator) => involved.has(annotator.id))
      .map((annotator) => `${annotator.name} (${annotator.kind})`)
      .sort(),
    tags,
  };
}

/** What a format keeps: all formats keep cells, votes and class names; only some keep more. */
interface Keeps {
  guid: boolean;
  creator: boolean;
  colours: boolean;
  tags: boolean;
}

function comparable(view: ProjectView, keeps: Keeps): ProjectView {
  return {
    cells: view.cells.map((cell) => ({ ...cell, guid: keeps.guid ? cell.guid : '', creator: keeps.creator ? cell.creator : '' })),
    classes: view.classes.map((entry) => (keeps.colours ? entry : entry.replace(/ #[0-9a-f]{6}$/, ''))),
    annotators: view.annotators,
    tags: keeps.tags ? view.tags : {},
  };
}

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-export-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let folderCount = 0;
function newFolder(name: string): string {
  folderCount += 1;
  return path.join(root, `${name}-${folderCount}`);
}

/**
 * Three slides: points (every format), boxes (rectangles: SlideRunner and MIDOG), regions
 * (circle, polygon, a 1:1 tie and a class-less model candidate: SlideRunner only).
 */
function labelledProject(): Project {
  const project = new Project(newFolder('source'));
  const { store, catalog } = project;
  const points = catalog.insert(slideRow('points.svs'));
  const boxes = catalog.insert(slideRow('boxes.svs', { width: 5000, height: 4000 }));
  const regions = catalog.insert(slideRow('regions.svs'));
  catalog.setTags(points, [
    { key: 'tumour', value: 'canine lymphoma' },
    { key: 'scanner', value: 'Aperio GT450' },
  ]);
  catalog.setTags(boxes, [{ key: 'tumour', value: 'human breast cancer' }]);

  const ana = store.ensureAnnotator('Ana Gomez').id;
  const ben = store.ensureAnnotator('Ben Okafor').id;
  const chiara = store.ensureAnnotator('Chiara Rossi').id;
  const model = store.ensureAnnotator('RetinaNet', 'model').id;
  const [mitotic, imposter] = store.listClasses();
  const atypical = store.createClass({ name: 'atypical mitosis', colour: '#12a4b6', hotkey: 'a' }).id;

  const point = (x: number, y: number): Geometry => ({ shape: 'point', x, y });
  // Agreed by two people.
  const agreed = store.createAnnotation(points, point(1000, 2000), ana, mitotic!.id).id;
  store.setVote(agreed, ben, mitotic!.id);
  // 2:1 disagreement, half-pixel centre.
  const majority = store.createAnnotation(points, point(1500.5, 2200.5), ana, imposter!.id).id;
  store.setVote(majority, ben, mitotic!.id);
  store.setVote(majority, chiara, mitotic!.id);
  // The user-made class, with a model voting otherwise.
  const made = store.createAnnotation(points, point(3000, 900), ben, atypical).id;
  store.setVote(made, ana, atypical);
  store.setVote(made, model, imposter!.id);
  // A model's detection that a person confirmed; the model is its creator.
  const detected = store.createAnnotation(points, point(4200, 4100), model, mitotic!.id).id;
  store.setVote(detected, chiara, mitotic!.id);
  // Created by Ana, who then cleared her vote; Ben's vote remains.
  const cleared = store.createAnnotation(points, point(5000, 100), ana, imposter!.id).id;
  store.setVote(cleared, ben, imposter!.id);
  store.clearVote(cleared, ana);
  // Deleted: never exported.
  const gone = store.createAnnotation(points, point(7000, 7000), ana, mitotic!.id).id;
  store.delete(gone, ana);

  const box = store.createAnnotation(boxes, { shape: 'rectangle', x: 100, y: 200, width: 64, height: 48 }, chiara, atypical).id;
  store.setVote(box, ana, imposter!.id);
  store.setVote(box, ben, atypical);
  store.createAnnotation(boxes, point(2500, 2500), ben, imposter!.id);

  store.createAnnotation(regions, { shape: 'circle', x: 800, y: 900, radius: 40 }, chiara, mitotic!.id);
  const polygon = store.createAnnotation(
    regions,
    { shape: 'polygon', points: [[10, 10], [400, 20], [380, 300], [15, 280]] },
    ana,
    imposter!.id,
  ).id;
  store.setVote(polygon, chiara, imposter!.id);
  const tie = store.createAnnotation(regions, point(600, 600), ana, mitotic!.id).id;
  store.setVote(tie, ben, imposter!.id);
  store.createAnnotation(regions, point(650, 640), model, null);
  return project;
}

const extensionOf: Record<string, string> = { 'midog-json': '.json', 'sliderunner-sqlite': '.sqlite', csv: '.csv' };

describe('export, then import into a fresh project', () => {
  let source: Project;
  beforeEach(() => {
    source = labelledProject();
  });
  afterEach(() => source.close());

  const cases: Array<{ formatId: string; slides: string[]; keeps: Keeps }> = [
    { formatId: 'sliderunner-sqlite', slides: ['points.svs', 'boxes.svs', 'regions.svs'], keeps: { guid: true, creator: true, colours: true, tags: false } },
    // MIDOG labels are by annotator position, so the creator (first voter) is not kept; boxes hold points and rectangles.
    { formatId: 'midog-json', slides: ['points.svs', 'boxes.svs'], keeps: { guid: false, creator: false, colours: false, tags: true } },
    { formatId: 'csv', slides: ['points.svs'], keeps: { guid: false, creator: true, colours: false, tags: false } },
  ];

  it.each(cases)('$formatId keeps every cell, class and vote of $slides', ({ formatId, slides, keeps }) => {
    const file = path.join(newFolder('out'), `labels${extensionOf[formatId]}`);
    fs.mkdirSync(path.dirname(file));
    const slideIds = slides.map((name) => source.slideId(name));
    const report = source.exporter.export({ path: file, formatId, slideIds });

    const before = viewOf(source, slides);
    expect(report).toMatchObject<Partial<ExportReport>>({
      path: file,
      format: formatId,
      cells: before.cells.length,
      votes: before.cells.reduce((sum, cell) => sum + cell.votes.length, 0),
      slides: slides.length,
      bytes: fs.statSync(file).size,
    });
    expect(before.cells.length).toBeGreaterThanOrEqual(5);

    const fresh = new Project(newFolder(`fresh-${formatId}`));
    try {
      fresh.importFile(file, formatId);
      const after = viewOf(fresh);
      expect(comparable(after, keeps)).toEqual(comparable(before, keeps));
      // The user-made class arrives with its name, and with its colour where the format has colours.
      expect(fresh.store.listClasses().find((entry) => entry.name === 'atypical mitosis')?.colour === '#12a4b6').toBe(keeps.colours);
      expect(after.annotators).toContain('RetinaNet (model)');
    } finally {
      fresh.close();
    }
  });

  it('MIDOG JSON states the agreed or majority class as category, the tumour tag as tumor_type, and every vote by position', () => {
    const file = path.join(root, 'midog-content.json');
    source.exporter.export({ path: file, formatId: 'midog-json', slideIds: [source.slideId('points.svs')] });
    const document = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      images: Array<Record<string, unknown>>;
      categories: Array<{ id: number; name: string }>;
      annotations: Array<{ bbox: number[]; category_id: number; labels?: Array<number | null> }>;
      mitobench_annotators?: Array<{ name: string; kind: string }>;
    };
    expect(document.images).toEqual([
      expect.objectContaining({ file_name: 'points.svs', width: 100_000, height: 80_000, tumor_type: 'canine lymphoma', scanner: 'Aperio GT450' }),
    ]);
    const category = (id: number) => document.categories.find((entry) => entry.id === id)!.name;
    const majority = document.annotations.find((annotation) => annotation.bbox[0] === 1475.5)!;
    expect(majority.bbox).toEqual([1475.5, 2175.5, 1525.5, 2225.5]);
    expect(category(majority.category_id)).toBe('mitotic figure');
    expect(majority.labels!.filter((label) => label !== null)).toHaveLength(3);
    expect(document.mitobench_annotators!.map((annotator) => annotator.name)).toEqual(['Ana Gomez', 'Ben Okafor', 'Chiara Rossi', 'RetinaNet']);
  });

  it('only the chosen slides are written; all slides by default', () => {
    const file = path.join(root, 'every-slide.sqlite');
    const report = source.exporter.export({ path: file, formatId: 'sliderunner-sqlite' });
    expect(report.slides).toBe(3);
    expect(report.cells).toBe(viewOf(source).cells.length);
    const points = source.exporter.export({ path: path.join(root, 'points-only.csv'), formatId: 'csv', slideIds: [source.slideId('points.svs')] });
    expect(points.slides).toBe(1);
    expect(fs.readFileSync(points.path, 'utf8')).not.toContain('boxes.svs');
  });

  it('the format follows the file extension when none is named', () => {
    const report = source.exporter.export({ path: path.join(root, 'by-extension.csv'), slideIds: [source.slideId('points.svs')] });
    expect(report.format).toBe('csv');
    expect(fs.readFileSync(report.path, 'utf8').split('\r\n')[0]).toBe('x,y,label,slide,annotator');
  });

  // Formats registered beside the three above (e.g. QuPath GeoJSON, ASAP XML) hold one slide's cells per file.
  const otherFormats = exportFormats().filter((format) => !(format.id in extensionOf));
  it.skipIf(otherFormats.length === 0).each(otherFormats.map((format) => ({ formatId: format.id, extension: format.fileExtensions[0]! })))(
    '$formatId keeps the cells and votes of one slide',
    ({ formatId, extension }) => {
      const file = path.join(newFolder('out'), `points.svs${extension}`);
      fs.mkdirSync(path.dirname(file));
      source.exporter.export({ path: file, formatId, slideIds: [source.slideId('points.svs')] });
      const fresh = new Project(newFolder(`fresh-${formatId}`));
      try {
        fresh.catalog.insert(slideRow('points.svs'));
        fresh.importFile(file, formatId);
        const keeps = { guid: false, creator: false, colours: false, tags: false };
        const after = comparable(viewOf(fresh), keeps);
        const before = comparable(viewOf(source, ['points.svs']), keeps);
        expect(after.cells).toEqual(before.cells);
      } finally {
        fresh.close();
      }
    },
  );
});

describe('export errors name the file and change nothing', () => {
  let source: Project;
  let dir: string;
  beforeEach(() => {
    source = labelledProject();
    dir = newFolder('errors');
    fs.mkdirSync(dir);
  });
  afterEach(() => source.close());

  function expectUserError(action: () => unknown, code: string, ...parts: string[]): void {
    let thrown: unknown;
    try {
      action();
    } catch (error) {
      thrown = error;
    }
    expect(thrown, 'the export should have failed').toBeInstanceOf(UserFacingError);
    expect((thrown as UserFacingError).code).toBe(code);
    for (const part of parts) expect((thrown as Error).message).toContain(part);
  }

  it('an existing file without overwrite stays byte-identical; with overwrite it is replaced whole', () => {
    const file = path.join(dir, 'labels.json');
    const original = Buffer.from('{"keep": "these exact bytes"}\n');
    fs.writeFileSync(file, original);
    for (const formatId of ['midog-json', 'csv', 'sliderunner-sqlite']) {
      expectUserError(() => source.exporter.export({ path: file, formatId }), 'file-exists', file, 'already exists');
      expect(fs.readFileSync(file).equals(original)).toBe(true);
    }
    expect(fs.readdirSync(dir)).toEqual(['labels.json']);

    const report = source.exporter.export({ path: file, formatId: 'midog-json', slideIds: [source.slideId('points.svs')], overwrite: true });
    expect(report.cells).toBe(5);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).annotations).toHaveLength(5);
    expect(fs.readdirSync(dir)).toEqual(['labels.json']);
  });

  it('a folder that does not exist, or is a file, is refused before anything is written', () => {
    const missing = path.join(dir, 'no such folder', 'labels.csv');
    expectUserError(() => source.exporter.export({ path: missing, formatId: 'csv' }), 'unwritable', missing, 'does not exist');
    const plainFile = path.join(dir, 'plain.txt');
    fs.writeFileSync(plainFile, 'x');
    const inside = path.join(plainFile, 'labels.csv');
    expectUserError(() => source.exporter.export({ path: inside, formatId: 'csv' }), 'unwritable', inside, 'is not a folder');
    expect(fs.readdirSync(dir)).toEqual(['plain.txt']);
  });

  const isRoot = process.getuid?.() === 0;
  if (isRoot) console.warn('export to a read-only folder: skipped, because root may write into any folder (run the tests as a user)');
  it.skipIf(isRoot)('a read-only folder gives "cannot be written" and leaves no temporary file', () => {
    const readOnly = path.join(dir, 'read-only');
    fs.mkdirSync(readOnly);
    fs.chmodSync(readOnly, 0o555);
    try {
      const file = path.join(readOnly, 'labels.sqlite');
      expectUserError(() => source.exporter.export({ path: file, formatId: 'sliderunner-sqlite' }), 'unwritable', file, 'cannot be written');
      expect(fs.readdirSync(readOnly)).toEqual([]);
    } finally {
      fs.chmodSync(readOnly, 0o755);
    }
  });

  it('an unknown format, or a file name that names none, is refused with the known formats', () => {
    const file = path.join(dir, 'labels.json');
    expectUserError(() => source.exporter.export({ path: file, formatId: 'cvat-xml' }), 'invalid-argument', file, '"cvat-xml"', 'midog-json', 'csv');
    const noExtension = path.join(dir, 'labels');
    expectUserError(() => source.exporter.export({ path: noExtension }), 'invalid-argument', noExtension, 'choose the format');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a cell the format cannot hold is named by slide and position, and nothing is written', () => {
    const file = path.join(dir, 'regions.json');
    let thrown: unknown;
    try {
      source.exporter.export({ path: file, formatId: 'midog-json', slideIds: [source.slideId('regions.svs')] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InteropError);
    expect((thrown as InteropError).file).toBe(file);
    expect((thrown as Error).message).toMatch(/^.*regions\.json: cell \d+ at \(800, 900\) on "regions\.svs" \(shape\): .*circle cannot be written/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('MIDOG JSON refuses a 1:1 tie (no class to state), naming the cell; SlideRunner keeps both votes', () => {
    const slide = source.catalog.insert(slideRow('tie.svs'));
    const [ana, ben] = source.store.listAnnotators();
    const [mitotic, imposter] = source.store.listClasses();
    const tie = source.store.createAnnotation(slide, { shape: 'point', x: 10, y: 20 }, ana!.id, mitotic!.id).id;
    source.store.setVote(tie, ben!.id, imposter!.id);
    const file = path.join(dir, 'tie.json');
    expect(() => source.exporter.export({ path: file, formatId: 'midog-json', slideIds: [slide] })).toThrow(
      `${file}: cell ${tie} at (10, 20) on "tie.svs" (agreedClass): MIDOG JSON needs a class for every cell`,
    );
    expect(fs.existsSync(file)).toBe(false);
    expect(source.exporter.export({ path: path.join(dir, 'tie.sqlite'), formatId: 'sliderunner-sqlite', slideIds: [slide] }).votes).toBe(2);
  });

  it('an unknown slide id and the project database itself are refused', () => {
    const file = path.join(dir, 'labels.csv');
    expectUserError(() => source.exporter.export({ path: file, formatId: 'csv', slideIds: [9999] }), 'not-found', file, 'slide 9999');
    const database = source.project.file;
    const before = fs.readFileSync(database);
    expectUserError(
      () => source.exporter.export({ path: database, formatId: 'sliderunner-sqlite', overwrite: true }),
      'invalid-argument',
      database,
      "project's own database",
    );
    expect(source.store.listAnnotators().length).toBeGreaterThan(0);
    expect(fs.readFileSync(database).length).toBe(before.length);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe.skipIf(!hasSharedAnnotations)('MIDOG_HamamatsuXR.sqlite through the project and back', () => {
  let source: Project;
  beforeAll(() => {
    source = new Project(newFolder('hamamatsu'));
    source.importFile(hamamatsuSqlitePath, 'sliderunner-sqlite');
  });
  afterAll(() => source.close());

  it.each([
    { formatId: 'sliderunner-sqlite', keeps: { guid: true, creator: true, colours: true, tags: true } },
    { formatId: 'midog-json', keeps: { guid: false, creator: false, colours: false, tags: true } },
  ])('$formatId: the same 1,175 cells, classes and votes', ({ formatId, keeps }) => {
    const before = viewOf(source);
    expect(before.cells).toHaveLength(1175);
    const file = path.join(root, `hamamatsu-again${extensionOf[formatId]}`);
    const report = source.exporter.export({ path: file, formatId });
    expect(report).toMatchObject({ cells: 1175, slides: 50 });
    console.info(`MIDOG_HamamatsuXR exported as ${formatId}: ${report.cells} cells, ${report.votes} votes, ${report.bytes} bytes in ${report.ms.toFixed(0)} ms`);

    const fresh = new Project(newFolder(`hamamatsu-${formatId}`));
    try {
      fresh.importFile(file, formatId);
      const after = viewOf(fresh);
      expect(after.cells).toHaveLength(1175);
      expect(comparable(after, keeps)).toEqual(comparable(before, keeps));
      expect(after.classes.map((entry) => entry.replace(/ #[0-9a-f]{6}$/, ''))).toEqual(
        expect.arrayContaining(['Mitose', 'Hard negative']),
      );
    } finally {
      fresh.close();
    }
  });
});
