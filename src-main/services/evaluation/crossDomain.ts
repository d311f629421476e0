import { InvalidEvaluationInputError } from './errors';
import { type SplitCell, type SplitFractions, splitBySlide } from './splits';

/*
 * Cross-domain splits. A domain is a slide tag (tumour type, scanner, site, species); every slide
 * belongs to one domain per study, so domains never share slides and out-of-domain tests cannot leak.
 */

export interface DomainTagging {
  /** The domain of each slide; slides missing here are left out of the study and listed. */
  domainOfSlide: ReadonlyMap<string, string>;
}

export interface TrainOnDomainSplit<T> {
  trainingDomain: string;
  train: T[];
  validation: T[];
  /** The held-out slides of the training domain. */
  inDomainTest: T[];
  /** Every cell of each other domain, keyed by domain. */
  outOfDomainTests: Map<string, T[]>;
}

export interface LeaveOneDomainOutSplit<T> {
  heldOutDomain: string;
  /** Slides of all other domains, split by slide into train and validation. */
  train: T[];
  validation: T[];
  test: T[];
}

export interface CrossDomainSplits<S> {
  splits: S[];
  /** Slides without a domain tag, sorted: their cells are in no split. */
  untaggedSlides: string[];
}

function cellsByDomain<T extends SplitCell>(cells: readonly T[], tagging: DomainTagging): { domains: Map<string, T[]>; untaggedSlides: string[] } {
  const domains = new Map<string, T[]>();
  const untagged = new Set<string>();
  for (const cell of cells) {
    const domain = tagging.domainOfSlide.get(cell.slideId);
    if (domain === undefined) untagged.add(cell.slideId);
    else if (domains.has(domain)) domains.get(domain)!.push(cell);
    else domains.set(domain, [cell]);
  }
  if (domains.size < 2) {
    throw new InvalidEvaluationInputError('domainOfSlide', `tags the cells' slides with ${domains.size} domain(s); cross-domain needs at least 2`);
  }
  const sorted = new Map([...domains.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { domains: sorted, untaggedSlides: [...untagged].sort() };
}

/** For each domain: train on part of its slides, test on its held-out slides and on every other domain. */
export function trainOnEachDomain<T extends SplitCell>(
  cells: readonly T[],
  tagging: DomainTagging,
  fractions: SplitFractions,
  seed: number,
): CrossDomainSplits<TrainOnDomainSplit<T>> {
  const { domains, untaggedSlides } = cellsByDomain(cells, tagging);
  const splits = [...domains.entries()].map(([domain, domainCells]) => {
    const split = splitBySlide(domainCells, fractions, seed);
    const others = [...domains.entries()].filter(([other]) => other !== domain);
    return { trainingDomain: domain, train: split.train, validation: split.validation, inDomainTest: split.test, outOfDomainTests: new Map(others) };
  });
  return { splits, untaggedSlides };
}

/** For each domain: train (and validate) on all the others, test on it. */
export function leaveOneDomainOut<T extends SplitCell>(
  cells: readonly T[],
  tagging: DomainTagging,
  fractions: { train: number; validation: number },
  seed: number,
): CrossDomainSplits<LeaveOneDomainOutSplit<T>> {
  const { domains, untaggedSlides } = cellsByDomain(cells, tagging);
  const splits = [...domains.entries()].map(([domain, domainCells]) => {
    const rest = [...domains.entries()].filter(([other]) => other !== domain).flatMap(([, otherCells]) => otherCells);
    const split = splitBySlide(rest, { ...fractions, test: 0 }, seed);
    return { heldOutDomain: domain, train: split.train, validation: split.validation, test: domainCells };
  });
  return { splits, untaggedSlides };
}
