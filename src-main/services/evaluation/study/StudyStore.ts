import type { Database } from 'better-sqlite3';
import { UserFacingError } from '../../../contract/errors';
import {
  type ReproducibilityRecord,
  type StudyComparisonInfo,
  type StudyDetail,
  type StudyMethod,
  type StudyMetricInfo,
  type StudyPrediction,
  type StudyRunInfo,
  type StudySpec,
  type StudySummary,
  resolvedStudySpecSchema,
} from '../../../contract/studiesSchemas';
import type { MetricName } from '../summary';
import type { GroupMetric, PairedComparison, RunPredictions } from './aggregate';
import { type PlannedRun, runKey } from './studyPlan';
import { predictionsBySlide } from './weightedMetrics';

type StudyState = StudySummary['state'];

/** A test cell's prediction as the runner stores it. */
export interface StoredPrediction {
  annotationId: number;
  slideId: number;
  x: number;
  y: number;
  testSet: string;
  trueClass: number;
  predictedClass: number;
  probabilities: readonly number[];
}

export interface StoredRunMetric {
  testSet: string;
  metric: MetricName;
  value: number;
  ciLower: number;
  ciUpper: number;
}

export interface FinishedRun {
  run: Pick<PlannedRun, 'modelId' | 'method' | 'fraction' | 'seed' | 'domain'>;
  status: 'done' | 'failed';
  error: string | null;
  cells: { train: number; validation: number; test: number };
  fitMs: number;
  predictions: readonly StoredPrediction[];
  metrics: readonly StoredRunMetric[];
}

interface StudyRow {
  id: number;
  name: string;
  kind: StudySummary['kind'];
  spec_json: string;
  state: StudyState;
  runs_planned: number | null;
  record_json: string | null;
  warnings_json: string;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

interface RunRow {
  id: number;
  model_id: number;
  method: StudyMethod;
  fraction: number;
  seed: number;
  domain: string;
  status: 'done' | 'failed';
  error: string | null;
  train_cells: number;
  validation_cells: number;
  test_cells: number;
  fit_ms: number;
  finished_at: string;
}

/** NaN (an undefined metric) is stored as NULL, never as a made-up number. */
const orNull = (value: number): number | null => (Number.isNaN(value) ? null : value);

/** The project's studies in SQLite (migration 010). */
export class StudyStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  create(spec: StudySpec): number {
    const result = this.db
      .prepare('INSERT INTO studies (name, kind, spec_json, created_at) VALUES (?, ?, ?, ?)')
      .run(spec.name, spec.kind, JSON.stringify(spec), this.now().toISOString());
    return Number(result.lastInsertRowid);
  }

  private row(studyId: number): StudyRow {
    const row = this.db.prepare('SELECT * FROM studies WHERE id = ?').get(studyId) as StudyRow | undefined;
    if (!row) throw new UserFacingError('not-found', `studyId: there is no study ${studyId} in this project`);
    return row;
  }

  spec(studyId: number): StudySpec {
    return resolvedStudySpecSchema.parse(JSON.parse(this.row(studyId).spec_json));
  }

  record(studyId: number): ReproducibilityRecord | null {
    const json = this.row(studyId).record_json;
    return json === null ? null : (JSON.parse(json) as ReproducibilityRecord);
  }

  private summary(row: StudyRow): StudySummary {
    const counts = this.db
      .prepare("SELECT SUM(status = 'done') AS done, SUM(status = 'failed') AS failed FROM study_runs WHERE study_id = ?")
      .get(row.id) as { done: number | null; failed: number | null };
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      state: row.state,
      runsDone: counts.done ?? 0,
      runsFailed: counts.failed ?? 0,
      runsPlanned: row.runs_planned,
      createdAt: row.created_at,
      finishedAt: row.finished_at,
    };
  }

  list(): StudySummary[] {
    return (this.db.prepare('SELECT * FROM studies ORDER BY id DESC').all() as StudyRow[]).map((row) => this.summary(row));
  }

  get(studyId: number): StudyDetail {
    const row = this.row(studyId);
    return {
      summary: this.summary(row),
      spec: this.spec(studyId),
      record: this.record(studyId),
      warnings: JSON.parse(row.warnings_json) as string[],
      error: row.error,
      runs: this.runs(studyId),
      metrics: this.metrics(studyId),
      comparisons: this.comparisons(studyId),
    };
  }

  /** Marks the study running with its record, plan size and warnings (replacing those of an earlier start). */
  start(studyId: number, record: ReproducibilityRecord, runsPlanned: number, warnings: readonly string[]): void {
    this.db
      .prepare("UPDATE studies SET state = 'running', record_json = ?, runs_planned = ?, warnings_json = ?, error = NULL, finished_at = NULL WHERE id = ?")
      .run(JSON.stringify(record), runsPlanned, JSON.stringify(warnings), studyId);
  }

  end(studyId: number, state: Exclude<StudyState, 'new' | 'running'>, error: string | null = null): void {
    this.db.prepare('UPDATE studies SET state = ?, error = ?, finished_at = ? WHERE id = ?').run(state, error, this.now().toISOString(), studyId);
  }

  remove(studyId: number): void {
    this.row(studyId);
    this.db.prepare('DELETE FROM studies WHERE id = ?').run(studyId);
  }

  /** Keys (studyPlan.runKey) of the runs already stored, done or failed: a restart skips them. */
  finishedRunKeys(studyId: number): Set<string> {
    return new Set(
      this.runs(studyId).map((run) => runKey({ modelId: run.modelId, method: run.method, fraction: run.fraction, seed: run.seed, domain: run.domain })),
    );
  }

  /** One run with its predictions and metrics, in one transaction: a crash leaves it whole or absent. */
  saveRun(studyId: number, finished: FinishedRun): number {
    const { run } = finished;
    const insertRun = this.db.prepare(
      `INSERT INTO study_runs (study_id, model_id, method, fraction, seed, domain, status, error, train_cells, validation_cells, test_cells, fit_ms, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertPrediction = this.db.prepare(
      `INSERT INTO study_predictions (run_id, annotation_id, slide_id, x, y, test_set, true_class, predicted_class, probabilities_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertMetric = this.db.prepare(
      `INSERT INTO study_metrics (study_id, run_id, model_id, method, fraction, domain, test_set, metric, value, sd, ci_lower, ci_upper, seeds)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, 1)`,
    );
    return this.db.transaction(() => {
      const runId = Number(
        insertRun.run(studyId, run.modelId, run.method, run.fraction, run.seed, run.domain, finished.status, finished.error, finished.cells.train, finished.cells.validation, finished.cells.test, finished.fitMs, this.now().toISOString())
          .lastInsertRowid,
      );
      for (const p of finished.predictions) {
        insertPrediction.run(runId, p.annotationId, p.slideId, p.x, p.y, p.testSet, p.trueClass, p.predictedClass, JSON.stringify(p.probabilities));
      }
      for (const m of finished.metrics) {
        insertMetric.run(studyId, runId, run.modelId, run.method, run.fraction, run.domain, m.testSet, m.metric, orNull(m.value), orNull(m.ciLower), orNull(m.ciUpper));
      }
      return runId;
    })();
  }

  runs(studyId: number): StudyRunInfo[] {
    const rows = this.db.prepare('SELECT * FROM study_runs WHERE study_id = ? ORDER BY id').all(studyId) as RunRow[];
    return rows.map((row) => ({
      id: row.id,
      modelId: row.model_id,
      method: row.method,
      fraction: row.fraction,
      seed: row.seed,
      domain: row.domain,
      status: row.status,
      error: row.error,
      trainCells: row.train_cells,
      validationCells: row.validation_cells,
      testCells: row.test_cells,
      fitMs: row.fit_ms,
      finishedAt: row.finished_at,
    }));
  }

  /** The stored predictions of every finished run, grouped by test set and slide, for aggregation. */
  runPredictions(studyId: number, positiveClass: number, classCount: number): RunPredictions[] {
    const select = this.db.prepare('SELECT slide_id AS slideId, test_set AS testSet, true_class AS trueClass, predicted_class AS predictedClass, probabilities_json AS probabilities FROM study_predictions WHERE run_id = ?');
    return this.runs(studyId)
      .filter((run) => run.status === 'done')
      .map((run) => {
        const rows = select.all(run.id) as { slideId: number; testSet: string; trueClass: number; predictedClass: number; probabilities: string }[];
        const byTestSet = new Map<string, { slideId: string; trueClass: number; predictedClass: number; positiveScore: number }[]>();
        for (const row of rows) {
          const cell = { slideId: String(row.slideId), trueClass: row.trueClass, predictedClass: row.predictedClass, positiveScore: (JSON.parse(row.probabilities) as number[])[positiveClass]! };
          const list = byTestSet.get(row.testSet);
          if (list) list.push(cell);
          else byTestSet.set(row.testSet, [cell]);
        }
        const testSets = new Map([...byTestSet].map(([testSet, cells]) => [testSet, predictionsBySlide(cells, classCount, positiveClass)]));
        return { runId: run.id, modelId: run.modelId, method: run.method, fraction: run.fraction, seed: run.seed, domain: run.domain, testSets };
      });
  }

  /** Replaces the over-seeds metrics and the paired comparisons in one transaction. */
  replaceAggregates(studyId: number, groups: readonly GroupMetric[], comparisons: readonly PairedComparison[]): void {
    const insertGroup = this.db.prepare(
      `INSERT INTO study_metrics (study_id, run_id, model_id, method, fraction, domain, test_set, metric, value, sd, ci_lower, ci_upper, seeds)
       VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertComparison = this.db.prepare(
      `INSERT INTO study_comparisons (study_id, fraction, domain, test_set, metric, model_a, method_a, model_b, method_b, difference, ci_lower, ci_upper, seeds)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM study_metrics WHERE study_id = ? AND run_id IS NULL').run(studyId);
      this.db.prepare('DELETE FROM study_comparisons WHERE study_id = ?').run(studyId);
      for (const g of groups) {
        insertGroup.run(studyId, g.modelId, g.method, g.fraction, g.domain, g.testSet, g.metric, orNull(g.mean), orNull(g.sd), orNull(g.interval.lower), orNull(g.interval.upper), g.seeds);
      }
      for (const c of comparisons) {
        insertComparison.run(studyId, c.fraction, c.domain, c.testSet, c.metric, c.a.modelId, c.a.method, c.b.modelId, c.b.method, orNull(c.interval.estimate), orNull(c.interval.lower), orNull(c.interval.upper), c.seeds);
      }
    })();
  }

  metrics(studyId: number): StudyMetricInfo[] {
    const rows = this.db.prepare('SELECT * FROM study_metrics WHERE study_id = ? ORDER BY run_id IS NOT NULL, run_id, id').all(studyId) as {
      run_id: number | null;
      model_id: number;
      method: StudyMethod;
      fraction: number;
      domain: string;
      test_set: string;
      metric: string;
      value: number | null;
      sd: number | null;
      ci_lower: number | null;
      ci_upper: number | null;
      seeds: number;
    }[];
    return rows.map((row) => ({
      runId: row.run_id,
      modelId: row.model_id,
      method: row.method,
      fraction: row.fraction,
      domain: row.domain,
      testSet: row.test_set,
      metric: row.metric,
      value: row.value,
      sd: row.sd,
      ciLower: row.ci_lower,
      ciUpper: row.ci_upper,
      seeds: row.seeds,
    }));
  }

  comparisons(studyId: number): StudyComparisonInfo[] {
    const rows = this.db.prepare('SELECT * FROM study_comparisons WHERE study_id = ? ORDER BY id').all(studyId) as {
      fraction: number;
      domain: string;
      test_set: string;
      metric: string;
      model_a: number;
      method_a: StudyMethod;
      model_b: number;
      method_b: StudyMethod;
      difference: number | null;
      ci_lower: number | null;
      ci_upper: number | null;
      seeds: number;
    }[];
    return rows.map((row) => ({
      fraction: row.fraction,
      domain: row.domain,
      testSet: row.test_set,
      metric: row.metric,
      a: { modelId: row.model_a, method: row.method_a },
      b: { modelId: row.model_b, method: row.method_b },
      difference: row.difference,
      ciLower: row.ci_lower,
      ciUpper: row.ci_upper,
      seeds: row.seeds,
    }));
  }

  /** A run's predictions with class ids and positions, for opening the cells in the viewer. */
  predictions(runId: number): StudyPrediction[] {
    const run = this.db.prepare('SELECT study_id AS studyId FROM study_runs WHERE id = ?').get(runId) as { studyId: number } | undefined;
    if (!run) throw new UserFacingError('not-found', `runId: there is no study run ${runId} in this project`);
    const classes = this.spec(run.studyId).classes;
    const rows = this.db
      .prepare('SELECT annotation_id AS annotationId, slide_id AS slideId, x, y, test_set AS testSet, true_class AS trueClass, predicted_class AS predictedClass, probabilities_json AS probabilities FROM study_predictions WHERE run_id = ? ORDER BY test_set, slide_id, annotation_id')
      .all(runId) as { annotationId: number; slideId: number; x: number; y: number; testSet: string; trueClass: number; predictedClass: number; probabilities: string }[];
    return rows.map((row) => ({
      annotationId: row.annotationId,
      slideId: row.slideId,
      x: row.x,
      y: row.y,
      testSet: row.testSet,
      trueClassId: classes[row.trueClass]!,
      predictedClassId: classes[row.predictedClass]!,
      probabilities: JSON.parse(row.probabilities) as number[],
    }));
  }
}
