/**
 * The names of every call and event, as plain data so the preload can allow-list them
 * without bundling the schemas. api.ts is typed so that its tables have exactly these keys.
 */
export const callNames = [
  'app.info',
  'settings.setLanguage',
  'settings.setViewerRenderer',
  'settings.setAnnotatorName',
  'project.create',
  'project.open',
  'project.close',
  'project.forgetRecent',
  'files.listFolder',
  'slides.list',
  'slides.add',
  'slides.remove',
  'slides.setTags',
  'slides.relink',
  'slides.setReader',
  'slides.tileSource',
  'jobs.list',
  'jobs.cancel',
  'annotations.classes',
  'annotations.annotators',
  'annotations.ensureAnnotator',
  'annotations.query',
  'annotations.create',
  'annotations.move',
  'annotations.vote',
  'annotations.clearVote',
  'annotations.delete',
  'annotations.undo',
  'annotations.redo',
  'annotations.history',
  // [calls:formats]
  'interop.preview',
  'interop.import',
  'interop.previewCrops',
  'interop.importCrops',
  // [calls:export]
  'interop.export',
  'interop.exportFormats',
  // [calls:review]
  'review.cells',
  'review.labelLog',
  'review.disagreements',
  // [calls:viewer]
  'annotations.queryPoints',
  'annotations.get',
  'annotations.allClasses',
  'annotations.createClass',
  'annotations.updateClass',
  'annotations.deleteClass',
  // [calls:screening]
  'screening.get',
  'screening.start',
  'screening.visit',
  'screening.reset',
  'count.inArea',
  'count.hotspot',
  // [calls:models]
  'models.embeddingCandidates',
  'models.list',
  'models.register',
  'models.remove',
  'models.providers',
  'models.testRun',
  // [calls:embeddings]
  'embeddings.extract',
  'embeddings.status',
  'embeddings.map',
  // [calls:training]
  'training.start',
  'training.resume',
  'training.list',
  'training.get',
  'training.remove',
  'training.predict',
  'training.predictions',
  // [calls:studies]
  'studies.create',
  'studies.run',
  'studies.list',
  'studies.get',
  'studies.predictions',
  'studies.exportCsv',
  'studies.exportJson',
  'studies.remove',
  'studies.exportReport',
  'studies.agreement',
  'studies.clinical',
] as const;

export const eventNames = ['project.changed', 'slides.changed', 'jobs.changed', 'annotations.changed'] as const;

export type CallName = (typeof callNames)[number];
export type EventName = (typeof eventNames)[number];
