import { fmt, inList, sql } from '../query/index.js';
import { compileCondition } from '../query/index.js';
import { compileContext } from './access.js';
import { virtualRow } from './virtual-row.js';
import type { CollectionRuntime } from './runtime.js';
import type { Presentable } from './serialize.js';
import type { RecordsDeps } from './service.js';
import type { ApiRecord, RequestInfo } from './types.js';

/**
 * An auth collection's manageRule (§5): a requester it admits may change another record's
 * `email`, `verified` and `password` (without `oldPassword`) and always sees its email.
 * Superusers always manage; a locked (null) or empty rule admits nobody else.
 */
function manageCondition(deps: RecordsDeps, rt: CollectionRuntime, info: RequestInfo) {
  if (rt.collection.type !== 'auth') return null;
  const rule = rt.rules.manageRule;
  if (!rule || rule.length === 0) return null;
  return compileCondition(compileContext(deps.runtime, info), rt.collection, 'r', rule);
}

/** Whether the requester manages the stored record `id`. */
export async function canManageRecord(deps: RecordsDeps, rt: CollectionRuntime, id: string, info: RequestInfo): Promise<boolean> {
  if (info.superuser) return true;
  const cond = manageCondition(deps, rt, info);
  if (!cond) return false;
  const check = fmt`SELECT 1 AS "ok" FROM ${sql(rt.table)} r WHERE r."id" = ? AND ${cond}`;
  return (await deps.runner.all(check.text, [id, ...check.values])).length > 0;
}

/** Whether the requester manages a record about to be created (the rule sees the submitted values). */
export async function canManageValues(deps: RecordsDeps, rt: CollectionRuntime, values: ApiRecord, info: RequestInfo): Promise<boolean> {
  if (info.superuser) return true;
  const cond = manageCondition(deps, rt, info);
  if (!cond) return false;
  const check = fmt`SELECT 1 AS "ok" FROM (${virtualRow(rt, values, deps.runner.dialect)}) r WHERE ${cond}`;
  return (await deps.runner.all(check.text, check.values)).length > 0;
}

/** Flags the records of a response that the requester manages, so their email is shown (one query). */
export async function markManaged(deps: RecordsDeps, items: Presentable[], info: RequestInfo): Promise<void> {
  if (info.superuser || info.auth === null || items.length === 0) return;
  const rt = items[0]!.rt;
  const cond = manageCondition(deps, rt, info);
  if (!cond) return;
  const ids = items.map((i) => String(i.record['id']));
  const query = fmt`SELECT r."id" AS "id" FROM ${sql(rt.table)} r WHERE ${inList('r."id"', ids, deps.runner.dialect)} AND ${cond}`;
  const managed = new Set((await deps.runner.read(query.text, query.values)).map((row) => String(row['id'])));
  for (const item of items) if (managed.has(String(item.record['id']))) item.manageable = true;
}
