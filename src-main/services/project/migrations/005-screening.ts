import type { Migration } from './Migration';

/**
 * Screening: one plan per (slide, annotator) that cuts the slide, or a region of it, into a grid
 * of fields walked in a fixed order, and the fields that person has visited, so screening
 * resumes where they stopped, also after a restart.
 *
 * - The plan keeps everything its fields are computed from (region, field size, the ROI's
 *   geometry as it was when screening started), so moving or deleting the ROI annotation later
 *   does not renumber the fields someone has already visited.
 * - `current_field` and the visits are indices into the plan's serpentine order of fields.
 */
export const migration005: Migration = {
  version: 5,
  name: 'screening plans and visited fields',
  up(db) {
    db.exec(`
      CREATE TABLE screening_plans (
        id INTEGER PRIMARY KEY,
        slide_id INTEGER NOT NULL REFERENCES slides(id) ON DELETE CASCADE,
        annotator_id INTEGER NOT NULL REFERENCES annotators(id),
        field_spec_json TEXT NOT NULL CHECK (json_valid(field_spec_json)),
        field_width_px REAL NOT NULL CHECK (field_width_px > 0),
        field_height_px REAL NOT NULL CHECK (field_height_px > 0),
        region_x REAL NOT NULL,
        region_y REAL NOT NULL,
        region_width REAL NOT NULL CHECK (region_width > 0),
        region_height REAL NOT NULL CHECK (region_height > 0),
        roi_annotation_id INTEGER REFERENCES annotations(id) ON DELETE SET NULL,
        roi_geometry_json TEXT CHECK (roi_geometry_json IS NULL OR json_valid(roi_geometry_json)),
        field_count INTEGER NOT NULL CHECK (field_count > 0),
        current_field INTEGER NOT NULL DEFAULT 0 CHECK (current_field >= 0 AND current_field < field_count),
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (slide_id, annotator_id)
      ) STRICT;
      CREATE INDEX screening_plans_annotator ON screening_plans(annotator_id);

      CREATE TABLE screening_visits (
        plan_id INTEGER NOT NULL REFERENCES screening_plans(id) ON DELETE CASCADE,
        field_index INTEGER NOT NULL CHECK (field_index >= 0),
        visited_at TEXT NOT NULL,
        PRIMARY KEY (plan_id, field_index)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
