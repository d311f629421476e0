import type { Database } from 'better-sqlite3';
import type { ReportPlot, StudyDetail, StudyMetricInfo, StudyRunInfo } from '../../../contract/studiesSchemas';
import { METRIC_NAMES, type MetricName } from '../summary';
import { writeChecked } from './studyExport';
import { StudyStore } from './StudyStore';

/*
 * The printable study report: one self-contained HTML file (inline CSS, inline SVG charts, no
 * script, no external resource) that a browser prints to PDF. Every number is the stored one at
 * three decimals, so a reader can trace each back to the CSV/JSON export and the database.
 */

export const METRIC_LABELS: Record<MetricName, string> = {
  balancedAccuracy: 'Balanced accuracy',
  auroc: 'AUROC',
  weightedF1: 'Weighted F1',
  accuracy: 'Accuracy',
  quadraticKappa: 'Quadratic κ',
  sensitivity: 'Sensitivity',
  specificity: 'Specificity',
  averagePrecision: 'Average precision',
};

export interface StudyReportInput {
  detail: StudyDetail;
  classNames: ReadonlyMap<number, string>;
  modelNames: ReadonlyMap<number, string>;
  /** The chosen annotator's name when labels come from one person. */
  annotatorName: string | null;
  plots: readonly ReportPlot[];
  generatedAt: Date;
  /** The app version writing the report (the record keeps the one that computed the numbers). */
  generatorVersion: string;
}

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** A stored value as the report prints it; '—' where the metric is undefined. */
export function formatValue(value: number | null): string {
  return value === null ? '—' : value.toFixed(3);
}

export function formatMeanSd(value: number | null, sd: number | null): string {
  return sd === null ? formatValue(value) : `${formatValue(value)} ± ${formatValue(sd)}`;
}

export function formatInterval(lower: number | null, upper: number | null): string {
  return lower === null || upper === null ? '—' : `[${formatValue(lower)}, ${formatValue(upper)}]`;
}

/** 0.001 → "0.1 %": without float noise (0.1 × 100 is 10.000000000000002). */
export function formatFraction(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(6))} %`;
}

const cell = (text: string, attributes = '') => `<td${attributes}>${escapeHtml(text)}</td>`;
const headerRow = (labels: readonly string[]) => `<tr>${labels.map((label) => `<th>${escapeHtml(label)}</th>`).join('')}</tr>`;

interface GroupKey {
  modelId: number;
  method: string;
  fraction: number;
  domain: string;
  testSet: string;
}

function groupKeyOf(metric: GroupKey): string {
  return JSON.stringify([metric.modelId, metric.method, metric.fraction, metric.domain, metric.testSet]);
}

/** Over-seeds metric rows grouped by variant, fraction, domain and test set, in stored order. */
function overSeedsGroups(metrics: readonly StudyMetricInfo[]): StudyMetricInfo[][] {
  const groups = new Map<string, StudyMetricInfo[]>();
  for (const metric of metrics.filter((m) => m.runId === null)) {
    const key = groupKeyOf(metric);
    groups.set(key, [...(groups.get(key) ?? []), metric]);
  }
  return [...groups.values()];
}

function groupAttributes(group: GroupKey): string {
  return ` data-model="${group.modelId}" data-method="${escapeHtml(group.method)}" data-fraction="${group.fraction}" data-domain="${escapeHtml(group.domain)}" data-test-set="${escapeHtml(group.testSet)}"`;
}

function modelName(input: StudyReportInput, modelId: number): string {
  return input.modelNames.get(modelId) ?? `model ${modelId}`;
}

function definitionList(entries: readonly (readonly [string, string])[]): string {
  return `<dl>${entries.map(([term, value]) => `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>`;
}

function designSection(input: StudyReportInput): string {
  const { spec } = input.detail;
  const classes = spec.classes.map((id) => `${input.classNames.get(id) ?? `class ${id}`}${id === spec.positiveClass ? ' (positive)' : ''}`);
  const entries: [string, string][] = [
    ['Kind', spec.kind],
    ['Models', spec.models.map((id) => modelName(input, id)).join(', ')],
    ['Methods', spec.methods.join(', ')],
    ['Training fractions', spec.fractions.map(formatFraction).join(', ')],
    ['Seeds', spec.seeds.join(', ')],
    [
      'Split',
      `${spec.split.grouping === 'cell' ? 'by cell (reproduces the paper; cells of one slide on both sides)' : 'by slide, stratified by class'}; test ${formatFraction(spec.split.testFraction)}, validation ${formatFraction(spec.split.validationFraction)}`,
    ],
    ['Labels', spec.labels.source === 'consensus' ? 'consensus' : `annotator ${input.annotatorName ?? spec.labels.annotatorId}`],
    ['Classes', classes.join(', ')],
    ['Bootstrap replicates', String(spec.bootstrapReplicates)],
    ['Embedding precision', spec.precision],
  ];
  if (spec.domain) entries.push(['Domain', `slide tag "${spec.domain.tagKey}", ${spec.domain.mode}`]);
  return `<section><h2>Design</h2>${definitionList(entries)}</section>`;
}

function dataSection(detail: StudyDetail): string {
  const { record, summary } = detail;
  const entries: [string, string][] = [
    ['State', summary.state],
    ['Runs', `${summary.runsDone} done, ${summary.runsFailed} failed of ${summary.runsPlanned ?? '?'} planned`],
  ];
  if (record) {
    entries.push(['Cells', String(record.cells)], ['Slides', String(record.slides)]);
    const excluded = Object.entries(record.excludedCells);
    entries.push(['Cells left out', excluded.length === 0 ? 'none' : excluded.map(([reason, count]) => `${count} (${reason})`).join(', ')]);
  }
  return `<section><h2>Data</h2>${definitionList(entries)}</section>`;
}

function warningsSection(detail: StudyDetail): string {
  const notes = [...detail.warnings, ...(detail.error ? [`The study stopped with an error: ${detail.error}`] : [])];
  if (notes.length === 0) return '';
  return `<section class="warnings"><h2>Warnings</h2><ul>${notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul></section>`;
}

function metricsTable(input: StudyReportInput): string {
  const groups = overSeedsGroups(input.detail.metrics);
  if (groups.length === 0) return '<p>No metrics over seeds yet: the study has not finished.</p>';
  const header = headerRow(['Model', 'Method', 'Fraction', 'Domain', 'Test set', 'Seeds', ...METRIC_NAMES.map((name) => METRIC_LABELS[name])]);
  const rows = groups.map((group) => {
    const first = group[0]!;
    const byName = new Map(group.map((m) => [m.metric, m]));
    const metricCells = METRIC_NAMES.map((name) => {
      const m = byName.get(name);
      if (!m) return `<td data-metric="${name}">—</td>`;
      return `<td data-metric="${name}"><span class="value">${escapeHtml(formatMeanSd(m.value, m.sd))}</span><br><span class="ci">${escapeHtml(formatInterval(m.ciLower, m.ciUpper))}</span></td>`;
    });
    return `<tr${groupAttributes(first)}>${cell(modelName(input, first.modelId))}${cell(first.method)}${cell(formatFraction(first.fraction))}${cell(first.domain || '—')}${cell(first.testSet)}${cell(String(first.seeds))}${metricCells.join('')}</tr>`;
  });
  return `<table data-table="metrics"><thead>${header}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function runsTable(input: StudyReportInput): string {
  const { runs, metrics } = input.detail;
  if (runs.length === 0) return '<p>No run has finished yet.</p>';
  const byRun = new Map<number, StudyMetricInfo[]>();
  for (const m of metrics) if (m.runId !== null) byRun.set(m.runId, [...(byRun.get(m.runId) ?? []), m]);
  const header = headerRow(['Run', 'Model', 'Method', 'Fraction', 'Seed', 'Domain', 'Test set', 'Train / val. / test cells', 'Status', ...METRIC_NAMES.map((name) => METRIC_LABELS[name])]);
  const rows = runs.flatMap((run: StudyRunInfo) => {
    const runMetrics = byRun.get(run.id) ?? [];
    const testSets = [...new Set(runMetrics.map((m) => m.testSet))];
    const common = (testSet: string) =>
      `${cell(String(run.id))}${cell(modelName(input, run.modelId))}${cell(run.method)}${cell(formatFraction(run.fraction))}${cell(String(run.seed))}${cell(run.domain || '—')}${cell(testSet)}${cell(`${run.trainCells} / ${run.validationCells} / ${run.testCells}`)}${cell(run.status === 'done' ? 'done' : `failed: ${run.error ?? ''}`)}`;
    if (testSets.length === 0) return [`<tr data-run="${run.id}">${common('—')}${METRIC_NAMES.map(() => '<td>—</td>').join('')}</tr>`];
    return testSets.map((testSet) => {
      const values = new Map(runMetrics.filter((m) => m.testSet === testSet).map((m) => [m.metric, m]));
      const metricCells = METRIC_NAMES.map((name) => {
        const m = values.get(name);
        return `<td data-metric="${name}">${escapeHtml(formatValue(m?.value ?? null))}</td>`;
      });
      return `<tr data-run="${run.id}" data-test-set="${escapeHtml(testSet)}">${common(testSet)}${metricCells.join('')}</tr>`;
    });
  });
  return `<table data-table="runs"><thead>${header}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function comparisonsTable(input: StudyReportInput): string {
  const { comparisons } = input.detail;
  if (comparisons.length === 0) return '<p>No paired comparison: the study has one model and one method.</p>';
  const header = headerRow(['A', 'B', 'Metric', 'Fraction', 'Domain', 'Test set', 'A − B', '95 % CI', 'Seeds']);
  const rows = comparisons.map((c) => {
    const variant = (side: { modelId: number; method: string }) => `${modelName(input, side.modelId)} · ${side.method}`;
    const label = METRIC_LABELS[c.metric as MetricName] ?? c.metric;
    return `<tr data-metric="${escapeHtml(c.metric)}">${cell(variant(c.a))}${cell(variant(c.b))}${cell(label)}${cell(formatFraction(c.fraction))}${cell(c.domain || '—')}${cell(c.testSet)}${cell(formatValue(c.difference), ' data-field="difference"')}${cell(formatInterval(c.ciLower, c.ciUpper), ' data-field="ci"')}${cell(String(c.seeds))}</tr>`;
  });
  return `<table data-table="comparisons"><thead>${header}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function plotsSection(plots: readonly ReportPlot[]): string {
  if (plots.length === 0) return '';
  // The SVG strings were checked against reportPlotSchema (no script, handler or link).
  const figures = plots.map((plot) => `<figure>${plot.svg}<figcaption>${escapeHtml(plot.title)}</figcaption></figure>`);
  return `<section><h2>Charts</h2>${figures.join('')}</section>`;
}

function recordSection(input: StudyReportInput): string {
  const { record } = input.detail;
  if (!record) return '<section><h2>Reproducibility record</h2><p>The study has not been run yet.</p></section>';
  const entries: [string, string][] = [
    ['App version (numbers)', record.appVersion],
    ['App version (report)', input.generatorVersion],
    ['Label snapshot (SHA-256)', record.labelSnapshotHash],
    ['Seeds', record.seeds.join(', ')],
    ['Started', record.startedAt],
    ['Report written', input.generatedAt.toISOString()],
  ];
  const header = headerRow(['Model', 'Id', 'File hash', 'Model key', 'Patch parameters']);
  const rows = record.models.map((m) => `<tr>${cell(m.name)}${cell(String(m.id))}${cell(m.fileHash, ' class="hash"')}${cell(m.modelKey, ' class="hash"')}${cell(m.paramsKey, ' class="hash"')}</tr>`);
  return `<section><h2>Reproducibility record</h2>${definitionList(entries)}<table data-table="models"><thead>${header}</thead><tbody>${rows.join('')}</tbody></table></section>`;
}

const STYLE = `
  @page { size: A4 landscape; margin: 12mm; }
  body { font: 11px/1.4 system-ui, sans-serif; color: #1d1b22; margin: 1.5rem; }
  h1 { font-size: 1.6em; margin: 0 0 0.2em; } h2 { font-size: 1.2em; margin: 1.4em 0 0.4em; border-bottom: 1px solid #ccc; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15em 1em; margin: 0; } dt { font-weight: 600; } dd { margin: 0; }
  table { border-collapse: collapse; width: 100%; margin: 0.4em 0; font-variant-numeric: tabular-nums; }
  th, td { border: 1px solid #ccc; padding: 0.2em 0.4em; text-align: left; vertical-align: top; }
  th { background: #f1eef4; } .ci { color: #555; } .hash { font-family: ui-monospace, monospace; word-break: break-all; }
  .warnings { border: 3px solid #b3261e; background: #fdecea; padding: 0.4em 1em; color: #8c1d18; font-weight: 600; }
  .warnings h2 { border: none; color: #b3261e; }
  figure { display: inline-block; vertical-align: top; margin: 0.5em 1em 0.5em 0; break-inside: avoid; } figcaption { text-align: center; color: #444; }
  tr { break-inside: avoid; }
`;

/** The whole report as one HTML document. */
export function renderStudyReport(input: StudyReportInput): string {
  const { summary } = input.detail;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`Mitobench study: ${summary.name}`)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(summary.name)}</h1>
<p>Mitobench study ${summary.id} · ${escapeHtml(summary.kind)} · created ${escapeHtml(summary.createdAt)}${summary.finishedAt ? ` · finished ${escapeHtml(summary.finishedAt)}` : ''}</p>
${warningsSection(input.detail)}
${designSection(input)}
${dataSection(input.detail)}
<section><h2>Results over seeds (mean ± SD, 95 % CI by bootstrap over slides)</h2>${metricsTable(input)}</section>
<section><h2>Paired comparisons (same test cells, 95 % CI by paired bootstrap over slides)</h2>${comparisonsTable(input)}</section>
${plotsSection(input.plots)}
<section><h2>Runs (value on each test set)</h2>${runsTable(input)}</section>
${recordSection(input)}
</body></html>
`;
}

function namesById(db: Database, sql: string): Map<number, string> {
  return new Map((db.prepare(sql).all() as { id: number; name: string }[]).map((row) => [row.id, row.name]));
}

/** Model names as the record saw them, or as registered for a study not run yet. */
function modelNames(db: Database, detail: StudyDetail): Map<number, string> {
  const names = namesById(db, 'SELECT id, name FROM models');
  for (const model of detail.record?.models ?? []) names.set(model.id, model.name);
  return names;
}

export interface WrittenReport {
  files: { path: string; bytes: number }[];
  html: string;
}

/** Builds the report of a stored study and, when `target` is given, writes it there atomically. */
export function exportStudyReport(
  db: Database,
  options: { studyId: number; target?: string; overwrite: boolean; plots: readonly ReportPlot[]; appVersion: string; now?: Date },
): WrittenReport {
  const detail = new StudyStore(db).get(options.studyId);
  const html = renderStudyReport({
    detail,
    classNames: namesById(db, 'SELECT id, name FROM classes'),
    modelNames: modelNames(db, detail),
    annotatorName: detail.spec.labels.source === 'annotator' ? (namesById(db, 'SELECT id, name FROM annotators').get(detail.spec.labels.annotatorId) ?? null) : null,
    plots: options.plots,
    generatedAt: options.now ?? new Date(),
    generatorVersion: options.appVersion,
  });
  if (options.target === undefined) return { files: [], html };
  return { files: [writeChecked(options.target, html, options.overwrite ?? false)], html };
}
