import type { SqlRunner } from '../db/index.js';
import { fmt, joinSql, sql, type Sql } from '../query/index.js';
import { allOf, clientFilterSql, ruleSqlOrDeny } from '../records/access.js';
import { respond } from '../records/read.js';
import { virtualRow } from '../records/virtual-row.js';
import type { CollectionRuntime, RecordsRuntime } from '../records/runtime.js';
import type { ApiRecord, AuthIdentity, RequestInfo } from '../records/types.js';
import { eventJson, type SseClient } from './sse.js';
import type { Subscription } from './topics.js';

/** One subscription of one client that an event may go to, with the rule its topic needs. */
export interface Target {
  client: SseClient;
  sub: Subscription;
  kind: 'list' | 'view';
}

/** A message ready to write. */
export interface Delivery {
  client: SseClient;
  event: string;
  data: string;
}

export interface AccessDeps {
  runtime: RecordsRuntime;
  /** The pool after a commit; the write's transaction for a delete (checked before the row goes). */
  runner: SqlRunner;
}

/** Targets that share a requester (auth, options, rule, filter): one rule check answers for all of them. */
interface AccessGroup {
  info: RequestInfo;
  cond: Sql | null;
  targets: Target[];
  passed: boolean;
}

/** The most conditions evaluated by one query (one column each). */
const CONDITIONS_PER_QUERY = 400;

/**
 * Who among `targets` may receive the event about record `id`, and what each receives.
 *
 * Cost per event, whatever the number of subscribers: subscribers are grouped by requester
 * (auth record, topic options, rule, filter); groups whose rule and filter are empty (or who are
 * superusers without a filter) pass without a query; the others are answered together by one
 * query that loads the record and evaluates each group's condition as a column. The payload is
 * then built once per distinct shape (visibility, expand, fields), not once per subscriber.
 */
export async function deliveriesFor(deps: AccessDeps, rt: CollectionRuntime, id: string, action: string, targets: Target[], deleted?: ApiRecord): Promise<Delivery[]> {
  const groups = groupTargets(deps.runtime, rt, targets);
  if (groups.length === 0) return [];
  const loaded = await checkGroups(deps, rt, id, groups, deleted);
  if (!loaded) return [];
  const shapes = new Map<string, Promise<string | null>>();
  const out: Delivery[] = [];
  for (const group of groups) {
    if (!group.passed) continue;
    for (const t of group.targets) {
      const key = shapeKey(rt, group.info, t.sub);
      let data = shapes.get(key);
      if (!data) shapes.set(key, (data = payload(deps, rt, loaded, action, t.sub, group.info)));
      out.push({ client: t.client, event: t.sub.raw, data: (await data) ?? '' });
    }
  }
  return out.filter((d) => d.data !== '');
}

/** The requester a subscription's rule sees: the client's auth, the topic's options, context `realtime`. */
export function realtimeInfo(auth: AuthIdentity | null, sub: Subscription): RequestInfo {
  return { auth, superuser: auth?.collection.name === '_superusers', method: 'GET', context: 'realtime', query: { ...sub.query }, headers: { ...sub.headers }, body: {} };
}

export function authKey(auth: AuthIdentity | null): string {
  return auth ? `${auth.collection.id}/${String(auth.record['id'])}` : '';
}

function groupTargets(runtime: RecordsRuntime, rt: CollectionRuntime, targets: Target[]): AccessGroup[] {
  const groups = new Map<string, AccessGroup | null>();
  for (const t of targets) {
    const filter = t.sub.query['filter'] ?? '';
    const key = `${t.kind}\0${authKey(t.client.auth)}\0${t.sub.optionsKey}\0${filter}`;
    let group = groups.get(key);
    if (group === undefined) {
      const info = realtimeInfo(t.client.auth, t.sub);
      const cond = condition(runtime, rt, t.kind, info, filter);
      group = cond === false ? null : { info, cond, targets: [], passed: cond === null };
      groups.set(key, group);
    }
    group?.targets.push(t);
  }
  return [...groups.values()].filter((g): g is AccessGroup => g !== null);
}

/**
 * The rule of the topic (listRule for `/*`, viewRule for `/ID`; superusers bypass it) and the
 * subscription's `filter`, as one condition: null = passes, false = refused without a query (a
 * locked rule, or a filter that does not compile or is not allowed to this subscriber).
 */
function condition(runtime: RecordsRuntime, rt: CollectionRuntime, kind: 'list' | 'view', info: RequestInfo, filter: string): Sql | null | false {
  try {
    const rule = ruleSqlOrDeny(runtime, rt, kind === 'view' ? 'viewRule' : 'listRule', info);
    if (rule === false) return false;
    return allOf([rule, clientFilterSql(runtime, rt.collection, filter, info)]);
  } catch {
    return false;
  }
}

/**
 * Loads the record and evaluates the groups' conditions with it; null when the record is gone.
 * A record another node deleted is no longer stored: its conditions are evaluated on its values
 * as a one-row SELECT (related records as they are now).
 */
async function checkGroups(deps: AccessDeps, rt: CollectionRuntime, id: string, groups: AccessGroup[], deleted?: ApiRecord): Promise<ApiRecord | null> {
  const pending = groups.filter((g) => g.cond !== null);
  if (deleted) {
    for (let i = 0; i < pending.length; i += CONDITIONS_PER_QUERY) {
      const chunk = pending.slice(i, i + CONDITIONS_PER_QUERY);
      const columns = chunk.map((g, n) => fmt`CASE WHEN ${g.cond!} THEN 1 ELSE 0 END AS ${sql(`"_rt${n}"`)}`);
      const query = fmt`SELECT ${joinSql(columns, ', ')} FROM (${virtualRow(rt, deleted, deps.runner.dialect)}) r`;
      const row = (await deps.runner.all(query.text, query.values))[0] ?? {};
      chunk.forEach((g, n) => (g.passed = Number(row[`_rt${n}`]) === 1));
    }
    return deleted;
  }
  let record: ApiRecord | null = null;
  let first = true;
  for (let i = 0; first || i < pending.length; i += CONDITIONS_PER_QUERY) {
    const chunk = pending.slice(i, i + CONDITIONS_PER_QUERY);
    const columns = chunk.map((g, n) => fmt`CASE WHEN ${g.cond!} THEN 1 ELSE 0 END AS ${sql(`"_rt${n}"`)}`);
    const select = first ? joinSql([sql(rt.selectList), ...columns], ', ') : columns.length > 0 ? joinSql(columns, ', ') : sql('1 AS "x"');
    const query = fmt`SELECT ${select} FROM ${sql(rt.table)} r WHERE r."id" = ?`;
    const rows = await deps.runner.all(query.text, [...query.values, id]);
    if (rows.length === 0) return null;
    const row = rows[0]!;
    if (first) record = rt.decode(row);
    chunk.forEach((g, n) => (g.passed = Number(row[`_rt${n}`]) === 1));
    first = false;
  }
  return record;
}

/**
 * What decides the bytes a subscriber gets: superuser or not (hidden fields), and for an auth
 * collection or an expand also who asks (own or managed email, related viewRules), plus the
 * expand and fields options.
 */
function shapeKey(rt: CollectionRuntime, info: RequestInfo, sub: Subscription): string {
  const expand = sub.query['expand'] ?? '';
  const personal = rt.collection.type === 'auth' || expand !== '' ? `${authKey(info.auth)}\0${sub.optionsKey}` : '';
  return `${info.superuser ? 's' : 'n'}\0${personal}\0${expand}\0${sub.query['fields'] ?? ''}`;
}

/** The event's data for one shape; null when its expand or fields option is invalid (nothing is sent). */
async function payload(deps: AccessDeps, rt: CollectionRuntime, record: ApiRecord, action: string, sub: Subscription, info: RequestInfo): Promise<string | null> {
  const query: { expand?: string; fields?: string } = {};
  if (sub.query['expand']) query.expand = sub.query['expand'];
  if (sub.query['fields']) query.fields = sub.query['fields'];
  try {
    const shown = await respond(deps, { rt, record: { ...record } }, null, query, info);
    return eventJson({ action, record: shown.record });
  } catch {
    return null;
  }
}
