import type { Migration } from './Migration';

/**
 * Evaluation studies: a design (`spec_json`) run as one resumable job.
 * - `study_runs`: one row per finished (model × method × fraction × seed × domain); a restart skips
 *   the rows already here. `domain` is '' outside cross-domain studies so the unique key holds.
 * - `study_predictions`: every test cell of a run, with its position copied (a cell moved later
 *   still opens where it was predicted); `test_set` is 'test' or the domain of a cross-domain test.
 * - `study_metrics`: per run (`run_id` set) and over the seeds of a group (`run_id` NULL: mean,
 *   SD, bootstrap CI); NULL values are metrics undefined on their cells.
 * - `study_comparisons`: paired differences between two model/method variants on the same cells.
 * - `record_json` is the reproducibility record: app version, label snapshot hash, model hashes,
 *   seeds. Predictions keep no foreign key to annotations: a study outlives a deleted cell.
 */
export const migration010: Migration = {
  version: 10,
  name: 'studies: evaluation studies, runs, predictions and metrics',
  up(db) {
    db.exec(`
      CREATE TABLE studies (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('data-scaling', 'cross-domain', 'model-method')),
        spec_json TEXT NOT NULL CHECK (json_valid(spec_json)),
        state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'running', 'finished', 'failed', 'cancelled')),
        runs_planned INTEGER CHECK (runs_planned IS NULL OR runs_planned >= 0),
        record_json TEXT CHECK (record_json IS NULL OR json_valid(record_json)),
        warnings_json TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(warnings_json)),
        error TEXT,
        created_at TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;

      CREATE TABLE study_runs (
        id INTEGER PRIMARY KEY,
        study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL,
        method TEXT NOT NULL CHECK (method IN ('linear-probe', 'lora')),
        fraction REAL NOT NULL CHECK (fraction > 0 AND fraction <= 1),
        seed INTEGER NOT NULL,
        domain TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
        error TEXT,
        train_cells INTEGER NOT NULL CHECK (train_cells >= 0),
        validation_cells INTEGER NOT NULL CHECK (validation_cells >= 0),
        test_cells INTEGER NOT NULL CHECK (test_cells >= 0),
        fit_ms REAL NOT NULL CHECK (fit_ms >= 0),
        finished_at TEXT NOT NULL,
        UNIQUE (study_id, model_id, method, fraction, seed, domain)
      ) STRICT;

      CREATE TABLE study_predictions (
        run_id INTEGER NOT NULL REFERENCES study_runs(id) ON DELETE CASCADE,
        annotation_id INTEGER NOT NULL,
        slide_id INTEGER NOT NULL,
        x REAL NOT NULL,
        y REAL NOT NULL,
        test_set TEXT NOT NULL,
        true_class INTEGER NOT NULL CHECK (true_class >= 0),
        predicted_class INTEGER NOT NULL CHECK (predicted_class >= 0),
        probabilities_json TEXT NOT NULL CHECK (json_valid(probabilities_json)),
        PRIMARY KEY (run_id, annotation_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE study_metrics (
        id INTEGER PRIMARY KEY,
        study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        run_id INTEGER REFERENCES study_runs(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL,
        method TEXT NOT NULL,
        fraction REAL NOT NULL,
        domain TEXT NOT NULL,
        test_set TEXT NOT NULL,
        metric TEXT NOT NULL,
        value REAL,
        sd REAL,
        ci_lower REAL,
        ci_upper REAL,
        seeds INTEGER NOT NULL CHECK (seeds >= 0)
      ) STRICT;
      CREATE INDEX study_metrics_study ON study_metrics(study_id, run_id);

      CREATE TABLE study_comparisons (
        id INTEGER PRIMARY KEY,
        study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        fraction REAL NOT NULL,
        domain TEXT NOT NULL,
        test_set TEXT NOT NULL,
        metric TEXT NOT NULL,
        model_a INTEGER NOT NULL,
        method_a TEXT NOT NULL,
        model_b INTEGER NOT NULL,
        method_b TEXT NOT NULL,
        difference REAL,
        ci_lower REAL,
        ci_upper REAL,
        seeds INTEGER NOT NULL CHECK (seeds >= 0)
      ) STRICT;
      CREATE INDEX study_comparisons_study ON study_comparisons(study_id);
    `);
  },
};
