import os from 'node:os';
import path from 'node:path';
import type { AnnotationBundle } from '../services/interop/AnnotationBundle';
import { AnnotationExporter, exportFormats } from '../services/interop/AnnotationExporter';
import { AnnotationImporter, type ImportPreview } from '../services/interop/AnnotationImporter';
import { annotationFormats, formatForFile, type AnnotationFormat } from '../services/interop/annotationFormats';
import { AnnotationStore } from '../services/annotations/AnnotationStore';
import { ProjectDatabase } from '../services/project/ProjectDatabase';
import { SlideCatalog } from '../services/slides/SlideCatalog';

/**
 * `npm run annotations -- <command>`: annotation import and export without the app, with the
 * same services the app uses (ProjectDatabase, SlideCatalog, AnnotationStore, importer,
 * exporter). The project may be open in the app at the same time (SQLite WAL; each write is
 * one transaction).
 */

export interface CliIo {
  stdout(line: string): void;
  stderr(line: string): void;
  /** Where relative paths start (npm runs scripts in the package folder; it passes the user's folder as INIT_CWD). */
  cwd?: string;
}

export const usage = `Usage: npm run annotations -- <command> [options]

Commands:
  formats                                   list the annotation formats
  preview <project-folder> <file> [--format id]
                                            what an import would do; writes nothing
  import  <project-folder> <file> [--format id] [--annotator name]
                                            import in one transaction (a bad file changes nothing);
                                            --annotator: who imports (default: your user name)
  export  <project-folder> <file> [--format id] [--slides id,id|name,...] [--overwrite]
                                            write the project's annotations; the format follows
                                            the file's extension unless --format names one;
                                            an existing file is kept unless --overwrite
  --help                                    this text

Exit status: 0 on success, 1 when the command fails (one line on stderr names the file), 2 on a usage error.`;

class UsageError extends Error {}

interface Parsed {
  command: string;
  positional: string[];
  options: Map<string, string | true>;
}

const optionsTakingValues = new Set(['format', 'annotator', 'slides']);
const flags = new Set(['overwrite', 'help']);
const optionsOf: Record<string, string[]> = {
  formats: [],
  preview: ['format'],
  import: ['format', 'annotator'],
  export: ['format', 'slides', 'overwrite'],
};

function parse(argv: readonly string[]): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    if (argument === '-h') {
      options.set('help', true);
    } else if (argument.startsWith('--')) {
      const [name, inline] = argument.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (flags.has(name)) {
        if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
        options.set(name, true);
      } else if (optionsTakingValues.has(name)) {
        const value = inline ?? argv[++index];
        if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
        options.set(name, value);
      } else {
        throw new UsageError(`unknown option ${argument}`);
      }
    } else {
      positional.push(argument);
    }
  }
  const [command = '', ...rest] = positional;
  return { command, positional: rest, options };
}

/** Runs one command; returns the exit status. Never throws: failures become one line on stderr. */
export function main(argv: readonly string[], io: CliIo): number {
  let parsed: Parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  const { command, positional, options } = parsed;
  if (options.has('help') || command === 'help') {
    io.stdout(usage);
    return 0;
  }
  if (!command) return usageError(io, 'no command given');
  const allowed = optionsOf[command];
  if (!allowed) return usageError(io, `unknown command "${command}"`);
  const stray = [...options.keys()].find((name) => !allowed.includes(name));
  if (stray) return usageError(io, `${command} does not take --${stray}`);
  const expected = command === 'formats' ? 0 : 2;
  if (positional.length !== expected) {
    return usageError(io, command === 'formats' ? 'formats takes no arguments' : `${command} needs <project-folder> <file>`);
  }

  const cwd = io.cwd ?? process.cwd();
  try {
    if (command === 'formats') listFormats(io);
    else withProject(path.resolve(cwd, positional[0]!), (services) => runOnProject(command, services, path.resolve(cwd, positional[1]!), options, io));
    return 0;
  } catch (error) {
    io.stderr(`mitobench annotations ${command}: ${oneLine(error)}`);
    return 1;
  }
}

function usageError(io: CliIo, problem: string): number {
  io.stderr(`mitobench annotations: ${problem}. Run with --help for the commands.`);
  return 2;
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

interface Services {
  project: ProjectDatabase;
  store: AnnotationStore;
  catalog: SlideCatalog;
}

function withProject(folder: string, work: (services: Services) => void): void {
  const project = ProjectDatabase.open(folder);
  try {
    work({ project, store: new AnnotationStore(project.db), catalog: new SlideCatalog(project.db) });
  } finally {
    project.close();
  }
}

function runOnProject(command: string, services: Services, file: string, options: Map<string, string | true>, io: CliIo): void {
  const formatId = options.get('format') as string | undefined;
  if (command === 'export') {
    const exporter = new AnnotationExporter(services.project.db, services.store, services.catalog, { protectedFiles: [services.project.file] });
    const slides = options.get('slides') as string | undefined;
    const report = exporter.export({
      path: file,
      formatId,
      slideIds: slides === undefined ? undefined : slideIdsOf(slides, services.catalog),
      overwrite: options.get('overwrite') === true,
    });
    io.stdout(
      `Wrote ${report.cells} cells and ${report.votes} votes of ${report.slides} slides to ${report.path} ` +
        `(${report.format}, ${report.bytes} bytes) in ${Math.round(report.ms)} ms.`,
    );
    return;
  }

  const { format, bundle } = readFile(file, formatId);
  const importer = new AnnotationImporter(services.project.db, services.store, services.catalog);
  if (command === 'preview') {
    printPreview(file, format, importer.preview(bundle, { file }), io);
    return;
  }
  const name = (options.get('annotator') as string | undefined) ?? os.userInfo().username;
  const actor = services.store.ensureAnnotator(name.trim() || 'command line');
  const report = importer.import(bundle, actor.id, { file });
  io.stdout(
    `Imported ${report.cells} cells and ${report.votes} votes from ${file} (${format.id}) as "${actor.name}" in ${Math.round(report.durationMs)} ms: ` +
      `${report.createdSlides.length} missing slides added, ${report.matchedSlides.length} slides matched, ${report.slidesTagged} tagged, ` +
      `${report.alreadyPresent} cells already present.`,
  );
  for (const warning of report.warnings) io.stdout(`  warning: ${warning}`);
}

function readFile(file: string, formatId: string | undefined): { format: AnnotationFormat; bundle: AnnotationBundle } {
  const format = formatId === undefined ? formatForFile(file) : annotationFormats.find((candidate) => candidate.id === formatId);
  if (!format) {
    const known = annotationFormats.map((candidate) => candidate.id).join(', ');
    throw new Error(
      formatId === undefined
        ? `${file}: the file name does not say which format it is; give --format (${known})`
        : `${file}: unknown format "${formatId}" (known: ${known})`,
    );
  }
  return { format, bundle: format.readFile(file) };
}

/** "3,5" or "case-1.svs,7": slide ids, or file names of the project's slides (ignoring case). */
function slideIdsOf(list: string, catalog: SlideCatalog): number[] {
  const slides = catalog.list();
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      if (/^\d+$/.test(entry)) return Number(entry);
      const found = slides.find((slide) => slide.fileName.toLowerCase() === entry.toLowerCase());
      if (!found) throw new Error(`--slides: no slide named "${entry}" in this project`);
      return found.id;
    });
}

function listFormats(io: CliIo): void {
  const writable = new Set(exportFormats());
  for (const format of annotationFormats) {
    const directions = writable.has(format) ? 'import, export' : 'import';
    io.stdout(`${format.id.padEnd(20)} ${format.displayName} (${format.fileExtensions.join(', ')}; ${directions})`);
  }
}

function printPreview(file: string, format: AnnotationFormat, preview: ImportPreview, io: CliIo): void {
  io.stdout(`${file} (${format.id}): ${preview.cells} cells, ${preview.votes} votes would be imported; nothing was written.`);
  if (preview.alreadyPresent > 0) io.stdout(`  ${preview.alreadyPresent} cells are already in the project and would be skipped`);
  io.stdout('Classes:');
  for (const entry of preview.classes) {
    const target = entry.projectClass ? `→ "${entry.projectClass.name}"` : '(new)';
    io.stdout(`  ${entry.name} ${target}: ${entry.votes} votes, ${entry.agreedCells} agreed cells`);
  }
  io.stdout('Annotators:');
  for (const entry of preview.annotators) {
    io.stdout(`  ${entry.name} (${entry.kind}${entry.annotatorId === null ? ', new' : ''}): ${entry.votes} votes`);
  }
  io.stdout(
    `Slides: ${preview.slides.matched.length} match slides of the project, ${preview.slides.unmatched.length} would be added as missing slides`,
  );
  for (const tag of preview.tags) {
    io.stdout(`Tag ${tag.key}: ${tag.values.map((value) => `${value.value} (${value.slides} slides)`).join(', ')}`);
  }
  for (const warning of preview.warnings) io.stdout(`  warning: ${warning}`);
}
