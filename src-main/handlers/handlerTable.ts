import fs from 'node:fs';
import path from 'node:path';
import type { CallInput, CallName, CallOutput } from '../contract/api';
import type { FolderListing } from '../contract/schemas';
import { UserFacingError } from '../contract/errors';
import { looksLikeSlide } from '../services/slides/openSlideFile';
import { formatsHandlers } from './formatsCalls';
import type { Workspace } from './Workspace';
import { screeningHandlers } from './screeningCalls';
import { reviewHandlers } from './reviewCalls';
import { exportHandlers } from './exportCalls';
import { viewerHandlers } from './viewerCalls';
import { modelsHandlers } from './modelsCalls';
import { embeddingsHandlers } from './embeddingsCalls';
import { studiesHandlers } from './studiesCalls';
import { trainingHandlers } from './trainingCalls';

export type HandlerTable = {
  [N in CallName]: (input: CallInput<N>) => Promise<CallOutput<N>> | CallOutput<N>;
};

/** The one table of call handlers, served by both transports. Inputs arrive validated. */
export function createHandlerTable(workspace: Workspace): HandlerTable {
  const slidesChanged = (slideIds: number[]) => workspace.emit('slides.changed', { slideIds });
  return {
    'app.info': () => workspace.info(),
    'settings.setLanguage': ({ language }) => {
      workspace.settings.setLanguage(language);
      return {};
    },
    'settings.setAnnotatorName': ({ name }) => {
      workspace.settings.setAnnotatorName(name);
      return {};
    },
    'settings.setViewerRenderer': ({ renderer }) => {
      workspace.settings.setViewerRenderer(renderer);
      return {};
    },
    'project.create': ({ folder, name }) => workspace.createProject(folder, name),
    'project.open': ({ folder }) => workspace.openProject(folder),
    'project.close': async () => {
      await workspace.closeProject();
      return {};
    },
    'project.forgetRecent': ({ folder }) => {
      workspace.settings.forgetProject(folder);
      return {};
    },
    'files.listFolder': ({ path: folder }) => listFolder(folder),
    'slides.list': () => workspace.slides().list(),
    'slides.add': async ({ paths }) => {
      const title = paths.length === 1 ? `Add slides from ${paths[0]}` : `Add ${paths.length} slide files or folders`;
      const { result } = await workspace.jobs().run('slides.add', title, { paths }, (job) =>
        workspace.slides().add(paths, (done, total, file) => job.progress(done, total, file), job.signal),
      );
      slidesChanged(result.added.map((slide) => slide.id));
      return result;
    },
    'slides.remove': async ({ slideId }) => {
      await workspace.slides().remove(slideId);
      slidesChanged([slideId]);
      return {};
    },
    'slides.setTags': ({ slideId, tags }) => {
      const slide = workspace.slides().setTags(slideId, tags);
      slidesChanged([slideId]);
      return slide;
    },
    'slides.relink': async ({ slideId, path: newPath }) => {
      const slide = await workspace.slides().relink(slideId, newPath);
      slidesChanged([slideId]);
      return slide;
    },
    'slides.setReader': async ({ slideId, reader }) => {
      const slide = await workspace.slides().setReader(slideId, reader);
      slidesChanged([slideId]);
      return slide;
    },
    'slides.tileSource': ({ slideId }) => workspace.slides().tileSource(slideId),
    'jobs.list': () => workspace.jobs().list(),
    'jobs.cancel': ({ jobId }) => ({ cancelled: workspace.jobs().cancel(jobId) }),

    // Annotation changes reach the renderer as 'annotations.changed' events (Workspace forwards the store's).
    'annotations.classes': () => workspace.annotations().listClasses(),
    'annotations.annotators': () => workspace.annotations().listAnnotators(),
    'annotations.ensureAnnotator': ({ name, kind }) => workspace.annotations().ensureAnnotator(name, kind),
    'annotations.query': ({ slideId, rect, viewerId, blind, includeUnlabelledCandidates }) =>
      workspace.annotations().queryRect(slideId, rect, { viewerId, blind, includeUnlabelledCandidates }),
    'annotations.create': ({ slideId, geometry, actorId, classId }) => {
      const { id, guid } = workspace.annotations().createAnnotation(slideId, geometry, actorId, classId);
      return { id, guid };
    },
    'annotations.move': ({ annotationId, actorId, geometry }) => workspace.annotations().move(annotationId, actorId, geometry),
    'annotations.vote': ({ annotationId, actorId, classId }) => workspace.annotations().setVote(annotationId, actorId, classId),
    'annotations.clearVote': ({ annotationId, actorId }) => workspace.annotations().clearVote(annotationId, actorId),
    'annotations.delete': ({ annotationId, actorId }) => workspace.annotations().delete(annotationId, actorId),
    'annotations.undo': ({ actorId }) => workspace.annotations().undo(actorId),
    'annotations.redo': ({ actorId }) => workspace.annotations().redo(actorId),
    'annotations.history': ({ annotationId }) => workspace.annotations().history(annotationId),

    // [handlers:formats]
    ...formatsHandlers(workspace),
    // [handlers:export]
    ...exportHandlers(workspace),
    // [handlers:review]
    ...reviewHandlers(workspace),
    // [handlers:viewer]
    ...viewerHandlers(workspace),
    // [handlers:screening]
    ...screeningHandlers(workspace),
    // [handlers:models]
    ...modelsHandlers(workspace),
    // [handlers:embeddings]
    ...embeddingsHandlers(workspace),
    // [handlers:training]
    ...trainingHandlers(workspace),
    // [handlers:studies]
    ...studiesHandlers(workspace),
  };
}

async function listFolder(folder: string): Promise<FolderListing> {
  const resolved = path.resolve(folder);
  let names: fs.Dirent[];
  try {
    names = await fs.promises.readdir(resolved, { withFileTypes: true });
  } catch {
    throw new UserFacingError('not-found', `${resolved}: folder not found or not readable`, resolved);
  }
  const entries: FolderListing['entries'] = [];
  for (const entry of names) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(resolved, entry.name);
    let isFolder = entry.isDirectory();
    let sizeBytes: number | null = null;
    try {
      const stat = await fs.promises.stat(full);
      isFolder = stat.isDirectory();
      sizeBytes = isFolder ? null : stat.size;
    } catch {
      continue;
    }
    entries.push({
      name: entry.name,
      path: full,
      kind: isFolder ? 'folder' : looksLikeSlide(full) ? 'slide' : 'other',
      sizeBytes,
    });
  }
  entries.sort((a, b) => Number(b.kind === 'folder') - Number(a.kind === 'folder') || a.name.localeCompare(b.name));
  const parent = path.dirname(resolved);
  return { path: resolved, parent: parent === resolved ? null : parent, entries };
}
