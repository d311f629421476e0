import type { Migration } from './Migration';

/**
 * Long work (adding a folder of slides, embedding extraction, training, studies) runs as jobs
 * that outlive a restart: what ran, how far it got, and how it ended.
 */
export const migration004: Migration = {
  version: 4,
  name: 'jobs',
  up(db) {
    db.exec(`
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
        input_json TEXT NOT NULL,
        result_json TEXT,
        error TEXT,
        progress_done INTEGER NOT NULL DEFAULT 0 CHECK (progress_done >= 0),
        progress_total INTEGER CHECK (progress_total IS NULL OR progress_total >= 0),
        progress_message TEXT,
        created_at TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;
      CREATE INDEX jobs_state ON jobs(state);
    `);
  },
};
