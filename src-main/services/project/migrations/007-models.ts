import type { Migration } from './Migration';

/**
 * Registered foundation models: a checkpoint folder compiled to ONNX in the project cache, or an
 * ONNX file used as it is with a chosen embedding output. `file_hash` is the SHA-256 of the
 * weights (or ONNX) file; `config_json` holds what an embedding run needs (input size, patch,
 * width, depth, heads, MLP, normalisation, interpolation, microns per pixel, embedding rule).
 */
export const migration007: Migration = {
  version: 7,
  name: 'models: registered foundation models and their compiled ONNX files',
  up(db) {
    db.exec(`
      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('checkpoint-folder', 'onnx-file')),
        source_path TEXT NOT NULL,
        file_hash TEXT NOT NULL,
        preset_id TEXT,
        config_json TEXT NOT NULL CHECK (json_valid(config_json)),
        embedding_output TEXT NOT NULL,
        parameter_count INTEGER NOT NULL,
        onnx_path TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX models_by_source ON models(source_path, file_hash, embedding_output);
    `);
  },
};
