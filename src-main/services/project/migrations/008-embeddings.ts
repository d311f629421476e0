import type { Migration } from './Migration';

/**
 * The embedding cache: one float32 vector per (model, patch parameters, cell). `model_key` is the
 * model's weights hash plus its embedding output; `params_key` spells the patch size, µm per
 * pixel, interpolation and mean/std; `centre_x`/`centre_y` are the cell centre the patch was cut
 * around, so a moved cell is embedded again. Vectors go when their cell is hard-deleted.
 */
export const migration008: Migration = {
  version: 8,
  name: 'embeddings: cached cell embeddings per model and patch parameters',
  up(db) {
    db.exec(`
      CREATE TABLE embeddings (
        model_key TEXT NOT NULL,
        params_key TEXT NOT NULL,
        annotation_id INTEGER NOT NULL REFERENCES annotations(id) ON DELETE CASCADE,
        slide_id INTEGER NOT NULL REFERENCES slides(id) ON DELETE CASCADE,
        centre_x REAL NOT NULL,
        centre_y REAL NOT NULL,
        dims INTEGER NOT NULL CHECK (dims > 0),
        vector BLOB NOT NULL CHECK (length(vector) = dims * 4),
        created_at TEXT NOT NULL,
        PRIMARY KEY (model_key, params_key, annotation_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX embeddings_annotation ON embeddings(annotation_id);
    `);
  },
};
