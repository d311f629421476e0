import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { studiesCallSchemas } from '../../../../src-main/contract/studiesSchemas';
import { METRIC_NAMES } from '../../../../src-main/services/evaluation/summary';
import { parseStudySpec } from '../../../../src-main/services/evaluation/study/studySpec';
import { StudyRunner } from '../../../../src-main/services/evaluation/study/StudyRunner';
import { StudyStore } from '../../../../src-main/services/evaluation/study/StudyStore';
import { exportStudyReport, formatFraction, formatInterval, formatMeanSd, formatValue } from '../../../../src-main/services/evaluation/study/studyReport';
import { createStudyProject, type StudyProject } from './studyProject';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mitobench-report-'));
let fixture: StudyProject;
let store: StudyStore;
let studyId: number;
const quiet = { signal: new AbortController().signal, progress: () => {} };
const PLOT = { title: 'Scaling curve', svg: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle cx="5" cy="5" r="4"/></svg>' };

/** The rows of `<table data-table="name">`: each row's attributes and its cells' text (tags dropped, entities decoded). */
function tableRows(html: string, name: string): { attributes: Record<string, string>; cells: Map<string, string>; texts: string[] }[] {
  const table = new RegExp(`<table data-table="${name}">([\\s\\S]*?)</table>`).exec(html);
  if (!table) throw new Error(`no table ${name} in the report`);
  const body = /<tbody>([\s\S]*)<\/tbody>/.exec(table[1]!)![1]!;
  const decode = (text: string) => text.replace(/<br>/g, '\n').replace(/<[^>]+>/g, '').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&');
  return [...body.matchAll(/<tr([^>]*)>([\s\S]*?)<\/tr>/g)].map(([, attributeText, inner]) => {
    const attributes = Object.fromEntries([...attributeText!.matchAll(/data-([a-z-]+)="([^"]*)"/g)].map(([, key, value]) => [key!, decode(value!)]));
    const cellMatches = [...inner!.matchAll(/<td([^>]*)>([\s\S]*?)<\/td>/g)];
    const cells = new Map(cellMatches.flatMap(([, cellAttributes, text]) => {
      const key = /data-(?:metric|field)="([^"]+)"/.exec(cellAttributes!)?.[1];
      return key ? [[key, decode(text!)] as const] : [];
    }));
    return { attributes, cells, texts: cellMatches.map(([, , text]) => decode(text!)) };
  });
}

beforeAll(async () => {
  fixture = createStudyProject(dir, { slides: 16, cellsPerSlide: 20, dim: 12, positiveShare: 0.35, seed: 3, models: 2 });
  store = new StudyStore(fixture.project.db);
  const spec = parseStudySpec({ name: 'Scaling <b>& co</b>', kind: 'data-scaling', models: fixture.models.map((m) => m.id), classes: [1, 2], fractions: [0.25, 1], seeds: 2, bootstrapReplicates: 100 });
  studyId = store.create(spec);
  await new StudyRunner({ db: fixture.project.db, models: fixture.registry, appVersion: '1.2.3-test' }).run(studyId, quiet);
});
afterAll(() => {
  fixture.project.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('study report', () => {
  it('prints every over-seeds metric exactly as stored (mean ± SD and 95 % CI)', () => {
    const { html } = exportStudyReport(fixture.project.db, { studyId, overwrite: false, plots: [], appVersion: '1.2.4' });
    const stored = store.get(studyId).metrics.filter((m) => m.runId === null);
    const rows = tableRows(html, 'metrics');
    // 2 models × 1 method × 2 fractions, one test set.
    expect(rows).toHaveLength(4);
    expect(stored).toHaveLength(4 * METRIC_NAMES.length);
    for (const m of stored) {
      const row = rows.find((r) => Number(r.attributes.model) === m.modelId && Number(r.attributes.fraction) === m.fraction && r.attributes['test-set'] === m.testSet)!;
      expect(row).toBeDefined();
      const [meanSd, interval] = row.cells.get(m.metric)!.split('\n');
      expect(meanSd).toBe(formatMeanSd(m.value, m.sd));
      expect(interval).toBe(formatInterval(m.ciLower, m.ciUpper));
      // The printed numbers are the stored ones at three decimals.
      const numbers = [...`${meanSd} ${interval}`.matchAll(/-?\d+\.\d{3}/g)].map(([text]) => Number(text));
      const expected = [m.value, m.sd, m.ciLower, m.ciUpper].filter((v): v is number => v !== null);
      expect(numbers).toHaveLength(expected.length);
      numbers.forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThanOrEqual(0.0005 + 1e-12));
      expect(row.texts[2]).toBe(formatFraction(m.fraction));
      expect(row.texts[5]).toBe(String(m.seeds));
    }
  });

  it('prints every run metric and every paired comparison as stored', () => {
    const { html } = exportStudyReport(fixture.project.db, { studyId, overwrite: false, plots: [], appVersion: '1.2.4' });
    const detail = store.get(studyId);
    const runRows = tableRows(html, 'runs');
    expect(runRows).toHaveLength(detail.runs.length);
    for (const m of detail.metrics.filter((metric) => metric.runId !== null)) {
      const row = runRows.find((r) => Number(r.attributes.run) === m.runId && r.attributes['test-set'] === m.testSet)!;
      expect(row.cells.get(m.metric)).toBe(formatValue(m.value));
    }
    const comparisonRows = tableRows(html, 'comparisons');
    // Two models on the same cells: one pair per fraction and compared metric.
    expect(comparisonRows).toHaveLength(detail.comparisons.length);
    expect(detail.comparisons.length).toBe(2 * 2);
    detail.comparisons.forEach((c, i) => {
      expect(comparisonRows[i]!.attributes.metric).toBe(c.metric);
      expect(comparisonRows[i]!.cells.get('difference')).toBe(formatValue(c.difference));
      expect(comparisonRows[i]!.cells.get('ci')).toBe(formatInterval(c.ciLower, c.ciUpper));
    });
  });

  it('holds the reproducibility record, escapes names and embeds the charts', () => {
    const target = path.join(dir, 'report.html');
    const written = exportStudyReport(fixture.project.db, { studyId, target, overwrite: false, plots: [PLOT], appVersion: '1.2.4' });
    const html = fs.readFileSync(target, 'utf8');
    expect(written.files).toEqual([{ path: target, bytes: Buffer.byteLength(html) }]);
    expect(html).toBe(written.html);
    const record = store.get(studyId).record!;
    expect(html).toContain(record.labelSnapshotHash);
    for (const model of record.models) {
      expect(html).toContain(model.fileHash);
      expect(html).toContain(model.modelKey);
    }
    expect(html).toContain('1.2.3-test');
    expect(html).toContain('<h1>Scaling &lt;b&gt;&amp; co&lt;/b&gt;</h1>');
    expect(html).toContain(`<figure>${PLOT.svg}<figcaption>Scaling curve</figcaption></figure>`);
    expect(html).not.toMatch(/<script|<link|src=/i);
    expect(() => exportStudyReport(fixture.project.db, { studyId, target, overwrite: false, plots: [], appVersion: '1.2.4' })).toThrow(/already exists/);
  });

  it('shows a cell-level split loudly', async () => {
    const spec = parseStudySpec({ name: 'paper', kind: 'data-scaling', models: [fixture.models[0]!.id], classes: [1, 2], fractions: [1], seeds: 1, bootstrapReplicates: 100, split: { grouping: 'cell' } });
    const id = store.create(spec);
    await new StudyRunner({ db: fixture.project.db, models: fixture.registry, appVersion: '1.2.3-test' }).run(id, quiet);
    const { html } = exportStudyReport(fixture.project.db, { studyId: id, overwrite: false, plots: [], appVersion: '1.2.4' });
    expect(html).toMatch(/<section class="warnings">[\s\S]*LEAKAGE: cell-level split/);
    expect(html).toContain('by cell (reproduces the paper');
  });

  it('refuses charts that could run code or load anything', () => {
    const input = studiesCallSchemas['studies.exportReport'].input;
    expect(input.safeParse({ studyId: 1, plots: [PLOT] }).success).toBe(true);
    for (const svg of ['<svg><script>alert(1)</script></svg>', '<svg onload="x()"></svg>', '<svg><a href="https://x">a</a></svg>', '<div></div>']) {
      const result = input.safeParse({ studyId: 1, plots: [{ title: 'x', svg }] });
      expect(result.success).toBe(false);
      expect(result.error!.issues[0]!.path).toEqual(['plots', 0, 'svg']);
    }
  });
});
