import { describe, expect, it } from 'vitest';
import { parseStudySpec, StudySpecError } from '../../../../src-main/services/evaluation/study/studySpec';

const valid = { name: 'Scaling', kind: 'data-scaling', models: [1], classes: [1, 2] };

function problemOf(raw: unknown): string {
  try {
    parseStudySpec(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(StudySpecError);
    return (error as Error).message;
  }
  throw new Error('the spec was accepted');
}

describe('study spec', () => {
  it('fills the defaults: paper fractions for data scaling, 5 seeds, slide split, consensus, 1,000 replicates', () => {
    const spec = parseStudySpec(valid);
    expect(spec.fractions).toEqual([0.001, 0.01, 0.1, 1]);
    expect(spec.seeds).toEqual([1, 2, 3, 4, 5]);
    expect(spec.methods).toEqual(['linear-probe']);
    expect(spec.split).toEqual({ grouping: 'slide', testFraction: 0.2, validationFraction: 0.1 });
    expect(spec.labels).toEqual({ source: 'consensus' });
    expect(spec.positiveClass).toBe(1);
    expect(spec.bootstrapReplicates).toBe(1000);
    expect(spec.domain).toBeNull();
    expect(parseStudySpec({ ...valid, kind: 'model-method' }).fractions).toEqual([1]);
    expect(parseStudySpec({ ...valid, seeds: [7, 3] }).seeds).toEqual([7, 3]);
  });

  it('names the field at fault, with list indices', () => {
    expect(problemOf({ ...valid, fractions: [0.1, 0.5, 1.5] })).toBe('fractions[2]: must be in (0, 1]');
    expect(problemOf({ ...valid, fractions: [0.1, 'half'] })).toBe('fractions[1]: must be a number');
    expect(problemOf({ ...valid, split: { testFraction: 1.2 } })).toBe('split.testFraction: must be in [0, 1)');
    expect(problemOf({ ...valid, split: { testFraction: 0.6, validationFraction: 0.5 } })).toMatch(/^split\.testFraction: testFraction \+ validationFraction/);
    expect(problemOf({ ...valid, split: { grouping: 'patient' } })).toMatch(/^split\.grouping: must be 'slide' or 'cell'/);
    expect(problemOf({ ...valid, methods: ['linear-probe', 'svm'] })).toMatch(/^methods\[1\]: /);
    expect(problemOf({ ...valid, models: [] })).toBe('models: needs at least one model');
    expect(problemOf({ ...valid, classes: [1] })).toBe('classes: needs at least two classes');
    expect(problemOf({ ...valid, positiveClass: 9 })).toBe('positiveClass: is 9, which is not among classes');
    expect(problemOf({ ...valid, kind: 'cross-domain' })).toMatch(/^domain: is required/);
    expect(problemOf({ ...valid, kind: 'cross-domain', domain: { tagKey: 'tumour' }, split: { grouping: 'cell' } })).toMatch(/^split\.grouping: must be 'slide'/);
    expect(problemOf({ ...valid, labels: { source: 'annotator' } })).toMatch(/^labels\.annotatorId: /);
    expect(problemOf({ ...valid, fraction: [0.1] })).toBe('fraction: is not a field of a study spec');
    expect(problemOf({ ...valid, seeds: [1, 1] })).toBe('seeds: lists a seed twice');
    expect(problemOf({ ...valid, name: undefined })).toMatch(/^name: /);
    expect(problemOf(null)).toMatch(/^spec: /);
  });
});
