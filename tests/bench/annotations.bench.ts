/**
 * Annotation store: viewport queries at 100,000 and 1,000,000 cells on one slide, the latency
 * of a durable label write, each beside a baseline measured in the same run, and the import of
 * the real MIDOG++.json.
 *
 *   npx tsx tests/bench/annotations.bench.ts [--sizes 100000,1000000] [--orders random,fields] [--keep] [--no-midog]
 *
 * VIEWPORT: 200 random 2000×1200 level-0 viewports on a 100,000×80,000 slide, answered by
 * AnnotationStore.queryRect (points from the covering index annotations_points_by_place, regions
 * from their R*Tree, exact refinement, votes, consensus; on a schema before 6, the R*Tree joined to
 * rows and votes). Baseline: the bare R*Tree count of the same window in SQL, the floor of any
 * index query. For reference, the SQL alone of the R*Tree join that answered queries before
 * migration 006 is timed on the same viewports.
 * Queries run on the project reopened as the app opens it (SQLite's default 2 MB page cache),
 * then again with a 64 MB page cache set by this script, to show what a larger cache buys.
 * WRITE: 1,000 setVote calls (each its own IMMEDIATE transaction with history, WAL,
 * synchronous=FULL). Baseline: 1,000 one-row INSERT commits into a scratch table of the same
 * database, i.e. the disk's cost of one durable commit.
 * The cells are written by importAnnotations in chunks of 50,000 with a 256 MB page cache
 * (filling is set-up, not what is measured; its time is printed for information).
 * MIDOG++ IMPORT: ../shared/data/annotations/MIDOG++.json (26,286 cells, 553 images) parsed and
 * imported by AnnotationImporter into a fresh project, 3 times; skipped, saying why, when the file
 * is absent.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AnnotationStore, type ImportedAnnotation } from '../../src-main/services/annotations/AnnotationStore';
import { AnnotationImporter } from '../../src-main/services/interop/AnnotationImporter';
import { parseMidogJson } from '../../src-main/services/interop/midog/parseMidogJson';
import { ProjectDatabase } from '../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../src-main/services/slides/SlideCatalog';
import { midogPlusPlusJsonPath } from '../fixtures/sharedAnnotations';
import { slideRow } from '../fixtures/slideRows';
import { seededRandom } from '../../src-main/services/random/seededRandom';

const SLIDE = { width: 100_000, height: 80_000 };
const VIEWPORT = { width: 2000, height: 1200 };
const VIEWPORTS = 200;
const WRITES = 1000;
const IMPORT_CHUNK = 50_000;

const args = process.argv.slice(2);
const sizesArgument = args[args.indexOf('--sizes') + 1];
const sizes = args.includes('--sizes') && sizesArgument ? sizesArgument.split(',').map(Number) : [100_000, 1_000_000];
const keep = args.includes('--keep');
const midog = !args.includes('--no-midog');
const MIDOG_ROUNDS = 3;
type Order = 'random' | 'fields';
const ordersArgument = args[args.indexOf('--orders') + 1];
const orders = (args.includes('--orders') && ordersArgument ? ordersArgument.split(',') : ['random', 'fields']) as Order[];

const random = seededRandom(12345);

function percentiles(samples: number[]): { p50: number; p95: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p95: at(0.95), max: sorted.at(-1)! };
}

const ms = (value: number) => `${value.toFixed(3)} ms`;

function timed(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

function newProject(label: string): { folder: string; project: ProjectDatabase; slideId: number } {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), `mitobench-bench-${label}-`));
  const project = ProjectDatabase.create(path.join(folder, 'project'), `bench ${label}`);
  const slideId = new SlideCatalog(project.db).insert(slideRow('bench.svs', SLIDE));
  return { folder, project, slideId };
}

/**
 * Where the cells lie, in the order they are written. 'random': uniformly scattered in time and
 * space (the worst case for the database's page locality). 'fields': the same kind of scatter,
 * written field by field in raster order of 2048-px fields, as a detector (the only source of a
 * million cells on one slide) or a person screening a slide writes them.
 */
function cellPositions(count: number, order: Order): { x: number; y: number }[] {
  const positions = Array.from({ length: count }, () => ({ x: random() * SLIDE.width, y: random() * SLIDE.height }));
  if (order === 'random') return positions;
  const field = (p: { x: number; y: number }) => Math.floor(p.y / 2048) * 1000 + Math.floor(p.x / 2048);
  return positions.sort((a, b) => field(a) - field(b));
}

/** Cells with one or two person votes and, for a tenth of them, a model's. */
function fill(store: AnnotationStore, slideId: number, count: number, annotators: number[], order: Order): number {
  const [anna, ben, model] = annotators as [number, number, number];
  const positions = cellPositions(count, order);
  const started = performance.now();
  for (let start = 0; start < count; start += IMPORT_CHUNK) {
    const chunk: ImportedAnnotation[] = positions.slice(start, start + IMPORT_CHUNK).map((position, index) => {
      const classId = random() < 0.4 ? 1 : 2;
      const votes = [{ annotatorId: anna, classId }];
      if (index % 2 === 0) votes.push({ annotatorId: ben, classId: random() < 0.9 ? classId : 3 - classId });
      if (index % 10 === 0) votes.push({ annotatorId: model, classId });
      return { slideId, geometry: { shape: 'point', ...position }, votes };
    });
    store.importAnnotations(anna, chunk);
  }
  return performance.now() - started;
}

function benchViewports(store: AnnotationStore, project: ProjectDatabase, slideId: number, viewerId: number, label: string): void {
  const bare = project.db.prepare(
    `SELECT count(*) AS n FROM annotation_bounds WHERE min_slide <= ? AND max_slide >= ?
       AND min_x <= ? AND max_x >= ? AND min_y <= ? AND max_y >= ?`,
  );
  const viewports = Array.from({ length: VIEWPORTS }, () => ({
    x: random() * (SLIDE.width - VIEWPORT.width),
    y: random() * (SLIDE.height - VIEWPORT.height),
    ...VIEWPORT,
  }));
  // The statement that answered viewports before migration 006 (AnnotationRows, schema ≤ 5).
  const joined = project.db.prepare(
    `SELECT a.*, l.annotator_id, l.class_id, n.kind FROM annotation_bounds b JOIN annotations a ON a.id = b.id
       LEFT JOIN labels l ON l.annotation_id = a.id LEFT JOIN annotators n ON n.id = l.annotator_id
     WHERE b.min_slide <= ? AND b.max_slide >= ? AND b.min_x <= ? AND b.max_x >= ? AND b.min_y <= ? AND b.max_y >= ?
       AND a.deleted_at IS NULL`,
  );
  for (const rect of viewports.slice(0, 20)) store.queryRect(slideId, rect, { viewerId }); // warm-up
  const storeMs: number[] = [];
  const blindMs: number[] = [];
  const bareMs: number[] = [];
  const joinedMs: number[] = [];
  let found = 0;
  // Each viewport is queried once by each, in turn: the store first, so it never reads pages another put in the cache.
  for (const rect of viewports) {
    storeMs.push(timed(() => (found += store.queryRect(slideId, rect, { viewerId }).length)));
    blindMs.push(timed(() => store.queryRect(slideId, rect, { viewerId, blind: true, includeUnlabelledCandidates: true })));
    bareMs.push(timed(() => bare.get(slideId, slideId, rect.x + rect.width, rect.x, rect.y + rect.height, rect.y)));
  }
  // The old join on viewports of its own (same size), so that it meets no page the store cached.
  for (let index = 0; index < VIEWPORTS; index++) {
    const x = random() * (SLIDE.width - VIEWPORT.width);
    const y = random() * (SLIDE.height - VIEWPORT.height);
    joinedMs.push(timed(() => joined.all(slideId, slideId, x + VIEWPORT.width, x, y + VIEWPORT.height, y)));
  }
  const open = percentiles(storeMs);
  const blind = percentiles(blindMs);
  const floor = percentiles(bareMs);
  const before = percentiles(joinedMs);
  console.log(`  viewport query, ${label} (${(found / VIEWPORTS).toFixed(0)} cells per viewport on average)`);
  console.log(`    queryRect, open:             p50 ${ms(open.p50)}  p95 ${ms(open.p95)}  max ${ms(open.max)}`);
  console.log(`    queryRect, blind+candidates: p50 ${ms(blind.p50)}  p95 ${ms(blind.p95)}  max ${ms(blind.max)}`);
  console.log(`    R*Tree join, SQL only (≤ v5): p50 ${ms(before.p50)}  p95 ${ms(before.p95)}  max ${ms(before.max)}`);
  console.log(`    baseline bare R*Tree count:  p50 ${ms(floor.p50)}  p95 ${ms(floor.p95)}`);
  console.log(`    ratio queryRect / baseline:  p50 ${(open.p50 / floor.p50).toFixed(1)}×  p95 ${(open.p95 / floor.p95).toFixed(1)}×`);
}

function benchWrites(store: AnnotationStore, project: ProjectDatabase, slideId: number, actor: number, count: number): void {
  project.db.exec('CREATE TABLE IF NOT EXISTS bench_scratch (id INTEGER PRIMARY KEY, value INTEGER) STRICT');
  const scratch = project.db.prepare('INSERT INTO bench_scratch (value) VALUES (?)');
  const voteMs: number[] = [];
  const clickMs: number[] = [];
  const commitMs: number[] = [];
  for (let index = 0; index < WRITES; index++) {
    const id = 1 + Math.floor(random() * count);
    commitMs.push(timed(() => project.db.transaction(() => scratch.run(index)).immediate()));
    voteMs.push(timed(() => store.setVote(id, actor, (index % 2) + 1)));
    const geometry = { shape: 'point' as const, x: random() * SLIDE.width, y: random() * SLIDE.height };
    clickMs.push(timed(() => store.createAnnotation(slideId, geometry, actor, 1)));
  }
  const vote = percentiles(voteMs);
  const click = percentiles(clickMs);
  const floor = percentiles(commitMs);
  console.log(`  label write latency (${WRITES} calls each, durable: WAL + synchronous=FULL)`);
  console.log(`    setVote:                     p50 ${ms(vote.p50)}  p95 ${ms(vote.p95)}  max ${ms(vote.max)}`);
  console.log(`    createAnnotation with class: p50 ${ms(click.p50)}  p95 ${ms(click.p95)}  max ${ms(click.max)}`);
  console.log(`    baseline one-row commit:     p50 ${ms(floor.p50)}  p95 ${ms(floor.p95)}`);
  console.log(`    ratio setVote / baseline:    p50 ${(vote.p50 / floor.p50).toFixed(2)}×  p95 ${(vote.p95 / floor.p95).toFixed(2)}×`);
}

function benchMidogImport(): void {
  if (!fs.existsSync(midogPlusPlusJsonPath)) {
    console.log(`MIDOG++ import: skipped, ${midogPlusPlusJsonPath} is absent (the shared data folder is not next to this repository)`);
    return;
  }
  const totals: number[] = [];
  for (let round = 0; round < MIDOG_ROUNDS; round++) {
    const { folder, project } = newProject(`midog-${round}`);
    const store = new AnnotationStore(project.db);
    const importer = new AnnotationImporter(project.db, store, new SlideCatalog(project.db));
    const actorId = store.ensureAnnotator('Importing Person').id;
    const started = performance.now();
    const bundle = parseMidogJson(fs.readFileSync(midogPlusPlusJsonPath), midogPlusPlusJsonPath);
    const parsedAt = performance.now();
    const report = importer.import(bundle, actorId, { file: midogPlusPlusJsonPath });
    const doneAt = performance.now();
    totals.push(doneAt - started);
    console.log(
      `MIDOG++ import, round ${round + 1}: ${((doneAt - started) / 1000).toFixed(2)} s ` +
        `(read + parse ${((parsedAt - started) / 1000).toFixed(2)} s, import transaction ${((doneAt - parsedAt) / 1000).toFixed(2)} s; ` +
        `${report.cells.toLocaleString('en')} cells, ${report.votes.toLocaleString('en')} votes)`,
    );
    project.close();
    fs.rmSync(folder, { recursive: true, force: true });
  }
  const sorted = [...totals].sort((a, b) => a - b);
  console.log(`MIDOG++ import: best ${(sorted[0]! / 1000).toFixed(2)} s, median ${(sorted[Math.floor(sorted.length / 2)]! / 1000).toFixed(2)} s (target ≤ 3 s)`);
}

console.log(`load average at start: ${os.loadavg().map((value) => value.toFixed(2)).join(', ')} on ${os.cpus().length} cores`);
if (midog) benchMidogImport();

for (const count of sizes) for (const order of orders) {
  const created = newProject(`${count}-${order}`);
  const { folder, slideId } = created;
  const filler = new AnnotationStore(created.project.db);
  const annotators = [filler.ensureAnnotator('Anna').id, filler.ensureAnnotator('Ben').id, filler.ensureAnnotator('model', 'model').id];
  console.log(`${count.toLocaleString('en')} cells on one ${SLIDE.width}×${SLIDE.height} slide, written in ${order} order (${folder})`);
  created.project.db.pragma('cache_size = -262144');
  const importMs = fill(filler, slideId, count, annotators, order);
  const fileMb = fs.statSync(created.project.file).size / 1e6;
  console.log(`  filled in ${(importMs / 1000).toFixed(1)} s (${((count / importMs) * 1000).toFixed(0)} cells/s), database ${fileMb.toFixed(0)} MB`);
  created.project.close();

  const project = ProjectDatabase.open(path.join(folder, 'project'));
  const store = new AnnotationStore(project.db);
  const version = project.schemaVersion;
  console.log(`  schema ${version}: ${version >= 6 ? 'viewport index (migration 006)' : 'R*Tree joined to rows and votes (migration 006 not registered)'}`);
  benchViewports(store, project, slideId, annotators[0]!, 'default page cache');
  project.db.pragma('cache_size = -65536');
  benchViewports(store, project, slideId, annotators[0]!, '64 MB page cache');
  project.db.pragma('cache_size = -2000');
  benchWrites(store, project, slideId, annotators[1]!, count);
  project.close();
  if (!keep) fs.rmSync(folder, { recursive: true, force: true });
}
