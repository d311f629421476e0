import type { z } from 'zod';
import { UserFacingError } from '../../../contract/errors';
import { DEFAULT_STUDY_FRACTIONS, type StudySpec, studySpecSchema } from '../../../contract/studiesSchemas';

/** A study design that cannot be run; the message starts with the field at fault, e.g. "fractions[2]: must be in (0, 1]". */
export class StudySpecError extends UserFacingError {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super('invalid-argument', `${field}: ${problem}`);
    this.name = 'StudySpecError';
  }
}

/** A zod issue path as a person writes it: `split.testFraction`, `fractions[2]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text === '' ? 'spec' : text;
}

function firstIssue(error: z.ZodError): StudySpecError {
  const issue = error.issues[0]!;
  // A wrong or missing key is reported at the key itself, not at its parent object.
  if (issue.code === 'unrecognized_keys') return new StudySpecError(fieldPath([...issue.path, issue.keys[0]!]), 'is not a field of a study spec');
  return new StudySpecError(fieldPath(issue.path), issue.message);
}

/** Seeds 1…n for a count, or the listed seeds as given. */
function resolvedSeeds(seeds: number | number[]): number[] {
  return typeof seeds === 'number' ? Array.from({ length: seeds }, (_, i) => i + 1) : seeds;
}

/**
 * Validates a design (from the Studies page or a JSON file) and fills its defaults. Data scaling
 * defaults to the paper's four fractions; the other kinds train on the whole training set.
 */
export function parseStudySpec(raw: unknown): StudySpec {
  const parsed = studySpecSchema.safeParse(raw);
  if (!parsed.success) throw firstIssue(parsed.error);
  const spec = parsed.data;
  const fractions = spec.fractions ?? (spec.kind === 'data-scaling' ? DEFAULT_STUDY_FRACTIONS : [1]);
  const seeds = resolvedSeeds(spec.seeds);
  if (new Set(seeds).size !== seeds.length) throw new StudySpecError('seeds', 'lists a seed twice');
  if (new Set(fractions).size !== fractions.length) throw new StudySpecError('fractions', 'lists a fraction twice');
  return {
    name: spec.name,
    kind: spec.kind,
    models: spec.models,
    methods: [...new Set(spec.methods)],
    fractions: [...fractions].sort((a, b) => a - b),
    seeds,
    split: spec.split,
    labels: spec.labels,
    classes: spec.classes,
    positiveClass: spec.positiveClass ?? spec.classes[0]!,
    domain: spec.domain ?? null,
    bootstrapReplicates: spec.bootstrapReplicates,
    precision: spec.precision,
  };
}
