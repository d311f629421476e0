import type { Database, Statement } from 'better-sqlite3';
import { InvalidAnnotationInputError, UnknownReferenceError } from './errors';
import type { AnnotationClass } from './types';

export interface NewClass {
  name: string;
  colour: string;
  hotkey?: string | null;
}

export interface ClassUpdate {
  name?: string;
  colour?: string;
  hotkey?: string | null;
  sortOrder?: number;
}

interface ClassRow {
  id: number;
  name: string;
  colour: string;
  hotkey: string | null;
  sort_order: number;
  deleted_at: string | null;
}

const MAX_NAME_LENGTH = 200;

/** The label classes of a project. Deletion is soft: votes for a deleted class stay readable. */
export class ClassCatalog {
  private readonly byId: Statement;

  constructor(private readonly db: Database) {
    this.byId = db.prepare('SELECT * FROM classes WHERE id = ?');
  }

  list(options: { includeDeleted?: boolean } = {}): AnnotationClass[] {
    const where = options.includeDeleted ? '' : 'WHERE deleted_at IS NULL';
    const rows = this.db.prepare(`SELECT * FROM classes ${where} ORDER BY sort_order, id`).all() as ClassRow[];
    return rows.map(toClass);
  }

  get(classId: number): AnnotationClass | null {
    const row = this.byId.get(classId) as ClassRow | undefined;
    return row ? toClass(row) : null;
  }

  /** A class that can be voted for; throws naming `field` otherwise. */
  requireLive(classId: unknown, field = 'classId'): AnnotationClass {
    const found = Number.isInteger(classId) ? this.get(classId as number) : null;
    if (!found) throw new UnknownReferenceError(field, 'class', classId);
    if (found.deletedAt !== null) throw new UnknownReferenceError(field, 'class', classId, ` (class "${found.name}" was deleted)`);
    return found;
  }

  create(input: NewClass): AnnotationClass {
    return this.db.transaction(() => {
      const name = validName(input.name);
      const colour = validColour(input.colour);
      const hotkey = validHotkey(input.hotkey ?? null);
      this.assertNameFree(name, null);
      this.assertHotkeyFree(hotkey, null);
      const { next } = this.db.prepare('SELECT coalesce(max(sort_order), 0) + 1 AS next FROM classes').get() as { next: number };
      const result = this.db
        .prepare('INSERT INTO classes (name, colour, hotkey, sort_order) VALUES (?, ?, ?, ?)')
        .run(name, colour, hotkey, next);
      return this.get(Number(result.lastInsertRowid))!;
    }).immediate();
  }

  update(classId: number, changes: ClassUpdate): AnnotationClass {
    return this.db.transaction(() => {
      const current = this.requireLive(classId);
      const name = changes.name === undefined ? current.name : validName(changes.name);
      const colour = changes.colour === undefined ? current.colour : validColour(changes.colour);
      const hotkey = changes.hotkey === undefined ? current.hotkey : validHotkey(changes.hotkey);
      const sortOrder = changes.sortOrder === undefined ? current.sortOrder : validSortOrder(changes.sortOrder);
      this.assertNameFree(name, classId);
      this.assertHotkeyFree(hotkey, classId);
      this.db
        .prepare('UPDATE classes SET name = ?, colour = ?, hotkey = ?, sort_order = ? WHERE id = ?')
        .run(name, colour, hotkey, sortOrder, classId);
      return this.get(classId)!;
    }).immediate();
  }

  softDelete(classId: number): void {
    this.db.transaction(() => {
      this.requireLive(classId);
      this.db.prepare('UPDATE classes SET deleted_at = ? WHERE id = ?').run(new Date().toISOString(), classId);
    }).immediate();
  }

  private assertNameFree(name: string, exceptId: number | null): void {
    const other = this.db
      .prepare('SELECT id FROM classes WHERE name = ? AND deleted_at IS NULL AND id IS NOT ?')
      .get(name, exceptId) as { id: number } | undefined;
    if (other) throw new InvalidAnnotationInputError('name', `a class named "${name}" already exists (id ${other.id})`);
  }

  private assertHotkeyFree(hotkey: string | null, exceptId: number | null): void {
    if (hotkey === null) return;
    const other = this.db
      .prepare('SELECT name FROM classes WHERE hotkey = ? AND deleted_at IS NULL AND id IS NOT ?')
      .get(hotkey, exceptId) as { name: string } | undefined;
    if (other) throw new InvalidAnnotationInputError('hotkey', `key "${hotkey}" already picks class "${other.name}"`);
  }
}

function validName(name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0) throw new InvalidAnnotationInputError('name', 'must be a non-empty text');
  if (name.trim().length > MAX_NAME_LENGTH) throw new InvalidAnnotationInputError('name', `must be at most ${MAX_NAME_LENGTH} characters`);
  return name.trim();
}

function validColour(colour: unknown): string {
  if (typeof colour !== 'string' || !/^#[0-9a-fA-F]{6}$/.test(colour)) {
    throw new InvalidAnnotationInputError('colour', `must be '#rrggbb' (got ${JSON.stringify(colour)})`);
  }
  return colour.toLowerCase();
}

function validHotkey(hotkey: unknown): string | null {
  if (hotkey === null) return null;
  if (typeof hotkey !== 'string' || !/^[0-9a-zA-Z]$/.test(hotkey)) {
    throw new InvalidAnnotationInputError('hotkey', `must be one key, 0-9 or a-z, or null (got ${JSON.stringify(hotkey)})`);
  }
  return hotkey.toLowerCase();
}

function validSortOrder(sortOrder: unknown): number {
  if (!Number.isInteger(sortOrder)) throw new InvalidAnnotationInputError('sortOrder', `must be an integer (got ${String(sortOrder)})`);
  return sortOrder as number;
}

function toClass(row: ClassRow): AnnotationClass {
  return {
    id: row.id,
    name: row.name,
    colour: row.colour,
    hotkey: row.hotkey,
    sortOrder: row.sort_order,
    deletedAt: row.deleted_at,
  };
}
