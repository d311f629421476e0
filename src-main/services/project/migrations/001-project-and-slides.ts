import type { Migration } from './Migration';

export const migration001: Migration = {
  version: 1,
  name: 'project settings and slides',
  up(db) {
    db.exec(`
      CREATE TABLE project_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      CREATE TABLE slides (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        file_name TEXT NOT NULL,
        file_size_bytes INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        levels_json TEXT NOT NULL,
        mpp_x REAL,
        mpp_y REAL,
        objective_power REAL,
        vendor TEXT NOT NULL,
        reader TEXT NOT NULL,
        associated_images_json TEXT NOT NULL DEFAULT '[]',
        added_at TEXT NOT NULL,
        deleted_at TEXT
      ) STRICT;
      CREATE INDEX slides_path ON slides(path) WHERE deleted_at IS NULL;
    `);
  },
};
