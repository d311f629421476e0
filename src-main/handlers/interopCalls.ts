import type { ImportPreviewSummary, ImportReportSummary } from '../contract/schemas';
import type { InterchangeFormatId } from '../services/interop/AnnotationBundle';
import type { ImportPreview, ImportReport } from '../services/interop/AnnotationImporter';

/** The preview without per-cell detail: small and JSON-safe. */
export function previewSummary(file: string, formatId: InterchangeFormatId, preview: ImportPreview): ImportPreviewSummary {
  return {
    file,
    formatId,
    ...countsOf(preview),
    classCount: preview.classes.length,
    annotatorCount: preview.annotators.length,
    slideCount: preview.slides.matched.length + preview.slides.unmatched.length,
    classes: preview.classes.map((entry) => ({
      name: entry.name,
      votes: entry.votes,
      agreedCells: entry.agreedCells,
      projectClassId: entry.projectClass?.id ?? null,
      colour: entry.colour,
    })),
    annotators: preview.annotators.map((entry) => ({
      name: entry.name,
      kind: entry.kind,
      annotatorId: entry.annotatorId,
      votes: entry.votes,
    })),
    matchedSlides: preview.slides.matched.map(({ fileName, slideId, cells }) => ({ fileName, slideId, cells })),
    unmatchedSlides: preview.slides.unmatched.map(({ fileName, cells }) => ({ fileName, cells })),
    warnings: preview.warnings,
  };
}

/** The report without the ids of every imported annotation. */
export function reportSummary(file: string, formatId: InterchangeFormatId, report: ImportReport): ImportReportSummary {
  return {
    file,
    formatId,
    ...countsOf(report),
    changeId: report.changeId,
    createdClasses: report.createdClasses,
    createdAnnotators: report.createdAnnotators,
    createdSlides: report.createdSlides,
    matchedSlides: report.matchedSlides.length,
    slidesTagged: report.slidesTagged,
    warnings: report.warnings,
    durationMs: report.durationMs,
  };
}

function countsOf(counts: ImportPreview | ImportReport) {
  return {
    cells: counts.cells,
    votes: counts.votes,
    votesWithoutClass: counts.votesWithoutClass,
    repeatedVotes: counts.repeatedVotes,
    agreedClassVotes: counts.agreedClassVotes,
    agreedClassNotKept: counts.agreedClassNotKept,
    alreadyPresent: counts.alreadyPresent,
    deletedInSource: counts.deletedInSource,
  };
}
