import type { ExportFormatSummary } from '../contract/exportSchemas';
import { AnnotationExporter, exportFormats } from '../services/interop/AnnotationExporter';
import type { HandlerTable } from './handlerTable';
import type { Workspace } from './Workspace';

/** The formats an export can write, as the registry lists them. */
export function exportFormatSummaries(): ExportFormatSummary[] {
  return exportFormats().map(({ id, displayName, fileExtensions }) => ({ id, displayName, fileExtensions: [...fileExtensions] }));
}

/** The exporter of the open project; it never replaces the project's own database. */
export function exporterOf(workspace: Workspace): AnnotationExporter {
  const project = workspace.database();
  return new AnnotationExporter(project.db, workspace.annotations(), workspace.catalog(), { protectedFiles: [project.file] });
}

export function exportHandlers(workspace: Workspace): Pick<HandlerTable, 'interop.export' | 'interop.exportFormats'> {
  return {
    'interop.export': ({ path, formatId, slideIds, overwrite }) => exporterOf(workspace).export({ path, formatId, slideIds, overwrite }),
    'interop.exportFormats': () => exportFormatSummaries(),
  };
}
