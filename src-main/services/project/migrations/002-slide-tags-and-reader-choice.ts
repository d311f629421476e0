import type { Migration } from './Migration';

/**
 * Free key/value tags on slides (later used as domains), and the user's override of the
 * automatically chosen reader. tile_version lets the viewer cache tiles forever per version.
 */
export const migration002: Migration = {
  version: 2,
  name: 'slide tags and reader choice',
  up(db) {
    db.exec(`
      CREATE TABLE slide_tags (
        slide_id INTEGER NOT NULL REFERENCES slides(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (slide_id, key)
      ) STRICT;
      CREATE INDEX slide_tags_key_value ON slide_tags(key, value);

      ALTER TABLE slides ADD COLUMN reader_choice TEXT NOT NULL DEFAULT 'auto'
        CHECK (reader_choice IN ('auto', 'tiff', 'openslide', 'image'));
      ALTER TABLE slides ADD COLUMN tile_version INTEGER NOT NULL DEFAULT 1;
    `);
  },
};
