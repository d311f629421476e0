import type { Database } from 'better-sqlite3';
import { geometryFromRow, type Geometry, type LevelZeroRect, type Shape } from '../annotations/geometry';
import { coverageOf, planFields, screeningRegion, type Coverage, type FieldPlan, type RegionGeometry, type ScreeningField } from './fieldPlan';
import { fieldSizePx, type FieldSpec } from './fieldSize';
import { ScreeningError } from './ScreeningError';

const REQUIRED_SCHEMA_VERSION = 5;

/** One person's screening of one slide, as it stands. */
export interface ScreeningState {
  slideId: number;
  annotatorId: number;
  fieldSpec: FieldSpec;
  fieldWidthPx: number;
  fieldHeightPx: number;
  region: LevelZeroRect;
  roiAnnotationId: number | null;
  roi: RegionGeometry | null;
  columns: number;
  rows: number;
  /** In walking order; `fields[i].index === i`. */
  fields: ScreeningField[];
  /** Indices of the visited fields, ascending. */
  visited: number[];
  currentField: number;
  startedAt: string;
  updatedAt: string;
}

export interface StartScreening {
  slideId: number;
  annotatorId: number;
  fieldSpec: FieldSpec;
  roiAnnotationId?: number | null;
}

/** What a step through the fields did: the field left is visited; `current` is where the viewer goes. */
export interface ScreeningStep {
  visitedField: number;
  current: ScreeningField;
  visitedCount: number;
  totalFields: number;
}

interface PlanRow {
  id: number;
  slide_id: number;
  annotator_id: number;
  field_spec_json: string;
  field_width_px: number;
  field_height_px: number;
  region_x: number;
  region_y: number;
  region_width: number;
  region_height: number;
  roi_annotation_id: number | null;
  roi_geometry_json: string | null;
  field_count: number;
  current_field: number;
  started_at: string;
  updated_at: string;
}

interface SlideRow {
  file_name: string;
  width: number;
  height: number;
  mpp_x: number | null;
  mpp_y: number | null;
  objective_power: number | null;
}

/**
 * Screening plans per (slide, annotator) and the fields each person has visited. Framework-free;
 * give it the open project database. Each change is one transaction, on disk when the call returns.
 */
export class ScreeningStore {
  private readonly statements: ReturnType<typeof prepare>;

  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version < REQUIRED_SCHEMA_VERSION) {
      throw new Error(`the project database is at schema ${version}; screening needs schema ${REQUIRED_SCHEMA_VERSION} (open it through ProjectDatabase)`);
    }
    this.statements = prepare(db);
  }

  /** The person's screening of the slide, or null when they have not started one. */
  get(slideId: number, annotatorId: number): ScreeningState | null {
    const row = this.statements.plan.get(slideId, annotatorId) as PlanRow | undefined;
    return row ? this.stateOf(row) : null;
  }

  /** Plans the fields and starts at the first; replaces the person's earlier screening of this slide. */
  start(request: StartScreening): ScreeningState {
    const slide = this.requireSlide(request.slideId);
    this.requireAnnotator(request.annotatorId);
    const roiAnnotationId = request.roiAnnotationId ?? null;
    const roi = roiAnnotationId === null ? null : this.requireRoi(roiAnnotationId, request.slideId);
    const size = fieldSizePx(request.fieldSpec, { name: slide.file_name, mppX: slide.mpp_x, mppY: slide.mpp_y, objectivePower: slide.objective_power });
    const region = screeningRegion(slide, roi);
    const plan = planFields(region, size.width, size.height, roi);
    if (plan.fields.length === 0) {
      throw new ScreeningError('invalid-argument', 'roiAnnotationId', 'the region covers no field of the slide');
    }
    const at = this.now().toISOString();
    this.db
      .transaction(() => {
        this.statements.dropPlan.run(request.slideId, request.annotatorId);
        this.statements.insertPlan.run({
          slideId: request.slideId,
          annotatorId: request.annotatorId,
          fieldSpecJson: JSON.stringify(request.fieldSpec),
          fieldWidth: size.width,
          fieldHeight: size.height,
          regionX: region.x,
          regionY: region.y,
          regionWidth: region.width,
          regionHeight: region.height,
          roiAnnotationId,
          roiGeometryJson: roi === null ? null : JSON.stringify(roi),
          fieldCount: plan.fields.length,
          at,
        });
      })
      .immediate();
    return this.get(request.slideId, request.annotatorId)!;
  }

  /**
   * Marks `fieldIndex` (the field being left) visited and moves `step` fields along the order
   * (1: next, -1: back), stopping at either end.
   */
  visit(slideId: number, annotatorId: number, fieldIndex: number, step: 1 | -1): ScreeningStep {
    const at = this.now().toISOString();
    const result = this.db
      .transaction(() => {
        const row = this.requirePlan(slideId, annotatorId);
        if (!Number.isInteger(fieldIndex) || fieldIndex < 0 || fieldIndex >= row.field_count) {
          throw new ScreeningError('invalid-argument', 'fieldIndex', `must be a field of this screening, 0 to ${row.field_count - 1} (got ${fieldIndex})`);
        }
        const next = Math.min(Math.max(fieldIndex + step, 0), row.field_count - 1);
        this.statements.insertVisit.run(row.id, fieldIndex, at);
        this.statements.setCurrent.run(next, at, row.id);
        const { n } = this.statements.visitCount.get(row.id) as { n: number };
        return { row, next, visitedCount: n };
      })
      .immediate();
    const fields = this.fieldsOf(result.row);
    return { visitedField: fieldIndex, current: fields[result.next]!, visitedCount: result.visitedCount, totalFields: result.row.field_count };
  }

  /** Forgets the visited fields and goes back to the first field; the plan stays. */
  reset(slideId: number, annotatorId: number): ScreeningState {
    const at = this.now().toISOString();
    this.db
      .transaction(() => {
        const row = this.requirePlan(slideId, annotatorId);
        this.statements.dropVisits.run(row.id);
        this.statements.setCurrent.run(0, at, row.id);
      })
      .immediate();
    return this.get(slideId, annotatorId)!;
  }

  private stateOf(row: PlanRow): ScreeningState {
    const plan = this.planOf(row);
    const visited = (this.statements.visits.all(row.id) as { field_index: number }[]).map((visit) => visit.field_index);
    return {
      slideId: row.slide_id,
      annotatorId: row.annotator_id,
      fieldSpec: JSON.parse(row.field_spec_json) as FieldSpec,
      fieldWidthPx: row.field_width_px,
      fieldHeightPx: row.field_height_px,
      region: regionOf(row),
      roiAnnotationId: row.roi_annotation_id,
      roi: roiOf(row),
      columns: plan.columns,
      rows: plan.rows,
      fields: plan.fields,
      visited,
      currentField: row.current_field,
      startedAt: row.started_at,
      updatedAt: row.updated_at,
    };
  }

  /** The fields are recomputed from what the plan stored; they cannot differ from when it started. */
  private planOf(row: PlanRow): FieldPlan {
    return planFields(regionOf(row), row.field_width_px, row.field_height_px, roiOf(row));
  }

  private fieldsOf(row: PlanRow): ScreeningField[] {
    return this.planOf(row).fields;
  }

  private requirePlan(slideId: number, annotatorId: number): PlanRow {
    const row = this.statements.plan.get(slideId, annotatorId) as PlanRow | undefined;
    if (!row) throw new ScreeningError('not-found', 'slideId', `annotator ${annotatorId} has not started screening slide ${slideId}`);
    return row;
  }

  private requireSlide(slideId: number): SlideRow {
    const row = this.statements.slide.get(slideId) as SlideRow | undefined;
    if (!row) throw new ScreeningError('not-found', 'slideId', `no slide ${slideId} in this project`);
    return row;
  }

  private requireAnnotator(annotatorId: number): void {
    if (!this.statements.annotator.get(annotatorId)) throw new ScreeningError('not-found', 'annotatorId', `no annotator ${annotatorId} in this project`);
  }

  private requireRoi(annotationId: number, slideId: number): RegionGeometry {
    const row = this.statements.annotation.get(annotationId) as { slide_id: number; shape: Shape; geometry_json: string } | undefined;
    if (!row) throw new ScreeningError('not-found', 'roiAnnotationId', `no live annotation ${annotationId} in this project`);
    if (row.slide_id !== slideId) {
      throw new ScreeningError('invalid-argument', 'roiAnnotationId', `annotation ${annotationId} lies on slide ${row.slide_id}, not on slide ${slideId}`);
    }
    const geometry: Geometry = geometryFromRow(row.shape, row.geometry_json);
    if (geometry.shape === 'point') {
      throw new ScreeningError('invalid-argument', 'roiAnnotationId', `annotation ${annotationId} is a point (a cell); a region is a rectangle, circle or polygon`);
    }
    return geometry;
  }
}

function regionOf(row: PlanRow): LevelZeroRect {
  return { x: row.region_x, y: row.region_y, width: row.region_width, height: row.region_height };
}

function roiOf(row: PlanRow): RegionGeometry | null {
  return row.roi_geometry_json === null ? null : (JSON.parse(row.roi_geometry_json) as RegionGeometry);
}

/** Coverage of a state, for callers that only need the numbers. */
export function coverageOfState(state: ScreeningState): Coverage {
  return coverageOf(state.visited, state.fields.length);
}

function prepare(db: Database) {
  return {
    plan: db.prepare('SELECT * FROM screening_plans WHERE slide_id = ? AND annotator_id = ?'),
    insertPlan: db.prepare(
      `INSERT INTO screening_plans (slide_id, annotator_id, field_spec_json, field_width_px, field_height_px,
         region_x, region_y, region_width, region_height, roi_annotation_id, roi_geometry_json, field_count,
         current_field, started_at, updated_at)
       VALUES (@slideId, @annotatorId, @fieldSpecJson, @fieldWidth, @fieldHeight, @regionX, @regionY, @regionWidth,
         @regionHeight, @roiAnnotationId, @roiGeometryJson, @fieldCount, 0, @at, @at)`,
    ),
    dropPlan: db.prepare('DELETE FROM screening_plans WHERE slide_id = ? AND annotator_id = ?'),
    setCurrent: db.prepare('UPDATE screening_plans SET current_field = ?, updated_at = ? WHERE id = ?'),
    insertVisit: db.prepare('INSERT OR IGNORE INTO screening_visits (plan_id, field_index, visited_at) VALUES (?, ?, ?)'),
    dropVisits: db.prepare('DELETE FROM screening_visits WHERE plan_id = ?'),
    visits: db.prepare('SELECT field_index FROM screening_visits WHERE plan_id = ? ORDER BY field_index'),
    visitCount: db.prepare('SELECT count(*) AS n FROM screening_visits WHERE plan_id = ?'),
    slide: db.prepare('SELECT file_name, width, height, mpp_x, mpp_y, objective_power FROM slides WHERE id = ? AND deleted_at IS NULL'),
    annotator: db.prepare('SELECT 1 FROM annotators WHERE id = ?'),
    annotation: db.prepare('SELECT slide_id, shape, geometry_json FROM annotations WHERE id = ? AND deleted_at IS NULL'),
  };
}
