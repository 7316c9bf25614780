import { AppError } from '../errors/index.js';
import type { SqlRunner } from '../db/index.js';
import { fieldAccess, findField, hasUniqueIndex, sql, fmt, type Sql } from '../query/index.js';
import { isMultiple, type Field } from '../schema/index.js';
import { allOf, ruleSqlOrDeny, whereClause } from './access.js';
import { markManaged } from './manage.js';
import type { CollectionRuntime, RecordsRuntime } from './runtime.js';
import type { Presentable } from './serialize.js';
import type { RequestInfo } from './types.js';

export const MAX_EXPAND_DEPTH = 6;
const BACK_RELATION_CAP = 1000;

type ExpandTree = Map<string, ExpandTree>;

/**
 * Parses `expand` (§1.1): spaces removed, dots trimmed, legacy `comments(post)`
 * rewritten to `comments_via_post`, duplicate and prefix paths merged into a tree.
 */
export function parseExpand(param: string): ExpandTree | null {
  const tree: ExpandTree = new Map();
  for (const raw of param.replace(/\s+/g, '').split(',')) {
    const path = raw.replace(/(\w+)\((\w+)\)/g, '$1_via_$2').replace(/^\.+|\.+$/g, '');
    if (path === '') continue;
    const segments = path.split('.');
    if (segments.length > MAX_EXPAND_DEPTH) throw new AppError('invalid_expand', `Invalid expand: "${path}" is deeper than ${MAX_EXPAND_DEPTH} relations.`);
    if (segments.some((s) => !/^\w+$/.test(s))) throw new AppError('invalid_expand', `Invalid expand: "${path}" is not a relation path.`);
    let node = tree;
    for (const seg of segments) {
      let child = node.get(seg);
      if (!child) node.set(seg, (child = new Map()));
      node = child;
    }
  }
  return tree.size > 0 ? tree : null;
}

export interface ExpandDeps {
  runtime: RecordsRuntime;
  runner: SqlRunner;
  info: RequestInfo;
}

/**
 * Loads the expanded relations of `items` level by level: one query per path and
 * level for all records at once (never one per row), each related collection
 * filtered by its viewRule with `@request.context = "expand"`.
 */
export async function expandRecords(deps: ExpandDeps, items: Presentable[], tree: ExpandTree): Promise<void> {
  if (items.length === 0) return;
  for (const item of items) item.expand ??= {};
  const rt = items[0]!.rt;
  await Promise.all([...tree].map(([key, subtree]) => expandKey(deps, rt, items, key, subtree)));
}

async function expandKey(deps: ExpandDeps, rt: CollectionRuntime, items: Presentable[], key: string, subtree: ExpandTree): Promise<void> {
  const field = findField(rt.collection, key);
  if (field?.type === 'relation') return expandRelation(deps, items, field, subtree);
  const back = /^(\w+)_via_(\w+)$/.exec(key);
  if (!field && back) return expandBackRelation(deps, rt, items, key, back[1]!, back[2]!, subtree);
  // Unknown paths are skipped silently, as PocketBase does.
}

async function expandRelation(deps: ExpandDeps, items: Presentable[], field: Field, subtree: ExpandTree): Promise<void> {
  const target = deps.runtime.byId.get(String(field['collectionId']));
  if (!target) return;
  const ids = new Set<string>();
  for (const { record } of items) for (const id of idsOf(record[field.name])) ids.add(id);
  const found = await loadVisible(deps, target, sql(`r."id" IN (${placeholders(ids.size)})`, [...ids]), ids.size);
  if (found === null) return;
  const byId = new Map(found.map((p) => [p.record['id'] as string, p]));
  for (const item of items) {
    const related = idsOf(item.record[field.name]).flatMap((id) => byId.get(id) ?? []);
    if (isMultiple(field)) {
      if (related.length > 0) item.expand![field.name] = related;
    } else if (related[0]) {
      item.expand![field.name] = related[0];
    }
  }
  if (subtree.size > 0) await expandRecords(deps, found, subtree);
}

async function expandBackRelation(deps: ExpandDeps, rt: CollectionRuntime, items: Presentable[], key: string, sourceName: string, fieldName: string, subtree: ExpandTree): Promise<void> {
  const source = deps.runtime.find(sourceName);
  const field = source && findField(source.collection, fieldName);
  if (!source || !field || field.type !== 'relation' || field['collectionId'] !== rt.collection.id) return;
  const parentIds = items.map((i) => String(i.record['id']));
  const access = fieldAccess(source.collection, field);
  const match: Sql =
    access.kind === 'junction'
      ? sql(`r."id" IN (SELECT "owner_id" FROM "${access.table}" WHERE "target_id" IN (${placeholders(parentIds.length)}))`, parentIds)
      : sql(`r."${field.name}" IN (${placeholders(parentIds.length)})`, parentIds);
  const found = await loadVisible(deps, source, match, null);
  if (found === null) return;
  const single = access.kind === 'column' && hasUniqueIndex(source.collection, field);
  for (const item of items) {
    const id = item.record['id'];
    const related = found.filter((p) => idsOf(p.record[field.name]).includes(String(id))).slice(0, BACK_RELATION_CAP);
    if (related.length === 0) continue;
    item.expand![key] = single ? related[0]! : related;
  }
  if (subtree.size > 0) await expandRecords(deps, found, subtree);
}

/** Records matching `match` that the requester may view; null when the collection's viewRule is locked. */
async function loadVisible(deps: ExpandDeps, rt: CollectionRuntime, match: Sql, expected: number | null): Promise<Presentable[] | null> {
  if (expected === 0) return [];
  const info: RequestInfo = { ...deps.info, context: 'expand' };
  const rule = ruleSqlOrDeny(deps.runtime, rt, 'viewRule', info);
  if (rule === false) return null;
  const query = fmt`SELECT ${sql(rt.selectList)} FROM ${sql(rt.table)} r${whereClause(allOf([match, rule]))}`;
  const rows = await deps.runner.all(query.text, query.values);
  const found: Presentable[] = rows.map((row) => ({ rt, record: rt.decode(row) }));
  // Expanded auth records show their email to a manager, as top-level ones do.
  await markManaged({ runtime: deps.runtime, runner: deps.runner }, found, deps.info);
  return found;
}

function idsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return value === null || value === undefined || value === '' ? [] : [String(value)];
}

function placeholders(n: number): string {
  return n === 0 ? 'NULL' : Array.from({ length: n }, () => '?').join(', ');
}
