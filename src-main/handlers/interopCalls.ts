import path from 'node:path';
import type { ImportPreviewSummary, ImportReportSummary } from '../contract/schemas';
import { UserFacingError } from '../contract/errors';
import type { AnnotationBundle, InterchangeFormatId } from '../services/interop/AnnotationBundle';
import type { ImportPreview, ImportReport } from '../services/interop/AnnotationImporter';
import { annotationFormats, formatForFile, type AnnotationFormat } from '../services/interop/annotationFormats';

export interface ReadAnnotationFile {
  file: string;
  format: AnnotationFormat;
  bundle: AnnotationBundle;
}

/**
 * Reads an annotation file with its format's adapter: the one named, else the one its extension
 * suggests. Throws InteropError (naming the file) when the file cannot be read or parsed.
 */
export function readAnnotationFile(filePath: string, formatId: InterchangeFormatId | undefined): ReadAnnotationFile {
  const file = path.resolve(filePath);
  const format = formatId === undefined ? formatForFile(file) : annotationFormats.find((candidate) => candidate.id === formatId);
  if (!format) {
    const known = annotationFormats.flatMap((candidate) => candidate.fileExtensions).join(', ');
    throw new UserFacingError('invalid-argument', `${file}: not a known annotation file type (expected ${known}); choose the format`, file);
  }
  return { file, format, bundle: format.readFile(file) };
}

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
