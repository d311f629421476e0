import type { Database } from 'better-sqlite3';
import type { StudyAgreement, StudySpec } from '../../../contract/studiesSchemas';
import { cohenKappa, fleissKappa } from '../agreement';
import { balancedAccuracy } from '../metrics';
import { StudyStore } from './StudyStore';

/*
 * Inter-annotator agreement on a study's cells: how well people agree with each other is the
 * ceiling for a model trained and judged on their labels (a model cannot agree with the truth
 * more than a second pathologist does, except by luck).
 *
 * Choices, so the numbers mean one thing:
 * - Only people's votes count (a model's vote is a prediction, not a reference), as in consensus.
 * - A vote for a class outside the study is left out, as the study leaves such cells out; so a
 *   cell counts as shared by two people only where both voted for one of the study's classes.
 * - Fleiss' κ needs the same number of raters on every cell: it is given per rater count (cells
 *   with 2 raters, cells with 3 …), never over a mixture.
 * - The headline ceiling averages the pairs that bear on the study's labels, weighted by the cells
 *   each pair shares (a pair sharing three cells must not count as much as one sharing a thousand):
 *   every pair for the consensus; for one annotator's labels, that annotator with each other
 *   person, whose balanced accuracy is measured against the annotator as the model's is.
 */

/** One person's vote on one cell; classIndex = position of the class in the study's classes. */
export interface PersonVote {
  annotationId: number;
  annotatorId: number;
  classIndex: number;
}

export interface Annotator {
  id: number;
  name: string;
}

type Pair = StudyAgreement['pairs'][number];

/** NaN (undefined, e.g. κ when both used one class) crosses the contract as null. */
const orNull = (value: number): number | null => (Number.isNaN(value) ? null : value);

/** Each cell's votes by annotator, in annotation id order. */
function votesByCell(votes: readonly PersonVote[]): Map<number, Map<number, number>> {
  const cells = new Map<number, Map<number, number>>();
  for (const vote of [...votes].sort((a, b) => a.annotationId - b.annotationId)) {
    let cell = cells.get(vote.annotationId);
    if (!cell) cells.set(vote.annotationId, (cell = new Map()));
    cell.set(vote.annotatorId, vote.classIndex);
  }
  return cells;
}

/** Agreement of two people on the cells both labelled; null when they share none. */
export function pairAgreement(cells: ReadonlyMap<number, ReadonlyMap<number, number>>, first: Annotator, second: Annotator): Pair | null {
  const firstLabels: number[] = [];
  const secondLabels: number[] = [];
  for (const votes of cells.values()) {
    const a = votes.get(first.id);
    const b = votes.get(second.id);
    if (a !== undefined && b !== undefined) {
      firstLabels.push(a);
      secondLabels.push(b);
    }
  }
  if (firstLabels.length === 0) return null;
  const agreeing = firstLabels.filter((label, i) => label === secondLabels[i]).length;
  return {
    first,
    second,
    cells: firstLabels.length,
    percentAgreement: agreeing / firstLabels.length,
    kappa: orNull(cohenKappa(firstLabels, secondLabels)),
    quadraticKappa: orNull(cohenKappa(firstLabels, secondLabels, 'quadratic')),
    secondAgainstFirst: orNull(balancedAccuracy(firstLabels, secondLabels)),
    firstAgainstSecond: orNull(balancedAccuracy(secondLabels, firstLabels)),
  };
}

/** Fleiss' κ for each number of raters that two or more people's cells have. */
export function fleissByRaterCount(cells: ReadonlyMap<number, ReadonlyMap<number, number>>): StudyAgreement['fleiss'] {
  const byCount = new Map<number, number[][]>();
  for (const votes of cells.values()) {
    if (votes.size < 2) continue;
    const group = byCount.get(votes.size) ?? [];
    group.push([...votes.values()]);
    byCount.set(votes.size, group);
  }
  return [...byCount.entries()]
    .sort(([a], [b]) => a - b)
    .map(([raters, ratings]) => ({ raters, cells: ratings.length, kappa: orNull(fleissKappa(ratings)) }));
}

/** Mean of the defined values, each weighted by its pair's shared cells; null if none is defined. */
function cellWeightedMean(entries: readonly { value: number | null; cells: number }[]): number | null {
  let sum = 0;
  let weight = 0;
  for (const { value, cells } of entries) {
    if (value === null) continue;
    sum += value * cells;
    weight += cells;
  }
  return weight === 0 ? null : sum / weight;
}

/** The headline over the pairs that bear on the study's labels (see the file comment). */
function ceilingOf(pairs: readonly Pair[], cells: ReadonlyMap<number, ReadonlyMap<number, number>>, referenceId: number | null): StudyAgreement['ceiling'] {
  const used = referenceId === null ? pairs : pairs.filter((p) => p.first.id === referenceId || p.second.id === referenceId);
  if (used.length === 0) return null;
  const involved = new Set(used.flatMap((p) => [p.first.id, p.second.id]));
  let sharedCells = 0;
  for (const votes of cells.values()) {
    const raters = [...votes.keys()].filter((id) => involved.has(id));
    if (raters.length >= 2 && (referenceId === null || raters.includes(referenceId))) sharedCells += 1;
  }
  // Balanced accuracy of a person measured against the labels the study uses: against the
  // reference when there is one, else both ways of every pair.
  const balanced = used.flatMap((p) => {
    if (referenceId === null) return [{ value: p.secondAgainstFirst, cells: p.cells }, { value: p.firstAgainstSecond, cells: p.cells }];
    return [{ value: p.first.id === referenceId ? p.secondAgainstFirst : p.firstAgainstSecond, cells: p.cells }];
  });
  return {
    pairs: used.length,
    cells: sharedCells,
    percentAgreement: cellWeightedMean(used.map((p) => ({ value: p.percentAgreement, cells: p.cells })))!,
    quadraticKappa: cellWeightedMean(used.map((p) => ({ value: p.quadraticKappa, cells: p.cells }))),
    balancedAccuracy: cellWeightedMean(balanced),
  };
}

/**
 * The agreement of people on cells labelled with `classCount` classes. `referenceAnnotatorId` is
 * the annotator whose labels the study uses (null: the consensus of everyone).
 */
export function interAnnotatorAgreement(
  votes: readonly PersonVote[],
  annotators: readonly Annotator[],
  classCount: number,
  referenceAnnotatorId: number | null,
): StudyAgreement {
  const cells = votesByCell(votes);
  const cellsPerAnnotator = new Map<number, number>();
  for (const vote of votes) cellsPerAnnotator.set(vote.annotatorId, (cellsPerAnnotator.get(vote.annotatorId) ?? 0) + 1);
  const voting = annotators.filter((a) => cellsPerAnnotator.has(a.id)).sort((a, b) => a.id - b.id);
  const pairs: Pair[] = [];
  voting.forEach((first, i) => {
    for (const second of voting.slice(i + 1)) {
      const pair = pairAgreement(cells, first, second);
      if (pair) pairs.push(pair);
    }
  });
  const multiRated = [...cells.values()].filter((v) => v.size >= 2);
  const unanimous = multiRated.filter((v) => new Set(v.values()).size === 1).length;
  const ceiling = ceilingOf(pairs, cells, referenceAnnotatorId);
  const unavailable =
    voting.length < 2 ? 'fewer-than-two-annotators' : pairs.length === 0 ? 'no-shared-cells' : ceiling === null ? 'reference-shares-no-cells' : null;
  return {
    classCount,
    referenceAnnotatorId,
    annotators: voting.map((a) => ({ ...a, cells: cellsPerAnnotator.get(a.id)! })),
    multiRatedCells: multiRated.length,
    unanimousShare: multiRated.length === 0 ? null : unanimous / multiRated.length,
    pairs,
    fleiss: fleissByRaterCount(cells),
    ceiling,
    unavailable,
  };
}

/** People's votes in the study's classes on live cells (points, circles) of live slides, and the people. */
export function loadPeopleVotes(db: Database, classes: StudySpec['classes']): { votes: PersonVote[]; annotators: Annotator[] } {
  const classIndex = new Map(classes.map((classId, index) => [classId, index]));
  const rows = db
    .prepare(
      `SELECT l.annotation_id AS annotationId, l.annotator_id AS annotatorId, l.class_id AS classId
         FROM labels l
         JOIN annotations a ON a.id = l.annotation_id
         JOIN slides s ON s.id = a.slide_id
         JOIN annotators n ON n.id = l.annotator_id
        WHERE a.deleted_at IS NULL AND s.deleted_at IS NULL AND a.shape IN ('point', 'circle') AND n.kind = 'person'`,
    )
    .all() as { annotationId: number; annotatorId: number; classId: number }[];
  const votes = rows.flatMap((row) => {
    const index = classIndex.get(row.classId);
    return index === undefined ? [] : [{ annotationId: row.annotationId, annotatorId: row.annotatorId, classIndex: index }];
  });
  const annotators = db.prepare("SELECT id, name FROM annotators WHERE kind = 'person' ORDER BY id").all() as Annotator[];
  return { votes, annotators };
}

/** The agreement ceiling of a stored study (its classes and label source). */
export function studyAgreement(db: Database, studyId: number): StudyAgreement {
  const spec = new StudyStore(db).spec(studyId);
  const { votes, annotators } = loadPeopleVotes(db, spec.classes);
  return interAnnotatorAgreement(votes, annotators, spec.classes.length, spec.labels.source === 'annotator' ? spec.labels.annotatorId : null);
}
