import type { Database } from 'better-sqlite3';
import { InvalidAnnotationInputError, UnknownReferenceError } from './errors';
import type { Annotator, AnnotatorKind } from './types';

interface AnnotatorRow {
  id: number;
  name: string;
  kind: AnnotatorKind;
  created_at: string;
}

const MAX_NAME_LENGTH = 200;

/** People and models who vote. A name is an identity: the same name is the same annotator. */
export class AnnotatorRegistry {
  private readonly byId = new Map<number, Annotator>();

  constructor(private readonly db: Database) {}

  /** The annotator of that name, created if new. A name already used by the other kind is refused. */
  ensure(name: string, kind: AnnotatorKind = 'person'): Annotator {
    if (typeof name !== 'string' || name.trim().length === 0) throw new InvalidAnnotationInputError('name', 'must be a non-empty text');
    if (name.trim().length > MAX_NAME_LENGTH) throw new InvalidAnnotationInputError('name', `must be at most ${MAX_NAME_LENGTH} characters`);
    if (kind !== 'person' && kind !== 'model') throw new InvalidAnnotationInputError('kind', `must be 'person' or 'model' (got ${JSON.stringify(kind)})`);
    const trimmed = name.trim();
    return this.db.transaction(() => {
      const existing = this.findByName(trimmed);
      if (existing) {
        if (existing.kind !== kind) {
          throw new InvalidAnnotationInputError('kind', `"${trimmed}" is already an annotator of kind '${existing.kind}'`);
        }
        return existing;
      }
      const result = this.db
        .prepare('INSERT INTO annotators (name, kind, created_at) VALUES (?, ?, ?)')
        .run(trimmed, kind, new Date().toISOString());
      return this.get(Number(result.lastInsertRowid))!;
    }).immediate();
  }

  list(): Annotator[] {
    return (this.db.prepare('SELECT * FROM annotators ORDER BY id').all() as AnnotatorRow[]).map(toAnnotator);
  }

  get(annotatorId: number): Annotator | null {
    const cached = this.byId.get(annotatorId);
    if (cached) return cached;
    const row = this.db.prepare('SELECT * FROM annotators WHERE id = ?').get(annotatorId) as AnnotatorRow | undefined;
    if (!row) return null;
    // Annotators are never changed or deleted, so a found one can be remembered.
    const annotator = toAnnotator(row);
    this.byId.set(annotator.id, annotator);
    return annotator;
  }

  require(annotatorId: unknown, field = 'actorId'): Annotator {
    const found = Number.isInteger(annotatorId) ? this.get(annotatorId as number) : null;
    if (!found) throw new UnknownReferenceError(field, 'annotator', annotatorId);
    return found;
  }

  private findByName(name: string): Annotator | null {
    const row = this.db.prepare('SELECT * FROM annotators WHERE name = ?').get(name) as AnnotatorRow | undefined;
    return row ? toAnnotator(row) : null;
  }
}

function toAnnotator(row: AnnotatorRow): Annotator {
  return { id: row.id, name: row.name, kind: row.kind, createdAt: row.created_at };
}
