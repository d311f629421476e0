import type { Migration } from './Migration';

/**
 * Annotators, classes, annotations (level-0 pixels) with an R*Tree of their bounds,
 * per-annotator votes, and the append-only change history that undo/redo replays.
 *
 * - `annotation_bounds` holds live (not deleted) annotations only; it is a 3-D R*Tree whose third
 *   axis is the slide id, so a viewport query never walks other slides' cells. Its coordinates are
 *   32-bit floats rounded outwards: a candidate filter, refined exactly by the store.
 * - `annotations.id` is AUTOINCREMENT and `change_items.annotation_id` has no foreign key: the
 *   history outlives a hard-deleted slide (whose annotations cascade away), and an id is never
 *   reused for another cell.
 * - Triggers refuse UPDATE and DELETE on `changes` and `change_items`.
 */
export const migration003: Migration = {
  version: 3,
  name: 'annotations, votes and change history',
  up(db) {
    db.exec(`
      CREATE TABLE annotators (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
        kind TEXT NOT NULL CHECK (kind IN ('person', 'model')),
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE classes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL CHECK (length(trim(name)) > 0),
        colour TEXT NOT NULL CHECK (length(colour) = 7 AND colour GLOB '#[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
        hotkey TEXT CHECK (hotkey IS NULL OR (length(hotkey) = 1 AND hotkey GLOB '[0-9a-z]')),
        sort_order INTEGER NOT NULL,
        deleted_at TEXT
      ) STRICT;
      CREATE UNIQUE INDEX classes_live_hotkey ON classes(hotkey) WHERE deleted_at IS NULL AND hotkey IS NOT NULL;
      CREATE UNIQUE INDEX classes_live_name ON classes(name) WHERE deleted_at IS NULL;
      INSERT INTO classes (id, name, colour, hotkey, sort_order) VALUES
        (1, 'mitotic figure', '#e6194b', '1', 1),
        (2, 'non-mitotic figure (imposter)', '#3cb4e6', '2', 2);

      CREATE TABLE annotations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        guid TEXT NOT NULL UNIQUE CHECK (length(guid) > 0),
        slide_id INTEGER NOT NULL REFERENCES slides(id) ON DELETE CASCADE,
        shape TEXT NOT NULL CHECK (shape IN ('point', 'circle', 'rectangle', 'polygon')),
        geometry_json TEXT NOT NULL CHECK (json_valid(geometry_json)),
        centre_x REAL NOT NULL,
        centre_y REAL NOT NULL,
        created_by INTEGER NOT NULL REFERENCES annotators(id),
        created_at TEXT NOT NULL,
        deleted_at TEXT
      ) STRICT;
      CREATE INDEX annotations_slide ON annotations(slide_id) WHERE deleted_at IS NULL;
      CREATE INDEX annotations_created_by ON annotations(created_by);

      CREATE VIRTUAL TABLE annotation_bounds USING rtree(
        id, min_x, max_x, min_y, max_y, min_slide, max_slide
      );
      CREATE TRIGGER annotations_bounds_follow_delete AFTER DELETE ON annotations BEGIN
        DELETE FROM annotation_bounds WHERE id = old.id;
      END;

      CREATE TABLE labels (
        annotation_id INTEGER NOT NULL REFERENCES annotations(id) ON DELETE CASCADE,
        annotator_id INTEGER NOT NULL REFERENCES annotators(id),
        class_id INTEGER NOT NULL REFERENCES classes(id),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (annotation_id, annotator_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX labels_annotator ON labels(annotator_id);
      CREATE INDEX labels_class ON labels(class_id);

      CREATE TABLE changes (
        id INTEGER PRIMARY KEY,
        actor_id INTEGER NOT NULL REFERENCES annotators(id),
        kind TEXT NOT NULL CHECK (kind IN ('edit', 'undo', 'redo')),
        target_change_id INTEGER REFERENCES changes(id),
        description TEXT NOT NULL,
        at TEXT NOT NULL,
        CHECK ((kind = 'edit') = (target_change_id IS NULL))
      ) STRICT;
      CREATE INDEX changes_actor ON changes(actor_id, id);

      CREATE TABLE change_items (
        change_id INTEGER NOT NULL REFERENCES changes(id),
        annotation_id INTEGER NOT NULL,
        before_json TEXT CHECK (before_json IS NULL OR json_valid(before_json)),
        after_json TEXT NOT NULL CHECK (json_valid(after_json)),
        PRIMARY KEY (change_id, annotation_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX change_items_annotation ON change_items(annotation_id, change_id);

      CREATE TRIGGER changes_append_only_update BEFORE UPDATE ON changes BEGIN
        SELECT RAISE(ABORT, 'the change history is append-only: changes cannot be updated');
      END;
      CREATE TRIGGER changes_append_only_delete BEFORE DELETE ON changes BEGIN
        SELECT RAISE(ABORT, 'the change history is append-only: changes cannot be deleted');
      END;
      CREATE TRIGGER change_items_append_only_update BEFORE UPDATE ON change_items BEGIN
        SELECT RAISE(ABORT, 'the change history is append-only: change items cannot be updated');
      END;
      CREATE TRIGGER change_items_append_only_delete BEFORE DELETE ON change_items BEGIN
        SELECT RAISE(ABORT, 'the change history is append-only: change items cannot be deleted');
      END;
    `);
  },
};
