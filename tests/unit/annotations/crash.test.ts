import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnnotationProject } from './annotationProject';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const writer = path.join(repoRoot, 'tests/fixtures/annotationCrashWriter.ts');
const RUN_AFTER_FIRST_LABEL_MS = 1500;

interface Killed {
  acknowledged: Map<number, number>;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts the writer, lets it label for a while after its first acknowledged label, then SIGKILLs it. */
function labelUntilKilled(projectFolder: string, slideId: number): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, projectFolder, String(slideId)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      timer ??= setTimeout(() => child.kill('SIGKILL'), RUN_AFTER_FIRST_LABEL_MS);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      clearTimeout(giveUp);
      // Only whole lines were acknowledged; a torn last line is not.
      const lines = stdout.split('\n').slice(0, -1);
      const acknowledged = new Map(
        lines.map((line) => {
          const [id, classId] = line.split(' ').map(Number);
          return [id!, classId!] as const;
        }),
      );
      resolve({ acknowledged, signal, stderr });
    });
  });
}

describe('a crash while labelling', () => {
  let fixture: AnnotationProject;
  beforeEach(() => {
    fixture = new AnnotationProject();
    fixture.project.close();
  });
  afterEach(() => fixture.dispose());

  it('loses no acknowledged label and leaves a sound database', async () => {
    const { acknowledged, signal, stderr } = await labelUntilKilled(fixture.projectFolder, fixture.slideId);
    expect(signal, stderr).toBe('SIGKILL');
    console.log(`crash test: ${acknowledged.size} labels acknowledged before SIGKILL`);
    expect(acknowledged.size).toBeGreaterThan(20);

    const store = fixture.reopen();
    const db = fixture.project.db;
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    const actor = store.ensureAnnotator('crash tester').id;
    const missing: string[] = [];
    for (const [id, classId] of acknowledged) {
      const annotation = store.get(id, { viewerId: actor });
      const vote = annotation?.votes.find((v) => v.annotatorId === actor)?.classId;
      if (!annotation || annotation.deletedAt !== null || vote !== classId) missing.push(`${id}: expected class ${classId}, found ${vote}`);
    }
    expect(missing).toEqual([]);
    // The index and the history agree with the table after recovery.
    const live = fixture.count('annotations');
    expect(fixture.count('annotation_bounds')).toBe(live);
    expect(fixture.count("change_items WHERE before_json IS NULL")).toBe(live);
    // The project keeps working: label once more and undo it.
    const again = store.createAnnotation(fixture.slideId, { shape: 'point', x: 1, y: 1 }, actor, 1).id;
    expect(store.undo(actor)!.annotationIds).toEqual([again]);
  });
});
