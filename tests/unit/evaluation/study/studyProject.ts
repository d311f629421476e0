import path from 'node:path';
import type { ModelInfo } from '../../../../src-main/contract/modelsSchemas';
import { AnnotationStore } from '../../../../src-main/services/annotations/AnnotationStore';
import { EmbeddingCache, labelledCells } from '../../../../src-main/services/embeddings/EmbeddingCache';
import { modelKey, patchParameters } from '../../../../src-main/services/embeddings/patches';
import { ModelRegistry } from '../../../../src-main/services/models/ModelRegistry';
import { ProjectDatabase } from '../../../../src-main/services/project/ProjectDatabase';
import { type RandomSource, seededRandom } from '../../../../src-main/services/random/seededRandom';
import { SlideCatalog } from '../../../../src-main/services/slides/SlideCatalog';
import { slideRow } from '../../../fixtures/slideRows';

/*
 * A project with labelled cells on many slides and cached embeddings written straight into the
 * embedding cache (as extraction would have): a study needs no slide file and no network.
 */

export interface StudyProjectOptions {
  slides: number;
  cellsPerSlide: number;
  dim: number;
  /** Share of cells that are mitotic figures (class 1). */
  positiveShare: number;
  seed: number;
  /** Tag values assigned to slides in turn under the key 'tumour'; none when empty. */
  domains?: readonly string[];
  /** How far apart the class means are, in noise SDs, along the first 8 dimensions. */
  separation?: number;
  /** How many models to register, each with its own embeddings. */
  models?: number;
  /** Ben labels every other cell and disagrees on a tenth of those (default true). */
  secondAnnotator?: boolean;
}

export interface StudyProject {
  project: ProjectDatabase;
  models: ModelInfo[];
  registry: ModelRegistry;
  /** The labelling person and a second person who labels only every other cell. */
  annotatorIds: { ada: number; ben: number };
  cellCount: number;
}

function gaussian(random: RandomSource): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A model row as registration of an ONNX embedder would leave it (the file itself is never opened here). */
function insertModel(project: ProjectDatabase, index: number, dim: number): number {
  const config = {
    architecture: 'ONNX file (synthetic)',
    inputName: 'pixels',
    inputShape: [1, 3, 224, 224],
    imageSize: 224,
    patchSize: null,
    dim,
    depth: null,
    heads: null,
    mlp: null,
    mean: null,
    std: null,
    interpolation: null,
    umPerPixel: 0.5,
    embeddingRule: null,
    embeddingSize: dim,
  };
  const result = project.db
    .prepare(
      `INSERT INTO models (name, kind, source_path, file_hash, preset_id, config_json, embedding_output, parameter_count, onnx_path, created_at)
       VALUES (?, 'onnx-file', ?, ?, NULL, ?, 'embedding', 1000, ?, ?)`,
    )
    .run(`synthetic-${index}`, `/models/synthetic-${index}.onnx`, `hash-${index}`, JSON.stringify(config), `/models/synthetic-${index}.onnx`, new Date().toISOString());
  return Number(result.lastInsertRowid);
}

export function createStudyProject(folder: string, options: StudyProjectOptions): StudyProject {
  const project = ProjectDatabase.create(path.join(folder, 'project'), 'study test');
  const random = seededRandom(options.seed);
  const catalog = new SlideCatalog(project.db);
  const store = new AnnotationStore(project.db);
  const ada = store.ensureAnnotator('Ada').id;
  const ben = store.ensureAnnotator('Ben').id;
  const cells = [];
  for (let s = 0; s < options.slides; s++) {
    const slideId = catalog.insert(slideRow(`slide-${String(s).padStart(3, '0')}.svs`));
    if (options.domains?.length) catalog.setTags(slideId, [{ key: 'tumour', value: options.domains[s % options.domains.length]! }]);
    for (let c = 0; c < options.cellsPerSlide; c++) {
      const classId = random() < options.positiveShare ? 1 : 2;
      const votes = [{ annotatorId: ada, classId }];
      // Ben labels every other cell and disagrees on a tenth of them: consensus drops those.
      if (options.secondAnnotator !== false && c % 2 === 0) votes.push({ annotatorId: ben, classId: c % 20 === 0 ? 3 - classId : classId });
      cells.push({ slideId, geometry: { shape: 'point' as const, x: 100 + c * 10, y: 100 + s }, votes });
    }
  }
  store.importAnnotations(ada, cells, 'synthetic');
  const registry = new ModelRegistry(project.db, project.cacheFolder);
  const models = Array.from({ length: options.models ?? 1 }, (_, i) => registry.get(insertModel(project, i + 1, options.dim)));
  const labelled = labelledCells(project.db);
  const cache = new EmbeddingCache(project.db);
  const separation = options.separation ?? 1.5;
  const adaClass = project.db.prepare('SELECT class_id AS c FROM labels WHERE annotation_id = ? AND annotator_id = ?');
  models.forEach((model, m) => {
    const slideOffsets = new Map<number, number>();
    const entries = labelled.map((cell) => {
      if (!slideOffsets.has(cell.slideId)) slideOffsets.set(cell.slideId, gaussian(random) * 0.5);
      // Ada's class decides the signal (her vote is on every cell).
      const classId = (adaClass.get(cell.annotationId, ada) as { c: number }).c;
      const vector = new Float32Array(options.dim);
      for (let d = 0; d < options.dim; d++) {
        const signal = d < 8 && classId === 1 ? separation / (m + 1) : 0;
        vector[d] = signal + slideOffsets.get(cell.slideId)! + gaussian(random);
      }
      return { cell, vector };
    });
    for (let i = 0; i < entries.length; i += 2000) cache.putMany(modelKey(model), patchParameters(model).key, entries.slice(i, i + 2000));
  });
  return { project, models, registry, annotatorIds: { ada, ben }, cellCount: cells.length };
}
