import { randomInt } from 'node:crypto';
import { encodeValue, VERSION_COLUMN, type DialectName, type SqlRunner } from '../db/index.js';
import { ident, inList } from '../query/index.js';
import { parseIndex } from '../schema/index.js';
import type { CollectionRuntime } from './runtime.js';
import type { ApiRecord, FieldErrors } from './types.js';

/** A fresh record version: random, so an id deleted and created again never repeats an ETag. */
function initialVersion(): number {
  return randomInt(1, 2 ** 31);
}

/** Inserts the record; with `returning` (no junctions) the stored row comes back from the same statement. */
export async function insertRow(runner: SqlRunner, rt: CollectionRuntime, values: ApiRecord, returning = false): Promise<Record<string, unknown> | undefined> {
  const params = rt.columns.map((c) => encodeValue(c, values[c.name], runner.dialect));
  params.push(initialVersion());
  const texts = insertTexts(rt);
  if (returning) return (await runner.all(texts.returning, params))[0];
  await runner.run(texts.plain, params);
  for (const j of rt.junctions) await writeJunction(runner, j.table, String(values['id']), values[j.field.name]);
  return undefined;
}

/** A collection's INSERT statements, built on its first insert: its columns are fixed for the runtime's life. */
const inserts = new WeakMap<CollectionRuntime, { plain: string; returning: string }>();

function insertTexts(rt: CollectionRuntime): { plain: string; returning: string } {
  let texts = inserts.get(rt);
  if (!texts) {
    const names = [...rt.columns.map((c) => ident(c.name)), ident(VERSION_COLUMN)];
    const plain = `INSERT INTO ${rt.table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`;
    texts = { plain, returning: `${plain} RETURNING ${names.join(', ')}` };
    inserts.set(rt, texts);
  }
  return texts;
}

/** Updates the changed columns and bumps the version; `expectedVersion` makes it conditional (If-Match). */
export async function updateRow(runner: SqlRunner, rt: CollectionRuntime, id: string, values: ApiRecord, changed: Set<string>): Promise<void> {
  const columns = rt.columns.filter((c) => changed.has(c.name) && c.name !== 'id');
  const sets = columns.map((c) => `${ident(c.name)} = ?`);
  const params = columns.map((c) => encodeValue(c, values[c.name], runner.dialect));
  sets.push(`${ident(VERSION_COLUMN)} = ${ident(VERSION_COLUMN)} + 1`);
  await runner.run(`UPDATE ${rt.table} SET ${sets.join(', ')} WHERE "id" = ?`, [...params, id]);
  for (const j of rt.junctions) {
    if (!changed.has(j.field.name)) continue;
    await runner.run(`DELETE FROM ${ident(j.table)} WHERE "owner_id" = ?`, [id]);
    await writeJunction(runner, j.table, id, values[j.field.name]);
  }
}

/** Rows per INSERT of junction rows: 3 parameters each, far below both engines' parameter limits. */
const JUNCTION_CHUNK = 1000;

async function writeJunction(runner: SqlRunner, table: string, owner: string, value: unknown): Promise<void> {
  const ids = Array.isArray(value) ? value.map(String) : [];
  for (let start = 0; start < ids.length; start += JUNCTION_CHUNK) {
    const chunk = ids.slice(start, start + JUNCTION_CHUNK);
    const rows = chunk.map(() => '(?, ?, ?)').join(', ');
    await runner.run(`INSERT INTO ${ident(table)} ("owner_id", "target_id", "position") VALUES ${rows}`, chunk.flatMap((id, i) => [owner, id, start + i]));
  }
}

/** Relation ids that point at no record (`validation_missing_rel_records`), one query per relation field. */
export async function missingRelations(runner: SqlRunner, rt: CollectionRuntime, values: ApiRecord, changed: Set<string>, targetOf: (collectionId: string) => CollectionRuntime | undefined): Promise<FieldErrors> {
  const errors: FieldErrors = {};
  for (const field of rt.collection.fields) {
    if (field.type !== 'relation' || !changed.has(field.name)) continue;
    const value = values[field.name];
    const ids = [...new Set(Array.isArray(value) ? value.map(String) : value ? [String(value)] : [])];
    if (ids.length === 0) continue;
    const target = targetOf(String(field['collectionId']));
    const match = inList('"id"', ids, runner.dialect);
    const rows = target ? await runner.all(`SELECT "id" FROM ${target.table} WHERE ${match.text}`, match.values) : [];
    if (rows.length !== ids.length) errors[field.name] = { code: 'validation_missing_rel_records', message: 'Failed to find all relation records with the provided ids.' };
  }
  return errors;
}

/**
 * Database constraint errors translated at the boundary into PocketBase's field
 * errors: a UNIQUE violation becomes `validation_not_unique` on each indexed
 * column, a foreign key `validation_missing_rel_records`. Anything else is rethrown.
 */
export function constraintErrors(err: unknown, rt: CollectionRuntime, dialect: DialectName): FieldErrors | null {
  const e = err as { code?: string; message?: string; detail?: string; constraint?: string };
  const message = e.message ?? '';
  if (dialect === 'sqlite' ? /UNIQUE constraint failed/.test(message) : e.code === '23505') {
    const columns = dialect === 'sqlite' ? sqliteUniqueColumns(message) : pgUniqueColumns(e, rt);
    const errors: FieldErrors = {};
    for (const col of columns.length > 0 ? columns : ['id']) errors[col] = { code: 'validation_not_unique', message: 'Value must be unique.' };
    return errors;
  }
  if (dialect === 'sqlite' ? /FOREIGN KEY constraint failed/.test(message) : e.code === '23503' && !/galley_required_relation/.test(message)) {
    const named = /^Key \((.+?)\)=/.exec(e.detail ?? '')?.[1]?.replace(/^"|"$/g, '');
    const rel = rt.collection.fields.find((f) => f.type === 'relation' && (named === undefined || f.name === named));
    return { [rel?.name ?? named ?? 'id']: { code: 'validation_missing_rel_records', message: 'Failed to find all relation records with the provided ids.' } };
  }
  return null;
}

function sqliteUniqueColumns(message: string): string[] {
  const m = /UNIQUE constraint failed: (.+)$/.exec(message);
  return m ? m[1]!.split(',').map((s) => s.trim().split('.').pop()!) : [];
}

function pgUniqueColumns(e: { detail?: string; constraint?: string }, rt: CollectionRuntime): string[] {
  const m = /^Key \((.+?)\)=/.exec(e.detail ?? '');
  if (m) return m[1]!.split(',').map((s) => s.trim().replace(/^"|"$/g, '').replace(/^lower\((.*)\)$/i, '$1'));
  for (const source of rt.collection.indexes) {
    try {
      const def = parseIndex(source);
      if (def.name === e.constraint) return def.columns.map((c) => c.name);
    } catch {
      // not an index we can read; fall through
    }
  }
  return [];
}

/** A delete refused by a required relation (FK RESTRICT or Galley's junction trigger). */
export function isRequiredRelationError(err: unknown, dialect: DialectName): boolean {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? '';
  if (/galley_required_relation/.test(message)) return true;
  return dialect === 'sqlite' ? /FOREIGN KEY constraint failed/.test(message) : e.code === '23503';
}
