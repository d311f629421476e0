import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { studyAgreementSchema } from '../../../../src-main/contract/studiesSchemas';
import { AnnotationStore } from '../../../../src-main/services/annotations/AnnotationStore';
import { interAnnotatorAgreement, studyAgreement } from '../../../../src-main/services/evaluation/study/studyAgreement';
import { parseStudySpec } from '../../../../src-main/services/evaluation/study/studySpec';
import { StudyStore } from '../../../../src-main/services/evaluation/study/StudyStore';
import { ProjectDatabase } from '../../../../src-main/services/project/ProjectDatabase';
import { SlideCatalog } from '../../../../src-main/services/slides/SlideCatalog';
import { slideRow } from '../../../fixtures/slideRows';
import { createStudyProject } from './studyProject';

/*
 * Hand-computed agreement on ten cells. Classes 1 (mitotic figure, index 0) and 2 (imposter,
 * index 1); "—" no vote. Ben's vote on c8 is for class 3, outside the study, so it is left out;
 * the model's vote on c9 is a prediction, not a person's, so it is left out too.
 *
 *        c1 c2 c3 c4 c5 c6 c7 c8 c9 c10
 *   Ada   1  1  2  2  1  2  1  2  1  —
 *   Ben   1  2  2  2  1  1  —  3  1  —
 *   Cy    1  1  2  —  —  —  —  —  —  —
 *   Dee   —  —  —  —  —  —  —  —  —  1
 *   model —  —  —  —  —  —  —  —  2  —
 *
 * Ada–Ben, 7 shared cells (c1–c6, c9): 5 agree; confusion (Ada rows) [[3, 1], [1, 2]], marginals
 *   4/3 both, pe = 25/49, κ = (5/7 − 25/49) / (1 − 25/49) = 10/24; Ben against Ada: recalls 3/4, 2/3.
 * Ada–Cy, 3 cells, all agree: κ = 1, balanced accuracy 1.
 * Ben–Cy, 3 cells (c1 1/1, c2 2/1, c3 2/2): 2 agree; pe = (1·2 + 2·1)/9, κ = (6/9 − 4/9)/(5/9) = 0.4;
 *   Cy against Ben: recalls 1, 1/2 → 0.75; Ben against Cy: 1/2, 1 → 0.75.
 * Fleiss, 3 raters (c1–c3): P̄ = (1 + 1/3 + 1)/3 = 7/9, p = (5/9, 4/9), Pe = 41/81 → κ = 22/40.
 * Fleiss, 2 raters (c4, c5, c6, c9): P̄ = 3/4, p = (5/8, 3/8), Pe = 34/64 → κ = 14/30.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-agreement-'));
let project: ProjectDatabase;
let ids: { ada: number; ben: number; cy: number; dee: number };
const kappaAdaBen = 10 / 24;
const balancedBenAda = (3 / 4 + 2 / 3) / 2;

function study(labels: Record<string, unknown>): number {
  return new StudyStore(project.db).create(parseStudySpec({ name: 'agreement', kind: 'data-scaling', models: [1], classes: [1, 2], labels }));
}

beforeAll(() => {
  project = ProjectDatabase.create(path.join(dir, 'project'), 'agreement test');
  const store = new AnnotationStore(project.db);
  const other = store.createClass({ name: 'other', colour: '#00aa00' }).id;
  const slideId = new SlideCatalog(project.db).insert(slideRow('agreement.svs'));
  ids = { ada: store.ensureAnnotator('Ada').id, ben: store.ensureAnnotator('Ben').id, cy: store.ensureAnnotator('Cy').id, dee: store.ensureAnnotator('Dee').id };
  const model = store.ensureAnnotator('a model', 'model').id;
  const columns: [number, number | null][][] = [
    [[ids.ada, 1], [ids.ben, 1], [ids.cy, 1]],
    [[ids.ada, 1], [ids.ben, 2], [ids.cy, 1]],
    [[ids.ada, 2], [ids.ben, 2], [ids.cy, 2]],
    [[ids.ada, 2], [ids.ben, 2]],
    [[ids.ada, 1], [ids.ben, 1]],
    [[ids.ada, 2], [ids.ben, 1]],
    [[ids.ada, 1]],
    [[ids.ada, 2], [ids.ben, other]],
    [[ids.ada, 1], [ids.ben, 1], [model, 2]],
    [[ids.dee, 1]],
  ];
  store.importAnnotations(
    ids.ada,
    columns.map((votes, c) => ({ slideId, geometry: { shape: 'point' as const, x: 100 + 10 * c, y: 100 }, votes: votes.map(([annotatorId, classId]) => ({ annotatorId, classId: classId! })) })),
  );
});
afterAll(() => {
  project.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('inter-annotator agreement of a study (consensus labels)', () => {
  it('gives each pair, Fleiss per rater count and the cell-weighted ceiling as computed by hand', () => {
    const result = studyAgreementSchema.parse(studyAgreement(project.db, study({ source: 'consensus' })));
    expect(result.unavailable).toBeNull();
    expect(result.annotators.map((a) => [a.name, a.cells])).toEqual([['Ada', 9], ['Ben', 7], ['Cy', 3], ['Dee', 1]]);
    expect(result.multiRatedCells).toBe(7);
    expect(result.unanimousShare).toBeCloseTo(5 / 7, 12);

    const pair = (a: string, b: string) => result.pairs.find((p) => p.first.name === a && p.second.name === b)!;
    expect(result.pairs).toHaveLength(3);
    expect(pair('Ada', 'Ben')).toMatchObject({ cells: 7 });
    expect(pair('Ada', 'Ben').percentAgreement).toBeCloseTo(5 / 7, 12);
    expect(pair('Ada', 'Ben').kappa).toBeCloseTo(kappaAdaBen, 12);
    // Two classes: quadratic weights are the unweighted ones.
    expect(pair('Ada', 'Ben').quadraticKappa).toBeCloseTo(kappaAdaBen, 12);
    expect(pair('Ada', 'Ben').secondAgainstFirst).toBeCloseTo(balancedBenAda, 12);
    expect(pair('Ada', 'Cy')).toMatchObject({ cells: 3, percentAgreement: 1, kappa: 1, secondAgainstFirst: 1, firstAgainstSecond: 1 });
    expect(pair('Ben', 'Cy').kappa).toBeCloseTo(0.4, 12);
    expect(pair('Ben', 'Cy').secondAgainstFirst).toBeCloseTo(0.75, 12);
    expect(pair('Ben', 'Cy').firstAgainstSecond).toBeCloseTo(0.75, 12);

    expect(result.fleiss.map((f) => [f.raters, f.cells])).toEqual([[2, 4], [3, 3]]);
    expect(result.fleiss[0]!.kappa).toBeCloseTo(14 / 30, 12);
    expect(result.fleiss[1]!.kappa).toBeCloseTo(22 / 40, 12);

    const ceiling = result.ceiling!;
    expect(ceiling.pairs).toBe(3);
    expect(ceiling.cells).toBe(7);
    expect(ceiling.percentAgreement).toBeCloseTo((5 + 3 + 2) / 13, 12);
    expect(ceiling.quadraticKappa).toBeCloseTo((7 * kappaAdaBen + 3 * 1 + 3 * 0.4) / 13, 12);
    expect(ceiling.balancedAccuracy).toBeCloseTo((7 * 2 * balancedBenAda + 3 * 2 * 1 + 3 * 2 * 0.75) / 26, 12);
  });
});

describe('inter-annotator agreement of a study on one annotator’s labels', () => {
  it('takes only the pairs with that annotator, the others measured against them', () => {
    const result = studyAgreement(project.db, study({ source: 'annotator', annotatorId: ids.ada }));
    expect(result.referenceAnnotatorId).toBe(ids.ada);
    expect(result.pairs).toHaveLength(3);
    const ceiling = result.ceiling!;
    expect(ceiling.pairs).toBe(2);
    expect(ceiling.cells).toBe(7);
    expect(ceiling.percentAgreement).toBeCloseTo((5 + 3) / 10, 12);
    expect(ceiling.quadraticKappa).toBeCloseTo((7 * kappaAdaBen + 3) / 10, 12);
    expect(ceiling.balancedAccuracy).toBeCloseTo((7 * balancedBenAda + 3) / 10, 12);
  });

  it('says so when that annotator shares no cell with anyone, instead of a number', () => {
    const result = studyAgreement(project.db, study({ source: 'annotator', annotatorId: ids.dee }));
    expect(result.ceiling).toBeNull();
    expect(result.unavailable).toBe('reference-shares-no-cells');
  });
});

describe('agreement that cannot be measured', () => {
  it('with one annotator only there is no ceiling, only the reason', () => {
    const folder = fs.mkdtempSync(path.join(dir, 'single-'));
    const fixture = createStudyProject(folder, { slides: 3, cellsPerSlide: 6, dim: 4, positiveShare: 0.5, seed: 3, secondAnnotator: false });
    try {
      const studyId = new StudyStore(fixture.project.db).create(parseStudySpec({ name: 'single', kind: 'data-scaling', models: [fixture.models[0]!.id], classes: [1, 2] }));
      const result = studyAgreementSchema.parse(studyAgreement(fixture.project.db, studyId));
      expect(result.unavailable).toBe('fewer-than-two-annotators');
      expect(result.ceiling).toBeNull();
      expect(result.annotators.map((a) => [a.name, a.cells])).toEqual([['Ada', 18]]);
      expect(result.pairs).toEqual([]);
      expect(result.fleiss).toEqual([]);
      expect(result.unanimousShare).toBeNull();
    } finally {
      fixture.project.close();
    }
  });

  it('two people on different cells share nothing to compare', () => {
    const votes = [
      { annotationId: 1, annotatorId: 1, classIndex: 0 },
      { annotationId: 2, annotatorId: 2, classIndex: 1 },
    ];
    const result = interAnnotatorAgreement(votes, [{ id: 1, name: 'A' }, { id: 2, name: 'B' }], 2, null);
    expect(result.unavailable).toBe('no-shared-cells');
    expect(result.ceiling).toBeNull();
    expect(result.multiRatedCells).toBe(0);
  });

  it('κ is null, not a number, when both people used one class only', () => {
    const votes = [1, 2].flatMap((annotationId) => [1, 2].map((annotatorId) => ({ annotationId, annotatorId, classIndex: 0 })));
    const result = interAnnotatorAgreement(votes, [{ id: 1, name: 'A' }, { id: 2, name: 'B' }], 2, null);
    expect(result.pairs[0]).toMatchObject({ cells: 2, percentAgreement: 1, kappa: null, quadraticKappa: null });
    expect(result.fleiss).toEqual([{ raters: 2, cells: 2, kappa: null }]);
    expect(result.ceiling).toMatchObject({ percentAgreement: 1, quadraticKappa: null, balancedAccuracy: 1 });
  });
});
