import { derivedSeed, randomIndex, seededRandom } from '../../random/seededRandom';
import { TrainingError } from '../TrainingError';

/**
 * Where training patches come from, as in the reference code of the paper
 * (DeepMicroscopy/FoundationModelComparison, src/dataset.py, `Mitosis_Dataset.sample_func`):
 * a slide uniformly, then a mitotic figure or an imposter with probability 0.5 each (here: each
 * class present on that slide with equal probability, which is the same for two classes and
 * also covers the reference's fallback to the other class when a slide lacks one), then a cell
 * of that class uniformly, then a centre shift of up to ±10 % of the patch size in x and y.
 */

/** A labelled cell of the training split; `label` is its class index (0 … classes − 1). */
export interface TrainingCell {
  readonly annotationId: number;
  readonly slideId: number;
  /** Level-0 pixels. */
  readonly x: number;
  readonly y: number;
  readonly label: number;
}

/** One patch to read: centred on (centreX, centreY) in level-0 pixels, with its training label. */
export interface PlannedPatch {
  readonly cell: TrainingCell;
  readonly centreX: number;
  readonly centreY: number;
  readonly label: number;
}

export interface PlanOptions {
  /** Patches to plan. */
  readonly count: number;
  readonly seed: number;
  /** Largest centre shift as a fraction of the patch size, in [0, 0.5); the reference uses 0.1. */
  readonly maxShiftFraction?: number;
  /**
   * The patch's side in level-0 pixels (model pixels × level-0 pixels per model pixel), or that
   * per slide: slides scanned at other µm per pixel need other sizes for the same tissue.
   */
  readonly patchSizePx: PatchSizePx;
}

export type PatchSizePx = number | ((slideId: number) => number);

/** The patch side in level-0 pixels on `slideId`. */
export function patchSizeOn(size: PatchSizePx, slideId: number): number {
  return typeof size === 'number' ? size : size(slideId);
}

/** The reference's largest centre shift: `offset_scale = 0.1` of the patch size. */
export const REFERENCE_MAX_SHIFT_FRACTION = 0.1;

const METHOD = 'patch sampling';

/** The cells of one slide, by class, each list in annotation id order (so input order does not matter). */
interface SlideCells {
  readonly slideId: number;
  readonly classes: readonly number[];
  readonly cellsByClass: ReadonlyMap<number, readonly TrainingCell[]>;
}

function checkCell(cell: TrainingCell): void {
  if (!Number.isFinite(cell.x) || !Number.isFinite(cell.y)) {
    throw new TrainingError(METHOD, `cell ${cell.annotationId} has no finite centre (${cell.x}, ${cell.y})`);
  }
  if (!Number.isInteger(cell.label) || cell.label < 0) {
    throw new TrainingError(METHOD, `cell ${cell.annotationId} has label ${cell.label}; labels are class indices 0, 1, …`);
  }
}

/** Cells grouped by slide (ascending id) and class (ascending index). */
function groupBySlide(cells: readonly TrainingCell[]): SlideCells[] {
  const bySlide = new Map<number, Map<number, TrainingCell[]>>();
  for (const cell of cells) {
    checkCell(cell);
    let byClass = bySlide.get(cell.slideId);
    if (!byClass) bySlide.set(cell.slideId, (byClass = new Map()));
    const list = byClass.get(cell.label);
    if (list) list.push(cell);
    else byClass.set(cell.label, [cell]);
  }
  return [...bySlide.keys()]
    .sort((a, b) => a - b)
    .map((slideId) => {
      const byClass = bySlide.get(slideId)!;
      for (const list of byClass.values()) list.sort((a, b) => a.annotationId - b.annotationId);
      return { slideId, classes: [...byClass.keys()].sort((a, b) => a - b), cellsByClass: byClass };
    });
}

function checkPlanOptions(options: PlanOptions, maxShiftFraction: number): void {
  if (!Number.isInteger(options.count) || options.count < 0) throw new TrainingError(METHOD, `count must be a whole number ≥ 0 (got ${options.count})`);
  if (typeof options.patchSizePx === 'number' && !(options.patchSizePx > 0)) throw new TrainingError(METHOD, `patchSizePx must be > 0 level-0 pixels (got ${options.patchSizePx})`);
  // Below half the patch, the sampled cell always stays inside its own patch, so relabelling never drops it.
  if (!(maxShiftFraction >= 0 && maxShiftFraction < 0.5)) {
    throw new TrainingError(METHOD, `maxShiftFraction must be in [0, 0.5) of the patch size (got ${maxShiftFraction})`);
  }
}

/**
 * `count` patches drawn as the reference does (see the file comment). The same seed and cells
 * (in any order) give the same plan; each patch's label is its sampled cell's class.
 */
export function planPatches(cells: readonly TrainingCell[], options: PlanOptions): PlannedPatch[] {
  const maxShiftFraction = options.maxShiftFraction ?? REFERENCE_MAX_SHIFT_FRACTION;
  checkPlanOptions(options, maxShiftFraction);
  const slides = groupBySlide(cells);
  if (options.count > 0 && slides.length === 0) throw new TrainingError(METHOD, 'there are no training cells to sample patches around');
  const random = seededRandom(derivedSeed(options.seed, 'patch-sampling'));
  const planned: PlannedPatch[] = [];
  for (let i = 0; i < options.count; i++) {
    const slide = slides[randomIndex(random, slides.length)]!;
    const label = slide.classes[randomIndex(random, slide.classes.length)]!;
    const candidates = slide.cellsByClass.get(label)!;
    const cell = candidates[randomIndex(random, candidates.length)]!;
    const maxShiftPx = maxShiftFraction * patchSizeOn(options.patchSizePx, cell.slideId);
    const shiftX = (2 * random() - 1) * maxShiftPx;
    const shiftY = (2 * random() - 1) * maxShiftPx;
    planned.push({ cell, centreX: cell.x + shiftX, centreY: cell.y + shiftY, label });
  }
  return planned;
}

/** One slide's positive cells sorted by x, for range queries. */
interface SlidePositives {
  readonly xs: Float64Array;
  readonly ys: Float64Array;
}

/**
 * The training split's cells of the positive class, per slide, sorted by x so "is any inside
 * this patch" is a binary search plus a scan of the cells in the patch's x range.
 */
export class PositiveCells {
  private readonly bySlide = new Map<number, SlidePositives>();

  constructor(
    cells: readonly TrainingCell[],
    readonly positiveLabel: number,
  ) {
    const grouped = new Map<number, TrainingCell[]>();
    for (const cell of cells) {
      if (cell.label !== positiveLabel) continue;
      const list = grouped.get(cell.slideId);
      if (list) list.push(cell);
      else grouped.set(cell.slideId, [cell]);
    }
    for (const [slideId, list] of grouped) {
      list.sort((a, b) => a.x - b.x);
      this.bySlide.set(slideId, { xs: Float64Array.from(list, (cell) => cell.x), ys: Float64Array.from(list, (cell) => cell.y) });
    }
  }

  /**
   * Whether a positive cell lies strictly inside the square of side `sizePx` centred on
   * (centreX, centreY) — strictly, as the reference's `SlideObject.get_label` compares.
   */
  anyInside(slideId: number, centreX: number, centreY: number, sizePx: number): boolean {
    const slide = this.bySlide.get(slideId);
    if (!slide) return false;
    const half = sizePx / 2;
    const { xs, ys } = slide;
    let low = 0;
    let high = xs.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (xs[middle]! <= centreX - half) low = middle + 1;
      else high = middle;
    }
    for (let i = low; i < xs.length && xs[i]! < centreX + half; i++) {
      if (Math.abs(ys[i]! - centreY) < half) return true;
    }
    return false;
  }
}

/**
 * The reference's label rule for a binary task (`SlideObject.get_label`): a patch is positive
 * when any training-split cell of the positive class lies inside the shifted patch — an
 * imposter patch that also shows a mitotic figure teaches "mitosis", not "no mitosis" —
 * else it keeps its sampled label. `patchSizePx` is the patch's side in level-0 pixels.
 */
export function relabel(planned: readonly PlannedPatch[], positives: PositiveCells, patchSizePx: PatchSizePx): PlannedPatch[] {
  return planned.map((patch) =>
    patch.label !== positives.positiveLabel && positives.anyInside(patch.cell.slideId, patch.centreX, patch.centreY, patchSizeOn(patchSizePx, patch.cell.slideId))
      ? { ...patch, label: positives.positiveLabel }
      : patch,
  );
}
