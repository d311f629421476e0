import type { HandlerTable } from './handlerTable';
import type { Workspace } from './Workspace';

type ViewerCalls = Pick<
  HandlerTable,
  | 'annotations.allClasses'
  | 'annotations.createClass'
  | 'annotations.updateClass'
  | 'annotations.deleteClass'
  | 'annotations.queryPoints'
  | 'annotations.get'
>;

/**
 * The viewer's cells (compact, for drawing many; one in full by id) and class editing from the
 * viewer and settings. The catalogue checks the rules (unique live name
 * and hotkey, '#rrggbb') and names the field at fault; deletion is soft, votes are kept.
 */
export function viewerHandlers(workspace: Workspace): ViewerCalls {
  return {
    'annotations.queryPoints': ({ slideId, rect, viewerId, blind, includeUnlabelledCandidates }) =>
      workspace.annotations().queryPoints(slideId, rect, { viewerId, blind, includeUnlabelledCandidates }),
    'annotations.get': ({ annotationId, viewerId, blind, includeUnlabelledCandidates }) =>
      workspace.annotations().get(annotationId, { viewerId, blind, includeUnlabelledCandidates }),
    'annotations.allClasses': () => workspace.annotations().listClasses({ includeDeleted: true }),
    'annotations.createClass': ({ name, colour, hotkey }) => workspace.annotations().createClass({ name, colour, hotkey: hotkey ?? null }),
    'annotations.updateClass': ({ classId, name, colour, hotkey }) => workspace.annotations().updateClass(classId, { name, colour, hotkey }),
    'annotations.deleteClass': ({ classId }) => {
      workspace.annotations().deleteClass(classId);
      return {};
    },
  };
}
