import type { ErrorCode } from '../../../src-main/contract/errors';
import type { AppInfo, Language, SlideSummary, ViewerRenderer } from '../../../src-main/contract/schemas';

type ReaderKind = NonNullable<SlideSummary['reader']>;

/** The English dictionary is the source of truth: every other language must have the same keys. */
export const en = {
  appName: 'Mitobench',
  nav: { slides: 'Slides', viewer: 'Viewer', settings: 'Settings', closeProject: 'Close project' },
  common: {
    cancel: 'Cancel',
    dismiss: 'Dismiss',
    close: 'Close',
    unknown: 'unknown',
    working: 'Working…',
  },
  project: {
    welcome: 'Label mitotic figures on your slides and measure how well foundation models classify them.',
    createTitle: 'Create a project',
    createHint: 'A project is a folder holding project.sqlite and its caches. Choose where to create it.',
    name: 'Project name',
    parentFolder: 'Create in folder',
    create: 'Create project',
    openTitle: 'Open a project',
    openHint: 'Choose a folder that holds a project.sqlite.',
    openFolder: 'Open this folder',
    recent: 'Recent projects',
    noRecent: 'No recent projects.',
    forget: 'Forget',
  },
  browser: {
    up: 'Up',
    go: 'Go',
    path: 'Path',
    empty: 'This folder is empty.',
  },
  slides: {
    title: 'Slides',
    add: 'Add slides…',
    addTitle: 'Add slides',
    addHint: 'Tick files or folders (folders are searched recursively), or add the whole folder shown.',
    addSelected: (count: number) => `Add selected (${count})`,
    addFolder: 'Add this whole folder',
    none: 'No slides yet. Add slide files or a folder of slides.',
    addedSummary: (added: number, present: number, failed: number) =>
      `Added ${added} · already in the project ${present} · could not open ${failed}`,
    addCancelled: 'Cancelled: the files after the last one added were not looked at.',
    view: 'View',
    remove: 'Remove',
    confirmRemove: (name: string) => `Remove ${name} from the project? The file on disk is not touched.`,
    relink: 'Relink…',
    relinkTitle: (name: string) => `Find the moved file of ${name}`,
    relinkHint: 'Choose the file at its new place. Its content must be the same as the slide that was added.',
    relinkUse: 'Relink to this file',
    missing: 'Missing',
    error: 'Cannot open',
    dimensions: 'Dimensions',
    levels: 'Levels',
    mpp: 'µm per pixel',
    objective: 'Objective',
    vendor: 'Vendor',
    fileSize: 'File size',
    reader: 'Reader',
    readerAuto: (kind: string) => `automatic (${kind})`,
    readerNames: { tiff: 'built-in TIFF', openslide: 'OpenSlide', image: 'image' } satisfies Record<ReaderKind, string>,
    associated: 'Label and macro',
    tags: 'Tags',
    tagKey: 'key (e.g. tumour)',
    tagValue: 'value',
    addTag: 'Add tag',
    saveTags: 'Save tags',
    removeTag: 'Remove tag',
    tagSuggestions: ['tumour', 'species', 'scanner', 'site'],
  },
  viewer: {
    noSlide: 'Choose a slide to view.',
    magnification: 'Magnification',
    fit: 'Fit',
    fullScreen: 'Full screen',
    keys: 'Click: label a cell · 1, 2…: class · Ctrl+Z / Ctrl+Shift+Z: undo / redo · Shift+1…5: 1.25×, 5×, 10×, 20×, 40× · Shift+0: whole slide · F: full screen',
    noScale: 'no scale: the file gives no µm per pixel',
    loading: 'Loading…',
    canvasDrawer: 'canvas',
  },
  settings: {
    title: 'Settings',
    language: 'Language',
    viewerRenderer: 'Slide drawing',
    viewerRenderers: {
      auto: 'automatic (GPU when there is one)',
      webgl: 'WebGL (exact pixels)',
      canvas: 'canvas (works everywhere)',
    } satisfies Record<ViewerRenderer, string>,
    viewerRendererHint:
      'WebGL shows every slide pixel exactly; without a GPU it runs in software and is slow, so automatic then uses the canvas, which stretches tiles by one pixel to hide seams. Applies to the next slide opened.',
    languages: { en: 'English', ja: '日本語' } satisfies Record<Language, string>,
    readers: 'Slide readers',
    readerFormats: {
      tiff: 'built in: Aperio SVS, pyramidal TIFF and BigTIFF, OME-TIFF',
      openslide: 'system library: Hamamatsu, 3DHISTECH, Leica, Philips, Ventana, JPEG 2000 SVS',
      image: 'built in: PNG, JPEG, single-level TIFF',
    } satisfies Record<ReaderKind, string>,
    available: 'available',
    unavailable: 'not available',
    version: 'Version',
    mode: 'Running as',
    modes: { electron: 'desktop app', browser: 'browser mode (served from this computer)' } satisfies Record<AppInfo['mode'], string>,
  },
  interop: {
    open: 'Import annotations…',
    title: 'Import annotations',
    hint: 'MIDOG / MIDOG++ JSON, SlideRunner database or CSV (x, y, label, slide[, annotator]). Images are matched to slides by file name; missing ones become slides to relink.',
    preview: 'Preview',
    run: 'Import',
    counts: (cells: number, votes: number, present: number) =>
      `${cells} cells, ${votes} votes${present > 0 ? `, ${present} already in the project (skipped)` : ''}`,
    classLine: (votes: number, agreed: number, created: boolean) => `${votes} votes, ${agreed} agreed cells${created ? ' (new class)' : ''}`,
    slides: (matched: number, unmatched: number) => `${matched} images match slides of the project; ${unmatched} will be added as missing slides`,
    done: (cells: number, votes: number, slides: number, tagged: number, ms: number) =>
      `Imported ${cells} cells and ${votes} votes, added ${slides} missing slides, tagged ${tagged} slides in ${ms} ms.`,
  },
  labelling: {
    annotator: 'Annotator',
    yourName: 'your name',
    use: 'Label as',
    chooseName: 'Enter your name to label cells.',
    blind: 'Blind (only my votes)',
    cellsInView: (count: number) => (count === 1 ? '1 cell in view' : `${count} cells in view`),
    disagreements: (count: number) => (count === 1 ? '1 disagreement' : `${count} disagreements`),
  },
  jobs: {
    kinds: { 'slides.add': 'Adding slides' } as Partial<Record<string, string>>,
    secondsLeft: (seconds: number) => `about ${seconds} s left`,
    minutesLeft: (minutes: number) => `about ${minutes} min left`,
  },
  // [i18n:formats]
  // [i18n:export]
  // [i18n:review]
  // [i18n:viewer]
  // [i18n:screening]
  errors: {
    /** Headings by error code; the message below them names the file and the technical reason. */
    byCode: {
      'invalid-argument': 'That request was not valid',
      'not-found': 'Not found',
      'no-project': 'No project is open',
      'project-newer': 'This project needs a newer Mitobench',
      'project-unreadable': 'The project file cannot be read',
      unwritable: 'Cannot write there',
      'slide-unreadable': 'The slide file cannot be read',
      'file-exists': 'A project already exists there',
      unauthorized: 'Access refused',
      internal: 'Something went wrong',
    } satisfies Record<ErrorCode, string>,
  },
};

export type Dictionary = typeof en;
