import fs from 'node:fs';
import path from 'node:path';
import { UserFacingError } from '../../../contract/errors';
import { writeFileAtomically } from '../../interop/atomicFile';
import type { StudyStore } from './StudyStore';

/** A written file and its size. */
export interface WrittenFile {
  path: string;
  bytes: number;
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csv(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}

/** Writes `content` atomically to `target`, refusing to replace an existing file unless `overwrite`. */
export function writeChecked(target: string, content: string, overwrite: boolean): WrittenFile {
  const resolved = path.resolve(target);
  if (!overwrite && fs.existsSync(resolved)) throw new UserFacingError('file-exists', `${resolved}: already exists; choose another name or overwrite it`, resolved);
  writeFileAtomically(resolved, content);
  return { path: resolved, bytes: Buffer.byteLength(content) };
}

/** `metrics.csv` → `metrics.predictions.csv`, beside it. */
export function predictionsPathBeside(metricsPath: string): string {
  const parsed = path.parse(path.resolve(metricsPath));
  return path.join(parsed.dir, `${parsed.name}.predictions.csv`);
}

/** Every metric (per run and over seeds) to `target`, every prediction beside it; each file written atomically. */
export function exportStudyCsv(store: StudyStore, studyId: number, target: string, overwrite = false): WrittenFile[] {
  const detail = store.get(studyId);
  const runsById = new Map(detail.runs.map((run) => [run.id, run]));
  const metricRows = detail.metrics.map((m) => [
    m.runId === null ? 'over seeds' : 'run',
    m.runId,
    m.modelId,
    m.method,
    m.fraction,
    m.runId === null ? null : (runsById.get(m.runId)?.seed ?? null),
    m.domain,
    m.testSet,
    m.metric,
    m.value,
    m.sd,
    m.ciLower,
    m.ciUpper,
    m.seeds,
  ]);
  const metrics = csv(['scope', 'run_id', 'model_id', 'method', 'fraction', 'seed', 'domain', 'test_set', 'metric', 'value', 'sd', 'ci95_lower', 'ci95_upper', 'seeds'], metricRows);
  const classHeader = detail.spec.classes.map((classId) => `p_class_${classId}`);
  const predictionRows = detail.runs.flatMap((run) =>
    store.predictions(run.id).map((p) => [run.id, run.modelId, run.method, run.fraction, run.seed, run.domain, p.testSet, p.annotationId, p.slideId, p.x, p.y, p.trueClassId, p.predictedClassId, ...p.probabilities]),
  );
  const predictions = csv(['run_id', 'model_id', 'method', 'fraction', 'seed', 'domain', 'test_set', 'annotation_id', 'slide_id', 'x', 'y', 'true_class_id', 'predicted_class_id', ...classHeader], predictionRows);
  const predictionsPath = predictionsPathBeside(target);
  if (!overwrite && fs.existsSync(predictionsPath)) throw new UserFacingError('file-exists', `${predictionsPath}: already exists; choose another name or overwrite it`, predictionsPath);
  return [writeChecked(target, metrics, overwrite), writeChecked(predictionsPath, predictions, overwrite)];
}

/** The whole study (design, record, warnings, runs, metrics, comparisons, predictions per run) as one JSON file. */
export function exportStudyJson(store: StudyStore, studyId: number, target: string, overwrite = false): WrittenFile[] {
  const detail = store.get(studyId);
  const predictions = Object.fromEntries(detail.runs.map((run) => [run.id, store.predictions(run.id)]));
  return [writeChecked(target, `${JSON.stringify({ ...detail, predictions }, null, 2)}\n`, overwrite)];
}
