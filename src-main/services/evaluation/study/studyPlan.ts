import type { StudyMethod, StudySpec } from '../../../contract/studiesSchemas';
import { leaveOneDomainOut, trainOnEachDomain } from '../crossDomain';
import { checkLeakage } from '../leakage';
import { type SplitFractions, nestedTrainingSubsets, splitByCell, splitBySlide } from '../splits';
import type { StudyCell } from './studyCells';
import { StudySpecError } from './studySpec';

/*
 * What a study will run, computed from its design and cells alone (pure and seeded), so a restart
 * plans exactly the same splits and subsets and can skip what is already stored.
 */

/** The test set of ordinary studies; cross-domain test sets are named by their domain. */
export const DEFAULT_TEST_SET = 'test';

/** One split of one seed (and, in cross-domain studies, one training or held-out domain). */
export interface SplitPlan {
  seed: number;
  /** '' outside cross-domain studies. */
  domain: string;
  validation: StudyCell[];
  tests: Map<string, StudyCell[]>;
  /** Nested training subsets, smallest first, one per fraction of the spec. */
  subsets: { fraction: number; cells: StudyCell[] }[];
}

export interface PlannedRun {
  key: string;
  modelId: number;
  method: StudyMethod;
  fraction: number;
  seed: number;
  domain: string;
  train: StudyCell[];
  split: SplitPlan;
}

export interface StudyPlan {
  splits: SplitPlan[];
  runs: PlannedRun[];
  /** Loud notes stored with the study (a cell-level split's leakage, untagged slides). */
  warnings: string[];
  /** Cells in no split, by reason. */
  excluded: Record<string, number>;
}

export function runKey(run: Pick<PlannedRun, 'modelId' | 'method' | 'fraction' | 'seed' | 'domain'>): string {
  return JSON.stringify([run.modelId, run.method, run.fraction, run.seed, run.domain]);
}

function splitFractions(spec: StudySpec): SplitFractions {
  const { testFraction, validationFraction } = spec.split;
  return { train: 1 - testFraction - validationFraction, validation: validationFraction, test: testFraction };
}

interface RawSplit {
  seed: number;
  domain: string;
  train: StudyCell[];
  validation: StudyCell[];
  tests: Map<string, StudyCell[]>;
}

function ordinarySplits(spec: StudySpec, cells: readonly StudyCell[]): RawSplit[] {
  const split = spec.split.grouping === 'cell' ? splitByCell : splitBySlide;
  return spec.seeds.map((seed) => {
    const parts = split(cells, splitFractions(spec), seed);
    return { seed, domain: '', train: parts.train, validation: parts.validation, tests: new Map([[DEFAULT_TEST_SET, parts.test]]) };
  });
}

function crossDomainSplits(spec: StudySpec, cells: readonly StudyCell[], domainOfSlide: ReadonlyMap<string, string>): { splits: RawSplit[]; untaggedSlides: string[] } {
  const tagging = { domainOfSlide };
  if (spec.domain!.mode === 'leave-one-out') {
    const validation = spec.split.validationFraction;
    const results = spec.seeds.map((seed) => ({ seed, result: leaveOneDomainOut(cells, tagging, { train: 1 - validation, validation }, seed) }));
    const splits = results.flatMap(({ seed, result }) =>
      result.splits.map((split) => ({ seed, domain: split.heldOutDomain, train: split.train, validation: split.validation, tests: new Map([[split.heldOutDomain, split.test]]) })),
    );
    return { splits, untaggedSlides: results[0]?.result.untaggedSlides ?? [] };
  }
  const results = spec.seeds.map((seed) => ({ seed, result: trainOnEachDomain(cells, tagging, splitFractions(spec), seed) }));
  const splits = results.flatMap(({ seed, result }) =>
    result.splits.map((split) => ({
      seed,
      domain: split.trainingDomain,
      train: split.train,
      validation: split.validation,
      tests: new Map([[split.trainingDomain, split.inDomainTest], ...split.outOfDomainTests]),
    })),
  );
  return { splits, untaggedSlides: results[0]?.result.untaggedSlides ?? [] };
}

/**
 * Refuses a slide-level split that leaks (a slide or an identical cell on both sides); for the
 * paper's cell-level split, explicitly chosen, returns the warning to store with the study.
 */
function leakageWarning(spec: StudySpec, split: RawSplit): string | null {
  const tests = [...split.tests.values()].flat();
  const report = checkLeakage([...split.train, ...split.validation], tests);
  if (!report.leaks) return null;
  const what = `${report.sharedSlides.length} slide(s) and ${report.duplicatedCells.length} identical cell(s) are on both the training and the test side (seed ${split.seed}${split.domain ? `, domain ${split.domain}` : ''})`;
  if (spec.split.grouping !== 'cell') {
    throw new StudySpecError('split.grouping', `the slide-level split leaks: ${what}; check for cells imported twice`);
  }
  const testSlides = new Set(tests.map((cell) => cell.slideId)).size;
  return `LEAKAGE: cell-level split (reproduce the paper): ${report.sharedSlides.length} of ${testSlides} test slide(s) also have training cells and ${report.duplicatedCells.length} identical cell(s) sit on both sides (seed ${split.seed}). Cells of one slide share patient, stain and scanner, so these numbers are optimistic; use the slide-level split for decisions.`;
}

function excludedByTagging(cells: readonly StudyCell[], untaggedSlides: readonly string[]): Record<string, number> {
  const untagged = new Set(untaggedSlides);
  const count = cells.filter((cell) => untagged.has(cell.slideId)).length;
  return count > 0 ? { 'slide without the domain tag': count } : {};
}

/** Every split, subset and run of a study, in the order they run (seed by seed, smallest fraction first). */
export function planStudy(spec: StudySpec, cells: readonly StudyCell[], domainOfSlide: ReadonlyMap<string, string> = new Map()): StudyPlan {
  if (cells.length === 0) throw new StudySpecError('classes', 'no labelled cell of the study\'s classes is left to split');
  const warnings: string[] = [];
  let raw: RawSplit[];
  let excluded: Record<string, number> = {};
  if (spec.kind === 'cross-domain') {
    const { splits, untaggedSlides } = crossDomainSplits(spec, cells, domainOfSlide);
    raw = splits;
    excluded = excludedByTagging(cells, untaggedSlides);
    if (untaggedSlides.length > 0) warnings.push(`${untaggedSlides.length} slide(s) have no "${spec.domain!.tagKey}" tag; their cells are in no split.`);
  } else {
    raw = ordinarySplits(spec, cells);
  }
  for (const split of raw) {
    const warning = leakageWarning(spec, split);
    if (warning) warnings.push(warning);
  }
  const splits: SplitPlan[] = raw.map((split) => ({
    seed: split.seed,
    domain: split.domain,
    validation: split.validation,
    tests: split.tests,
    subsets: nestedTrainingSubsets(split.train, spec.fractions, split.seed).map((subset) => ({ fraction: subset.fractionOfTrainingSet, cells: subset.cells })),
  }));
  const runs = splits.flatMap((split) =>
    split.subsets.flatMap((subset) =>
      spec.models.flatMap((modelId) =>
        spec.methods.map((method) => {
          const run = { modelId, method, fraction: subset.fraction, seed: split.seed, domain: split.domain };
          return { ...run, key: runKey(run), train: subset.cells, split };
        }),
      ),
    ),
  );
  return { splits, runs, warnings, excluded };
}
