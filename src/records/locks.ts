import { ident } from '../query/index.js';
import type { RecordsDeps } from './read.js';

/**
 * Locks the rows of several records in one deterministic order — by table, then id — inside the
 * caller's transaction (PostgreSQL; SQLite's transaction holds the whole database already). Two
 * transactions that write the same records in opposite orders then wait for each other instead
 * of deadlocking. Unknown collections and ids are skipped: the writes themselves report them.
 */
export async function lockRows(deps: RecordsDeps, targets: { collection: string; id: string }[]): Promise<void> {
  if (deps.runner.dialect !== 'postgres' || targets.length === 0) return;
  const byTable = new Map<string, Set<string>>();
  for (const { collection, id } of targets) {
    const rt = deps.runtime.find(collection);
    if (!rt || rt.collection.type === 'view') continue;
    const ids = byTable.get(rt.collection.name) ?? new Set<string>();
    ids.add(id);
    byTable.set(rt.collection.name, ids);
  }
  for (const table of [...byTable.keys()].sort()) {
    const ids = [...byTable.get(table)!].sort();
    await deps.runner.all(`SELECT "id" FROM ${ident(table)} WHERE "id" IN (${ids.map(() => '?').join(', ')}) ORDER BY "id" FOR UPDATE`, ids);
  }
}
