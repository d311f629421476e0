import type { Migration } from './Migration';

/**
 * Trained adapters (linear probes and LoRA) and their predictions. An adapter row carries what
 * reproduces it: the training spec with defaults filled in, and a record of the model's weights
 * hash, the label snapshot's hash and size, the class names, the seed and the app version.
 * `history_json` holds one entry per pseudo-epoch (losses, validation balanced accuracy, speed);
 * `weights` the best parameters; `checkpoint` the last finished pseudo-epoch (parameters,
 * optimiser state, counters) from which a cancelled or interrupted run resumes.
 */
export const migration009: Migration = {
  version: 9,
  name: 'training: adapters and their predictions',
  up(db) {
    db.exec(`
      CREATE TABLE adapters (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        method TEXT NOT NULL CHECK (method IN ('linear-probe', 'lora')),
        status TEXT NOT NULL CHECK (status IN ('training', 'ready', 'cancelled', 'failed')),
        spec_json TEXT NOT NULL,
        record_json TEXT NOT NULL,
        history_json TEXT NOT NULL DEFAULT '[]',
        weights BLOB,
        checkpoint BLOB,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX adapters_model ON adapters(model_id);

      CREATE TABLE adapter_predictions (
        adapter_id INTEGER NOT NULL REFERENCES adapters(id) ON DELETE CASCADE,
        slide_id INTEGER NOT NULL REFERENCES slides(id) ON DELETE CASCADE,
        x REAL NOT NULL,
        y REAL NOT NULL,
        annotation_id INTEGER REFERENCES annotations(id) ON DELETE SET NULL,
        probabilities BLOB NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (adapter_id, slide_id, x, y)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
