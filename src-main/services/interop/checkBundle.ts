import type { AnnotationBundle, CellShape } from './AnnotationBundle';
import { InteropError } from './InteropError';

/**
 * Checks that a bundle is whole before a serializer writes it: names unique, every reference
 * (slide, class, annotator) resolvable, every coordinate a finite number. Throws an
 * InteropError naming `file` and the place in the bundle.
 */
export function checkBundle(bundle: AnnotationBundle, file: string): void {
  const fail = (place: string, problem: string): never => {
    throw new InteropError(file, place, problem);
  };
  const classNames = uniqueNames(
    bundle.classes.map((entry) => entry.name),
    'classes',
    fail,
  );
  const annotatorNames = uniqueNames(
    bundle.annotators.map((entry) => entry.name),
    'annotators',
    fail,
  );
  bundle.slides.forEach((slide, index) => {
    if (!slide.fileName) fail(`slides[${index}].fileName`, 'a slide needs a file name');
  });

  bundle.cells.forEach((cell, index) => {
    const place = `cells[${index}]`;
    if (!Number.isInteger(cell.slideIndex) || cell.slideIndex < 0 || cell.slideIndex >= bundle.slides.length) {
      fail(`${place}.slideIndex`, `refers to slide ${cell.slideIndex}, but the bundle has ${bundle.slides.length} slides`);
    }
    const shapeProblem = problemWithShape(cell.shape);
    if (shapeProblem) fail(`${place}.shape`, shapeProblem);
    if (cell.agreedClass !== undefined && !classNames.has(cell.agreedClass)) {
      fail(`${place}.agreedClass`, `class "${cell.agreedClass}" is not among the bundle's classes`);
    }
    cell.votes.forEach((vote, voteIndex) => {
      if (!annotatorNames.has(vote.annotator)) {
        fail(`${place}.votes[${voteIndex}].annotator`, `annotator "${vote.annotator}" is not among the bundle's annotators`);
      }
      if (vote.className !== null && !classNames.has(vote.className)) {
        fail(`${place}.votes[${voteIndex}].className`, `class "${vote.className}" is not among the bundle's classes`);
      }
    });
  });
}

function uniqueNames(names: string[], list: string, fail: (place: string, problem: string) => never): Set<string> {
  const seen = new Set<string>();
  names.forEach((name, index) => {
    if (!name) fail(`${list}[${index}].name`, 'the name is empty');
    if (seen.has(name)) fail(`${list}[${index}].name`, `"${name}" appears twice; names must be unique`);
    seen.add(name);
  });
  return seen;
}

function problemWithShape(shape: CellShape): string | null {
  const finite = (...values: number[]): boolean => values.every((value) => Number.isFinite(value));
  switch (shape.kind) {
    case 'point':
      return finite(shape.x, shape.y) ? null : 'point coordinates must be finite numbers';
    case 'circle':
      if (!finite(shape.x, shape.y, shape.radius)) return 'circle centre and radius must be finite numbers';
      return shape.radius >= 0 ? null : `circle radius ${shape.radius} is negative`;
    case 'rectangle':
      return finite(shape.x1, shape.y1, shape.x2, shape.y2) ? null : 'rectangle corners must be finite numbers';
    case 'polygon':
      if (shape.points.length < 3) return `a polygon needs at least 3 points, this one has ${shape.points.length}`;
      return shape.points.every((point) => finite(point.x, point.y)) ? null : 'polygon points must be finite numbers';
    default:
      return `unknown shape kind "${(shape as { kind: unknown }).kind}"`;
  }
}
