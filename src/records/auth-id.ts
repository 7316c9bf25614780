import type { SqlRunner } from '../db/index.js';
import type { CollectionRuntime, RecordsRuntime } from './runtime.js';
import type { FieldErrors } from './types.js';

/**
 * Per runtime (rebuilt on every schema load), per auth collection: one query that finds `id` in
 * any OTHER auth collection. Built once, not per request.
 */
const queries = new WeakMap<RecordsRuntime, Map<string, { text: string; tables: number } | null>>();

function otherAuthIdsQuery(runtime: RecordsRuntime, rt: CollectionRuntime): { text: string; tables: number } | null {
  let perCollection = queries.get(runtime);
  if (!perCollection) queries.set(runtime, (perCollection = new Map()));
  let query = perCollection.get(rt.collection.id);
  if (query === undefined) {
    const others = [...runtime.byId.values()].filter((o) => o.collection.type === 'auth' && o.collection.id !== rt.collection.id);
    const text = others.map((o) => `SELECT 1 AS "taken" FROM ${o.table} WHERE "id" = ?`).join(' UNION ALL ') + ' LIMIT 1';
    query = others.length === 0 ? null : { text, tables: others.length };
    perCollection.set(rt.collection.id, query);
  }
  return query;
}

/**
 * PocketBase keeps auth record ids unique across ALL auth collections (tokens and
 * `@request.auth.id` rules compare bare ids): a new auth record whose id another auth collection
 * already uses gets `validation_invalid_auth_id`. Like PocketBase's check it is loose (no lock across
 * tables); its own collection's primary key does the rest. Null when the id is free or `rt` is not auth.
 */
export async function authIdError(runner: SqlRunner, runtime: RecordsRuntime, rt: CollectionRuntime, id: string): Promise<FieldErrors | null> {
  if (rt.collection.type !== 'auth') return null;
  const query = otherAuthIdsQuery(runtime, rt);
  if (!query) return null;
  const rows = await runner.all(query.text, Array<string>(query.tables).fill(id));
  return rows.length > 0 ? { id: { code: 'validation_invalid_auth_id', message: 'Invalid or duplicated auth record id.' } } : null;
}
