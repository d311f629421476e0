import { describe, expect, it } from 'vitest';
import type { AnnotationBundle } from '../../../src-main/services/interop/AnnotationBundle';
import { parseMidogJson } from '../../../src-main/services/interop/midog/parseMidogJson';
import { serializeMidogJson } from '../../../src-main/services/interop/midog/serializeMidogJson';
import { contentOf, sampleMidogBundle, sampleMidogDocument, sampleNamedVotersBundle } from '../../fixtures/interopSamples';
import { expectInteropError as expectError } from './expectInteropError';

const file = 'labels.json';
const expectInteropError = (attempt: () => unknown, place: string | RegExp, problem: RegExp) => expectError(attempt, file, place, problem);

type JsonObject = Record<string, unknown>;
interface SampleDocument {
  images?: JsonObject[];
  annotations: JsonObject[];
}

function documentWith(change: (document: SampleDocument) => void): string {
  const document = sampleMidogDocument() as unknown as SampleDocument;
  change(document);
  return JSON.stringify(document);
}

describe('MIDOG JSON', () => {
  it('reads bbox [x1, y1, x2, y2] as the box centre, tumor_type as a tag and labels as votes by position', () => {
    const bundle = parseMidogJson(JSON.stringify(sampleMidogDocument()), file);
    expect(bundle.sourceFormat).toBe('midog-json');
    expect(contentOf(bundle)).toEqual(contentOf(sampleMidogBundle()));
    expect(bundle.warnings).toEqual([]);
  });

  it('writes the same structure back', () => {
    expect(JSON.parse(serializeMidogJson(sampleMidogBundle(), file))).toEqual(sampleMidogDocument());
  });

  it('round-trips every cell, class and vote', () => {
    const sample = sampleMidogBundle();
    const again = parseMidogJson(serializeMidogJson(sample, file), file);
    expect(contentOf(again)).toEqual(contentOf(sample));
  });

  it('keeps named voters, gaps and class-less votes through mitobench_annotators', () => {
    const sample = sampleNamedVotersBundle();
    const text = serializeMidogJson(sample, file);
    const document = JSON.parse(text);
    expect(document.mitobench_annotators).toEqual([
      { name: 'Dr. Ada Lovelace', kind: 'person' },
      { name: 'RetinaNet', kind: 'model' },
      { name: 'Dr. Grace Hopper', kind: 'person' },
    ]);
    expect(document.annotations.map((annotation: { labels: unknown }) => annotation.labels)).toEqual([
      [1, null, 2],
      [null, 0],
    ]);
    expect(contentOf(parseMidogJson(text, file))).toEqual(contentOf(sample));
  });

  it('reads bytes as well as text, with or without a byte-order mark', () => {
    const text = JSON.stringify(sampleMidogDocument());
    const bytes = new TextEncoder().encode(`\ufeff${text}`);
    expect(contentOf(parseMidogJson(bytes, file))).toEqual(contentOf(sampleMidogBundle()));
  });

  it('collapses repeated identical votes of one annotator, and refuses conflicting ones', () => {
    const bundle: AnnotationBundle = sampleNamedVotersBundle();
    bundle.cells[0]!.votes.push({ annotator: 'Dr. Ada Lovelace', className: 'mitotic figure' });
    expect(JSON.parse(serializeMidogJson(bundle, file)).annotations[0].labels).toEqual([1, null, 2]);
    bundle.cells[0]!.votes.push({ annotator: 'Dr. Ada Lovelace', className: 'imposter' });
    expectInteropError(() => serializeMidogJson(bundle, file), 'cells[0].votes[3]', /votes twice with different classes/);
  });

  it('derives the category from a clear majority when no agreed class is given, and refuses a tie', () => {
    const bundle = sampleNamedVotersBundle();
    delete bundle.cells[0]!.agreedClass;
    bundle.cells[0]!.votes.push({ annotator: 'RetinaNet', className: 'imposter' });
    expect(JSON.parse(serializeMidogJson(bundle, file)).annotations[0].category_id).toBe(2);
    bundle.cells[0]!.votes.pop();
    expectInteropError(() => serializeMidogJson(bundle, file), 'cells[0].agreedClass', /no agreed class and no majority/);
  });

  it('leaves deleted cells out and refuses shapes that are not boxes', () => {
    const bundle = sampleMidogBundle();
    bundle.cells[0]!.deleted = true;
    expect(JSON.parse(serializeMidogJson(bundle, file)).annotations).toHaveLength(3);
    bundle.cells[1]!.shape = { kind: 'circle', x: 1, y: 2, radius: 3 };
    expectInteropError(() => serializeMidogJson(bundle, file), 'cells[1].shape', /a circle cannot be written/);
  });

  it('refuses a bundle whose votes name an unknown annotator', () => {
    const bundle = sampleMidogBundle();
    bundle.cells[2]!.votes[0]!.annotator = 'nobody';
    expectInteropError(() => serializeMidogJson(bundle, file), 'cells[2].votes[0].annotator', /"nobody" is not among/);
  });

  describe('refuses malformed files, naming the place', () => {
    it('a truncated file', () => {
      const text = JSON.stringify(sampleMidogDocument(), null, 1);
      const half = text.slice(0, Math.floor(text.length / 2));
      expectInteropError(() => parseMidogJson(half, file), /^line \d+, column \d+$/, /the file looks truncated/);
    });

    it('text that is not JSON', () => {
      expectInteropError(() => parseMidogJson('{"images": [1, 2,, 3]}', file), 'line 1, column 18', /is not valid JSON/);
    });

    it('a bbox with the wrong number of values', () => {
      const text = documentWith((document) => (document.annotations[1]!.bbox = [1, 2, 3]));
      expectInteropError(() => parseMidogJson(text, file), 'annotations[1].bbox', /\[x1, y1, x2, y2\] \(4 numbers\), but has 3/);
    });

    it('a COCO [x, y, width, height] box', () => {
      const text = documentWith((document) => (document.annotations[0]!.bbox = [4336, 346, 50, 50]));
      expectInteropError(() => parseMidogJson(text, file), 'annotations[0].bbox', /COCO \[x, y, width, height\]/);
    });

    it('an unknown image_id or category_id', () => {
      const unknownImage = documentWith((document) => (document.annotations[2]!.image_id = 99));
      expectInteropError(() => parseMidogJson(unknownImage, file), 'annotations[2].image_id', /image 99 is not among/);
      const unknownCategory = documentWith((document) => (document.annotations[3]!.category_id = 3));
      expectInteropError(() => parseMidogJson(unknownCategory, file), 'annotations[3].category_id', /category 3 is not among/);
      const unknownLabel = documentWith((document) => (document.annotations[3]!.labels = [1, 4]));
      expectInteropError(() => parseMidogJson(unknownLabel, file), 'annotations[3].labels[1]', /category 4 is not among/);
    });

    it('a missing list or a wrong type', () => {
      const noImages = documentWith((document) => delete document.images);
      expectInteropError(() => parseMidogJson(noImages, file), 'images', /is missing \(expected array\)/);
      const textId = documentWith((document) => (document.annotations[0]!.id = 'one'));
      expectInteropError(() => parseMidogJson(textId, file), 'annotations[0].id', /expected number/);
    });

    it('duplicate image ids', () => {
      const text = documentWith((document) => (document.images![1]!.id = 1));
      expectInteropError(() => parseMidogJson(text, file), 'images[1].id', /appears twice/);
    });

    it('bytes that are not UTF-8', () => {
      expectInteropError(() => parseMidogJson(new Uint8Array([0xff, 0xfe, 0x00, 0x7b]), file), '', /not UTF-8/);
    });
  });

  it('warns about annotation fields it does not read', () => {
    const text = documentWith((document) => {
      for (const annotation of document.annotations) annotation.area = 2500;
    });
    expect(parseMidogJson(text, file).warnings).toEqual(['annotation fields Mitobench does not read were skipped: area (4×)']);
  });
});
