import { describe, expect, it } from 'vitest';
import { parseAnnotationCsv, serializeAnnotationCsv } from '../../../src-main/services/interop/csv/annotationCsv';
import { parseCsvRecords } from '../../../src-main/services/interop/csv/csvText';
import { contentOf, sampleCsvBundle } from '../../fixtures/interopSamples';
import { expectInteropError as expectError } from './expectInteropError';

const file = 'cells.csv';
const expectInteropError = (attempt: () => unknown, place: string | RegExp, problem: RegExp) => expectError(attempt, file, place, problem);

describe('CSV of cells', () => {
  it('round-trips every cell, class and vote, quoting what needs quoting', () => {
    const sample = sampleCsvBundle();
    const text = serializeAnnotationCsv(sample, file);
    expect(text.split('\r\n')[0]).toBe('x,y,label,slide,annotator');
    expect(text).toContain('"imposter, ""hard"" negative"');
    expect(contentOf(parseAnnotationCsv(text, file))).toEqual(contentOf(sample));
  });

  it('reads a hand-written file: spaces after commas, a header in any order, a row per vote', () => {
    const text = [
      'slide, x, y, label, annotator',
      'a.svs, 10, 20, mitotic figure, Dr A',
      'a.svs, 10, 20, imposter, Dr B',
      'a.svs, 10.0, 20, mitotic figure,',
      'b.svs, 5, 5, imposter,',
      '',
    ].join('\n');
    const bundle = parseAnnotationCsv(text, file);
    expect(bundle.slides.map((slide) => slide.fileName)).toEqual(['a.svs', 'b.svs']);
    expect(bundle.classes).toEqual([{ name: 'mitotic figure' }, { name: 'imposter' }]);
    expect(bundle.annotators).toEqual([
      { name: 'Dr A', kind: 'person' },
      { name: 'Dr B', kind: 'person' },
    ]);
    expect(bundle.cells).toEqual([
      {
        slideIndex: 0,
        shape: { kind: 'point', x: 10, y: 20 },
        votes: [
          { annotator: 'Dr A', className: 'mitotic figure' },
          { annotator: 'Dr B', className: 'imposter' },
        ],
        agreedClass: 'mitotic figure',
      },
      { slideIndex: 1, shape: { kind: 'point', x: 5, y: 5 }, votes: [], agreedClass: 'imposter' },
    ]);
  });

  it('reads the four-column form, semicolons, CRLF and a byte-order mark', () => {
    const text = '\ufeffx;y;label;slide\r\n1,5;2;mitotic figure;s.svs\r\n'.replace('1,5', '1.5');
    const bundle = parseAnnotationCsv(text, file);
    expect(bundle.annotators).toEqual([]);
    expect(bundle.cells).toEqual([{ slideIndex: 0, shape: { kind: 'point', x: 1.5, y: 2 }, votes: [], agreedClass: 'mitotic figure' }]);
  });

  it('counts lines inside quoted fields when naming a line', () => {
    const text = 'x,y,label,slide\n1,2,"two\nlines",s.svs\n3,oops,a,s.svs\n';
    expectInteropError(() => parseAnnotationCsv(text, file), 'line 4, column y', /"oops" is not a number/);
  });

  describe('refuses malformed files, naming the line', () => {
    it('an unknown or missing column', () => {
      expectInteropError(() => parseAnnotationCsv('x,y,label,slide,confidence\n', file), 'line 1', /unknown column "confidence"/);
      expectInteropError(() => parseAnnotationCsv('x,y,label\n1,2,a\n', file), 'line 1', /lacks slide/);
      expectInteropError(() => parseAnnotationCsv('', file), 'line 1', /is empty/);
    });

    it('a row with too few fields', () => {
      expectInteropError(() => parseAnnotationCsv('x,y,label,slide\n1,2,a,s\n1,2,a\n', file), 'line 3', /has 3 fields, the header has 4/);
    });

    it('an unclosed quote and text after a closing quote', () => {
      expectInteropError(() => parseAnnotationCsv('x,y,label,slide\n1,2,"a,s\n', file), 'line 2', /never closed/);
      expectInteropError(() => parseAnnotationCsv('x,y,label,slide\n1,2,"a"b,s\n', file), 'line 2', /after a closing quote/);
    });

    it('two classes for one cell without annotator, and an empty slide', () => {
      expectInteropError(() => parseAnnotationCsv('x,y,label,slide\n1,2,a,s\n1,2,b,s\n', file), 'line 3', /already has the class "a"/);
      expectInteropError(() => parseAnnotationCsv('x,y,label,slide\n1,2,a,\n', file), 'line 2, column slide', /slide is empty/);
    });
  });

  it('refuses shapes other than points, and cells it could not tell apart', () => {
    const bundle = sampleCsvBundle();
    bundle.cells[1]!.shape = { kind: 'rectangle', x1: 0, y1: 0, x2: 1, y2: 1 };
    expectInteropError(() => serializeAnnotationCsv(bundle, file), 'cells[1].shape', /a rectangle cannot be written/);
    const twins = sampleCsvBundle();
    twins.cells[3] = { ...twins.cells[2]!, votes: [] };
    expectInteropError(() => serializeAnnotationCsv(twins, file), 'cells[3]', /same point of .* as cells\[2\]/s);
  });

  it('splits records as RFC 4180 says', () => {
    expect(parseCsvRecords('a,"b,""c"""\r\n" d ",e\n', ',', file)).toEqual([
      { line: 1, fields: ['a', 'b,"c"'] },
      { line: 2, fields: [' d ', 'e'] },
    ]);
  });
});
