import fs from 'node:fs';
import type { Database } from 'better-sqlite3';
import { openSqliteFile } from '../../project/openSqliteFile';
import type { AnnotationBundle, CellShape, LevelZeroPoint } from '../AnnotationBundle';
import { temporaryPathBeside } from '../atomicFile';
import { checkBundle } from '../checkBundle';
import { InteropError } from '../InteropError';
import { assignSourceIds } from '../sourceIds';
import { registerSlideRunnerFunctions } from './slideRunnerFunctions';
import { SLIDERUNNER_SCHEMA_VERSION, slideRunnerAnnotationType, slideRunnerCreateStatements } from './slideRunnerSchema';

/**
 * Writes the bundle as a fresh SlideRunner database (current layout, schema version 3) at
 * `target`: built completely under a temporary name beside it, then renamed into place, so an
 * existing file is replaced whole or not at all. Keeps the bundle's uids where it has them.
 */
export function writeSlideRunnerFile(bundle: AnnotationBundle, target: string): void {
  checkBundle(bundle, target);
  const temporary = temporaryPathBeside(target);
  let db: Database | undefined;
  try {
    db = openSqliteFile(temporary, { readonly: false });
    buildDatabase(db, bundle);
    db.close();
    fs.renameSync(temporary, target);
  } catch (error) {
    if (db?.open) db.close();
    fs.rmSync(temporary, { force: true });
    fs.rmSync(`${temporary}-journal`, { force: true });
    throw asInteropError(error, target);
  }
}

/** The bytes of the SlideRunner database writeSlideRunnerFile would write (built in memory). `file` names it in errors. */
export function serializeSlideRunner(bundle: AnnotationBundle, file: string): Buffer {
  checkBundle(bundle, file);
  const db = openSqliteFile(':memory:', { readonly: false });
  try {
    buildDatabase(db, bundle);
    return db.serialize();
  } catch (error) {
    throw asInteropError(error, file);
  } finally {
    db.close();
  }
}

function asInteropError(error: unknown, file: string): InteropError {
  if (error instanceof InteropError) return error;
  return new InteropError(file, '', `cannot be written (${error instanceof Error ? error.message : String(error)})`);
}

/** SlideRunner's triggers run on every insert, so its functions are registered first. */
function buildDatabase(db: Database, bundle: AnnotationBundle): void {
  registerSlideRunnerFunctions(db);
  db.transaction(() => fillDatabase(db, bundle))();
  db.pragma(`user_version = ${SLIDERUNNER_SCHEMA_VERSION}`);
}

function fillDatabase(db: Database, bundle: AnnotationBundle): void {
  for (const statement of slideRunnerCreateStatements) db.exec(statement);

  const classUids = assignSourceIds(bundle.classes);
  const classUid = new Map(bundle.classes.map((entry, index) => [entry.name, classUids[index]!]));
  const insertClass = db.prepare('INSERT INTO Classes (uid, name, color) VALUES (?, ?, ?)');
  bundle.classes.forEach((entry, index) => insertClass.run(classUids[index], entry.name, entry.colour ?? null));

  const personUids = assignSourceIds(bundle.annotators);
  const personUid = new Map(bundle.annotators.map((annotator, index) => [annotator.name, personUids[index]!]));
  const insertPerson = db.prepare('INSERT INTO Persons (uid, name) VALUES (?, ?)');
  bundle.annotators.forEach((annotator, index) => insertPerson.run(personUids[index], annotator.name));

  const slideUids = assignSourceIds(bundle.slides);
  const insertSlide = db.prepare('INSERT INTO Slides (uid, filename, width, height, directory) VALUES (?, ?, ?, ?, ?)');
  bundle.slides.forEach((slide, index) =>
    insertSlide.run(slideUids[index], slide.fileName, slide.widthPx ?? null, slide.heightPx ?? null, slide.directory ?? null),
  );

  const annotationUids = assignSourceIds(bundle.cells);
  const insertAnnotation = db.prepare(
    'INSERT INTO Annotations (uid, slide, type, agreedClass, guid, deleted, description) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insertCoordinate = db.prepare(
    'INSERT INTO Annotations_coordinates (coordinateX, coordinateY, coordinateZ, slide, annoId, orderIdx) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertLabel = db.prepare('INSERT INTO Annotations_label (person, class, annoId) VALUES (?, ?, ?)');
  bundle.cells.forEach((cell, index) => {
    const uid = annotationUids[index]!;
    const slide = slideUids[cell.slideIndex]!;
    const { type, points } = slideRunnerGeometry(cell.shape);
    const agreed = cell.agreedClass === undefined ? 0 : classUid.get(cell.agreedClass)!;
    insertAnnotation.run(uid, slide, type, agreed, cell.guid ?? null, cell.deleted ? 1 : 0, cell.description ?? null);
    points.forEach((point, order) => insertCoordinate.run(point.x, point.y, cell.zLevel ?? 0, slide, uid, order + 1));
    for (const vote of cell.votes) {
      insertLabel.run(personUid.get(vote.annotator)!, vote.className === null ? 0 : classUid.get(vote.className)!, uid);
    }
  });
}

function slideRunnerGeometry(shape: CellShape): { type: number; points: LevelZeroPoint[] } {
  switch (shape.kind) {
    case 'point':
      return { type: slideRunnerAnnotationType.spot, points: [{ x: shape.x, y: shape.y }] };
    case 'rectangle':
      return {
        type: slideRunnerAnnotationType.rectangle,
        points: [
          { x: shape.x1, y: shape.y1 },
          { x: shape.x2, y: shape.y2 },
        ],
      };
    case 'circle':
      return {
        type: slideRunnerAnnotationType.circle,
        points: [
          { x: shape.x - shape.radius, y: shape.y - shape.radius },
          { x: shape.x + shape.radius, y: shape.y + shape.radius },
        ],
      };
    case 'polygon':
      // SlideRunner stores polygons closed: the first point again at the end.
      return { type: slideRunnerAnnotationType.polygon, points: [...shape.points, shape.points[0]!] };
  }
}
