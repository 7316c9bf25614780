import { AppError } from '../errors/index.js';
import type { SqlRunner } from '../db/index.js';
import { fieldAccess, findField, fmt, hasUniqueIndex, ident, inList, sql, type Sql } from '../query/index.js';
import { isMultiple, type Field } from '../schema/index.js';
import { allOf, ruleSqlOrDeny, whereClause } from './access.js';
import { markManaged } from './manage.js';
import type { CollectionRuntime, RecordsRuntime } from './runtime.js';
import type { Presentable } from './serialize.js';
import type { RequestInfo } from './types.js';

export const MAX_EXPAND_DEPTH = 6;
/** Records a back-relation expands per parent record (PocketBase's limit), applied in SQL. */
export const BACK_RELATION_CAP = 1000;
/**
 * Expanded records one response may carry, counted as they appear in it (a record expanded under
 * three parents counts three times). A guest's `expand` of back-relations several levels deep grows
 * geometrically; past this the request is a 400 before the response (or its memory) grows.
 */
export const MAX_EXPANDED_RECORDS = 100_000;

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

/** One expansion: the caller's deps and how many records it may still load. */
interface ExpandRun extends ExpandDeps {
  remaining: number;
}

/**
 * Loads the expanded relations of `items` level by level: one query per path and level for all
 * records at once (never one per row), each related collection filtered by its viewRule with
 * `@request.context = "expand"`. Bounded twice: each query loads at most what the budget has
 * left, and the response's expanded records, counted as presented, stay under the cap.
 */
export async function expandRecords(deps: ExpandDeps, items: Presentable[], tree: ExpandTree): Promise<void> {
  await expandLevel({ ...deps, remaining: MAX_EXPANDED_RECORDS }, items, tree);
  const presented = presentedCount(items);
  if (presented > MAX_EXPANDED_RECORDS) throw tooMany();
}

function tooMany(): AppError {
  return new AppError('invalid_expand', `Invalid expand: the response would hold more than ${MAX_EXPANDED_RECORDS} expanded records; expand fewer levels, or ask for a smaller page.`);
}

async function expandLevel(run: ExpandRun, items: Presentable[], tree: ExpandTree): Promise<void> {
  if (items.length === 0) return;
  for (const item of items) item.expand ??= {};
  const rt = items[0]!.rt;
  // One path after another: each takes its share of the budget before the next one asks.
  for (const [key, subtree] of tree) await expandKey(run, rt, items, key, subtree);
}

async function expandKey(run: ExpandRun, rt: CollectionRuntime, items: Presentable[], key: string, subtree: ExpandTree): Promise<void> {
  const field = findField(rt.collection, key);
  if (field?.type === 'relation') return expandRelation(run, items, field, subtree);
  const back = /^(\w+)_via_(\w+)$/.exec(key);
  if (!field && back) return expandBackRelation(run, rt, items, key, back[1]!, back[2]!, subtree);
  // Unknown paths are skipped silently, as PocketBase does.
}

async function expandRelation(run: ExpandRun, items: Presentable[], field: Field, subtree: ExpandTree): Promise<void> {
  const target = run.runtime.byId.get(String(field['collectionId']));
  if (!target) return;
  const ids = new Set<string>();
  for (const { record } of items) for (const id of idsOf(record[field.name])) ids.add(id);
  if (ids.size === 0) return;
  const query = visibleQuery(run, target, inList('r."id"', [...ids], run.runner.dialect), null);
  const found = query && (await load(run, target, query));
  if (!found) return;
  const byId = new Map(found.map((p) => [p.record['id'] as string, p]));
  for (const item of items) {
    const related = idsOf(item.record[field.name]).flatMap((id) => byId.get(id) ?? []);
    if (isMultiple(field)) {
      if (related.length > 0) item.expand![field.name] = related;
    } else if (related[0]) {
      item.expand![field.name] = related[0];
    }
  }
  if (subtree.size > 0) await expandLevel(run, found, subtree);
}

const PARENT = '_galley_parent';
const ROW_NUMBER = '_galley_n';

/**
 * `source_via_field`: the records of `source` whose relation `field` holds each parent, at most
 * BACK_RELATION_CAP per parent (numbered per parent in SQL, so a parent with 70,000 children
 * costs 1,000 rows, not 70,000).
 */
async function expandBackRelation(run: ExpandRun, rt: CollectionRuntime, items: Presentable[], key: string, sourceName: string, fieldName: string, subtree: ExpandTree): Promise<void> {
  const source = run.runtime.find(sourceName);
  const field = source && findField(source.collection, fieldName);
  if (!source || !field || field.type !== 'relation' || field['collectionId'] !== rt.collection.id) return;
  const parentIds = items.map((i) => String(i.record['id']));
  const access = fieldAccess(source.collection, field);
  const dialect = run.runner.dialect;
  const parent = access.kind === 'junction' ? `j.${ident('target_id')}` : `r.${ident(field.name)}`;
  const from =
    access.kind === 'junction'
      ? fmt`${sql(source.table)} r JOIN ${sql(ident(access.table))} j ON j."owner_id" = r."id" AND ${inList('j."target_id"', parentIds, dialect)}`
      : fmt`${sql(source.table)} r`;
  const match = access.kind === 'junction' ? null : inList(parent, parentIds, dialect);
  const query = visibleQuery(run, source, match, { from, parent });
  const found = query && (await load(run, source, query));
  if (!found) return;
  const single = access.kind === 'column' && hasUniqueIndex(source.collection, field);
  const byParent = new Map<string, Presentable[]>();
  const distinct = new Map<string, Presentable>();
  for (const p of found) {
    const id = String(p.record['id']);
    const shared = distinct.get(id) ?? p;
    distinct.set(id, shared);
    const list = byParent.get(p.parent!) ?? [];
    list.push(shared);
    byParent.set(p.parent!, list);
  }
  for (const item of items) {
    const related = byParent.get(String(item.record['id']));
    if (related) item.expand![key] = single ? related[0]! : related;
  }
  if (subtree.size > 0) await expandLevel(run, [...distinct.values()], subtree);
}

/** A loaded record and, for a back-relation, the parent it was found for. */
type Found = Presentable & { parent?: string };

/**
 * The SELECT of the records matching `match` that the requester may view, or null when the
 * collection's viewRule is locked. With `back`, rows are numbered per parent and capped.
 */
function visibleQuery(run: ExpandRun, rt: CollectionRuntime, match: Sql | null, back: { from: Sql; parent: string } | null): Sql | null {
  const info: RequestInfo = { ...run.info, context: 'expand' };
  const rule = ruleSqlOrDeny(run.runtime, rt, 'viewRule', info);
  if (rule === false) return null;
  const where = whereClause(allOf([match, rule]));
  const limit = sql(' LIMIT ?', [run.remaining + 1]);
  if (!back) return fmt`SELECT ${sql(rt.selectList)} FROM ${sql(rt.table)} r${where}${limit}`;
  const numbered = fmt`SELECT ${sql(rt.selectList)}, ${sql(back.parent)} AS ${sql(PARENT)}, ROW_NUMBER() OVER (PARTITION BY ${sql(back.parent)} ORDER BY ${sql(creationOrder(rt))}) AS ${sql(ROW_NUMBER)} FROM ${back.from}${where}`;
  return fmt`SELECT * FROM (${numbered}) x WHERE x.${sql(ROW_NUMBER)} <= ${sql('?', [BACK_RELATION_CAP])} ORDER BY x.${sql(PARENT)}, x.${sql(ROW_NUMBER)}${limit}`;
}

/**
 * Back-related records in the order they were created, as PocketBase lists them (SQLite row
 * order): by the collection's `created`-style autodate when it has one, then by id.
 */
function creationOrder(rt: CollectionRuntime): string {
  const created = rt.collection.fields.find((f) => f.type === 'autodate' && f['onCreate'] && !f['onUpdate']);
  return created ? `r.${ident(created.name)}, r."id"` : 'r."id"';
}

async function load(run: ExpandRun, rt: CollectionRuntime, query: Sql): Promise<Found[]> {
  const rows = await run.runner.read(query.text, query.values);
  if (rows.length > run.remaining) throw tooMany();
  run.remaining -= rows.length;
  const found: Found[] = rows.map((row) => ({ rt, record: rt.decode(row), ...(row[PARENT] !== undefined ? { parent: String(row[PARENT]) } : {}) }));
  // Expanded auth records show their email to a manager, as top-level ones do.
  await markManaged({ runtime: run.runtime, runner: run.runner }, found, run.info);
  return found;
}

/** How many expanded records the response shows (shared records counted once per appearance). */
function presentedCount(items: Presentable[]): number {
  const memo = new Map<Presentable, number>();
  const size = (p: Presentable): number => {
    const known = memo.get(p);
    if (known !== undefined) return known;
    let n = 0;
    for (const value of Object.values(p.expand ?? {})) {
      for (const child of Array.isArray(value) ? value : [value]) n += 1 + size(child);
      if (n > MAX_EXPANDED_RECORDS) break;
    }
    memo.set(p, n);
    return n;
  };
  let total = 0;
  for (const item of items) {
    total += size(item);
    if (total > MAX_EXPANDED_RECORDS) break;
  }
  return total;
}

function idsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return value === null || value === undefined || value === '' ? [] : [String(value)];
}
