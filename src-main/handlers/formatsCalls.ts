import fs from 'node:fs';
import path from 'node:path';
import { UserFacingError } from '../contract/errors';
import type { FileImportPreview, FileImportReport } from '../contract/formatsSchemas';
import type { AnnotationBundle, InterchangeFormatId } from '../services/interop/AnnotationBundle';
import { annotationFormats, formatForFile, type AnnotationFormat } from '../services/interop/annotationFormats';
import { CropsImporter } from '../services/interop/crops/CropsImporter';
import { InteropError } from '../services/interop/InteropError';
import { resolveSlideOfFile, type SlideChoice } from '../services/interop/singleSlideFiles';
import type { HandlerTable } from './handlerTable';
import { previewSummary, reportSummary } from './interopCalls';
import type { Workspace } from './Workspace';

type FormatsCalls = 'interop.preview' | 'interop.import' | 'interop.previewCrops' | 'interop.importCrops';

interface ReadFile {
  file: string;
  format: AnnotationFormat;
  bundle: AnnotationBundle;
  slideChoice: SlideChoice | null;
}

/**
 * Reads an annotation file of any format (named, else recognised by content and extension).
 * QuPath and ASAP files hold one image without naming it: their slide is `slideId` when given,
 * else the one the file names (Mitobench exports) or its file name names (see singleSlideFiles.ts).
 */
function readFileForImport(workspace: Workspace, filePath: string, formatId: InterchangeFormatId | undefined, slideId: number | undefined): ReadFile {
  const file = path.resolve(filePath);
  const format = formatId === undefined ? formatForFile(file) : annotationFormats.find((candidate) => candidate.id === formatId);
  if (!format) {
    const known = annotationFormats.map((candidate) => `${candidate.displayName} (${candidate.fileExtensions.join(', ')})`).join('; ');
    throw new UserFacingError('invalid-argument', `${file}: not a known annotation file (expected ${known}); choose the format`, file);
  }
  if (!format.readSingleSlide) {
    if (slideId !== undefined) {
      throw new UserFacingError('invalid-argument', `${file}: a ${format.displayName} file names its own slides; a slide can be chosen only for QuPath and ASAP files`, file);
    }
    return { file, format, bundle: format.readFile(file), slideChoice: null };
  }
  let content: Buffer;
  try {
    content = fs.readFileSync(file);
  } catch (error) {
    throw new InteropError(file, '', `cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = format.readSingleSlide(content, file, {});
  const slides = workspace.catalog().list().map((record) => ({ id: record.id, fileName: record.fileName }));
  const { bundle, choice } = resolveSlideOfFile(parsed, slides, slideId);
  return { file, format, bundle, slideChoice: choice };
}

function cropsImporterOf(workspace: Workspace): CropsImporter {
  return new CropsImporter(workspace.database().db, workspace.annotations(), workspace.slides(), workspace.catalog());
}

export function formatsHandlers(workspace: Workspace): Pick<HandlerTable, FormatsCalls> {
  return {
    'interop.preview': ({ path: filePath, formatId, slideId, classMapping }): FileImportPreview => {
      const importer = workspace.importer();
      const { file, format, bundle, slideChoice } = readFileForImport(workspace, filePath, formatId, slideId);
      return { ...previewSummary(file, format.id, importer.preview(bundle, { file, classMapping })), slideChoice };
    },
    'interop.import': ({ path: filePath, formatId, slideId, actorId, classMapping }): FileImportReport => {
      const importer = workspace.importer();
      const { file, format, bundle, slideChoice } = readFileForImport(workspace, filePath, formatId, slideId);
      const report = importer.import(bundle, actorId, { file, classMapping });
      const touched = [...report.createdSlides.map((slide) => slide.slideId), ...report.matchedSlides.map((slide) => slide.slideId)];
      if (touched.length > 0) workspace.emit('slides.changed', { slideIds: touched });
      return { ...reportSummary(file, format.id, report), slideChoice };
    },
    'interop.previewCrops': ({ folder }) => cropsImporterOf(workspace).preview(folder),
    'interop.importCrops': async ({ folder, actorId }) => {
      const importer = cropsImporterOf(workspace);
      const { result } = await workspace.jobs().run('interop.importCrops', `Import labelled crops from ${path.resolve(folder)}`, { folder }, (job) =>
        importer.import(folder, actorId, job),
      );
      if (result.slideIds.length > 0) workspace.emit('slides.changed', { slideIds: result.slideIds });
      return result;
    },
  };
}
