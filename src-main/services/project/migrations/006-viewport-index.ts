import type { Migration } from './Migration';

/**
 * Viewport queries that read a few neighbouring pages instead of one page per cell.
 *
 * Through the R*Tree alone, a viewport of ~300 cells on a 1,000,000-cell slide read each cell's
 * row and its votes from scattered pages (annotations and labels are stored in id order, i.e. in
 * the order they were written): ~600 random page reads, 6–10 ms. Now:
 *
 * - `annotations.votes_json` holds the cell's votes, `[[annotatorId, classId], …]` ascending by
 *   annotator id: a copy of its `labels` rows that AnnotationRows writes in the same transaction
 *   as those rows (`labels` stays the record: per-annotator queries, history, foreign keys).
 * - `annotations_points_by_place`: live points ordered by slide, 256-px band of `centre_y`, then
 *   `centre_x`, carrying every column a viewer needs (a covering index). A viewport reads one
 *   contiguous run of index entries per band it spans; SQLite keeps the index in step itself.
 * - `annotation_region_bounds`: an R*Tree like `annotation_bounds` (which still holds every live
 *   annotation, for other queries) but of the shapes other than points, so regions are found
 *   without walking the cells around them.
 */
export const migration006: Migration = {
  version: 6,
  name: 'viewport index: votes beside each annotation, points clustered by place, regions in their own R*Tree',
  up(db) {
    db.exec(`
      ALTER TABLE annotations ADD COLUMN votes_json TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(votes_json));
      UPDATE annotations SET votes_json = (
        SELECT json_group_array(json_array(annotator_id, class_id) ORDER BY annotator_id) FROM labels WHERE annotation_id = annotations.id
      ) WHERE id IN (SELECT annotation_id FROM labels);

      CREATE INDEX annotations_points_by_place ON annotations(
        slide_id, CAST(centre_y / 256 AS INTEGER), centre_x, centre_y, id, guid, created_by, created_at, votes_json, shape, deleted_at
      ) WHERE deleted_at IS NULL AND shape = 'point';

      CREATE VIRTUAL TABLE annotation_region_bounds USING rtree(
        id, min_x, max_x, min_y, max_y, min_slide, max_slide
      );
      INSERT INTO annotation_region_bounds (id, min_x, max_x, min_y, max_y, min_slide, max_slide)
        SELECT b.id, b.min_x, b.max_x, b.min_y, b.max_y, b.min_slide, b.max_slide
        FROM annotation_bounds b JOIN annotations a ON a.id = b.id WHERE a.shape <> 'point';
      CREATE TRIGGER annotations_region_bounds_follow_delete AFTER DELETE ON annotations WHEN old.shape <> 'point' BEGIN
        DELETE FROM annotation_region_bounds WHERE id = old.id;
      END;
    `);
  },
};
