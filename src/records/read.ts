import type { SqlRunner } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { compileSort, fmt, sql, type Sql } from '../query/index.js';
import { allOf, checkClientExpression, clientFilterSql, compiledOnce, ruleSql, whereClause } from './access.js';
import { expandRecords, parseExpand } from './expand.js';
import { compileFieldsPicker } from './fields-picker.js';
import { markManaged } from './manage.js';
import { versionOf, type CollectionRuntime, type RecordsRuntime } from './runtime.js';
import { present, type Presentable } from './serialize.js';
import type { WriteSession } from './session.js';
import type { ApiRecord, RequestInfo } from './types.js';

/**
 * What the records operations need: the compiled collections and a SQL runner (the pool, or the
 * transaction of `session` when the call joins a unit of work: a batch, a hook, a cascade).
 */
export interface RecordsDeps {
  runtime: RecordsRuntime;
  runner: SqlRunner;
  session?: WriteSession;
}

/** Query parameters common to the record endpoints (raw strings, validated here). */
export interface RecordQuery {
  page?: string;
  perPage?: string;
  sort?: string;
  filter?: string;
  skipTotal?: string;
  expand?: string;
  fields?: string;
}

export interface ListResult {
  items: ApiRecord[];
  page: number;
  perPage: number;
  totalItems: number;
  totalPages: number;
}

export interface RecordResult {
  record: ApiRecord;
  /** The record's version for the ETag header (null for view collections). */
  version: string | null;
}

/** A stored record as loaded for a response or a write. */
export interface LoadedRecord {
  presentable: Presentable;
  version: string | null;
}

const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 1000;

export function findRuntime(runtime: RecordsRuntime, collection: string): CollectionRuntime {
  const rt = runtime.find(collection);
  if (!rt) throw new AppError('collection_not_found');
  return rt;
}

export async function listRecords(deps: RecordsDeps, collection: string, query: RecordQuery, info: RequestInfo): Promise<ListResult> {
  const rt = findRuntime(deps.runtime, collection);
  const rule = ruleSql(deps.runtime, rt, 'listRule', info);
  const page = Math.max(1, intParam(query.page, 'page') ?? 1);
  const requested = intParam(query.perPage, 'perPage') ?? DEFAULT_PER_PAGE;
  const perPage = requested <= 0 ? DEFAULT_PER_PAGE : Math.min(requested, MAX_PER_PAGE);
  const skipTotal = boolParam(query.skipTotal, 'skipTotal') ?? false;
  const expand = query.expand ? parseExpand(query.expand) : null;
  const picker = query.fields ? compileFieldsPicker(query.fields) : null;
  const where = whereClause(allOf([rule, clientFilterSql(deps.runtime, rt.collection, query.filter ?? '', info)]));
  const order = sortClause(deps, rt, query.sort ?? '', info);
  const select = fmt`SELECT ${sql(rt.selectList)} FROM ${sql(rt.table)} r${where}${order} LIMIT ? OFFSET ?`;
  const count = fmt`SELECT COUNT(*) AS "n" FROM ${sql(rt.table)} r${where}`;
  const [rows, total] = await Promise.all([
    deps.runner.read(select.text, [...select.values, perPage, (page - 1) * perPage]),
    skipTotal ? Promise.resolve(null) : deps.runner.read(count.text, count.values),
  ]);
  const items: Presentable[] = rows.map((row) => ({ rt, record: rt.decode(row) }));
  await markManaged(deps, items, info);
  if (expand) await expandRecords({ ...deps, info }, items, expand);
  const totalItems = total === null ? -1 : Number(total[0]!['n']);
  return {
    items: items.map((item) => pick(picker, present(item, info))),
    page,
    perPage,
    totalItems,
    totalPages: total === null ? -1 : Math.ceil(totalItems / perPage),
  };
}

export async function viewRecord(deps: RecordsDeps, collection: string, id: string, query: RecordQuery, info: RequestInfo): Promise<RecordResult> {
  const rt = findRuntime(deps.runtime, collection);
  const rule = ruleSql(deps.runtime, rt, 'viewRule', info);
  const item = await loadOne(deps, rt, id, rule);
  if (!item) throw new AppError('not_found');
  return respond(deps, item.presentable, item.version, query, info);
}

/** One stored record matching `rule` (a condition on alias `r`), or null. */
export async function loadOne(deps: RecordsDeps, rt: CollectionRuntime, id: string, rule: Sql | null): Promise<LoadedRecord | null> {
  const query = fmt`SELECT ${sql(rt.selectList)} FROM ${sql(rt.table)} r${whereClause(allOf([sql('r."id" = ?', [id]), rule]))}`;
  const rows = await deps.runner.all(query.text, query.values);
  if (rows.length === 0) return null;
  return { presentable: { rt, record: rt.decode(rows[0]!) }, version: versionOf(rows[0]!) };
}

/**
 * The record a write is about to change, read while holding its row lock (inside the write's
 * transaction). On PostgreSQL the lock is taken first and the record read by a second statement:
 * a `SELECT … FOR UPDATE` that waited re-reads the locked row but not its subqueries (the ids of
 * a multiple relation), which would keep the snapshot from before the wait and lose concurrent
 * appends. On SQLite the transaction already holds the database's write lock.
 */
export async function loadForWrite(deps: RecordsDeps, rt: CollectionRuntime, id: string, rule: Sql | null): Promise<LoadedRecord | null> {
  if (deps.runner.dialect === 'postgres') {
    const locked = await deps.runner.all(`SELECT 1 AS "x" FROM ${rt.table} WHERE "id" = ? FOR UPDATE`, [id]);
    if (locked.length === 0) return null;
  }
  return loadOne(deps, rt, id, rule);
}

/** The response body of one record: email visibility, `expand` and the `fields` picker as `info` may see them. */
export async function respond(deps: RecordsDeps, item: Presentable, version: string | null, query: RecordQuery, info: RequestInfo): Promise<RecordResult> {
  const picker = query.fields ? compileFieldsPicker(query.fields) : null;
  const expand = query.expand ? parseExpand(query.expand) : null;
  await markManaged(deps, [item], info);
  if (expand) await expandRecords({ ...deps, info }, [item], expand);
  return { record: pick(picker, present(item, info)), version };
}

/**
 * The record of an auth response (§7.1): no rule applies (the caller authenticated it), its
 * email is always shown, hidden fields stay hidden, `expand` is resolved as `info` may see it.
 */
export async function authRecordOf(deps: RecordsDeps, rt: CollectionRuntime, id: string, expandParam: string | undefined, info: RequestInfo): Promise<ApiRecord> {
  const item = await loadOne(deps, rt, id, null);
  if (!item) throw new AppError('not_found');
  const expand = expandParam ? parseExpand(expandParam) : null;
  if (expand) await expandRecords({ ...deps, info }, [item.presentable], expand);
  return present(item.presentable, info, true);
}

function pick(picker: ReturnType<typeof compileFieldsPicker>, record: ApiRecord): ApiRecord {
  return picker ? picker.pick(record) : record;
}

function sortClause(deps: RecordsDeps, rt: CollectionRuntime, sort: string, info: RequestInfo): Sql {
  if (sort.trim() === '') return sql('');
  checkClientExpression(sort, info);
  try {
    return compiledOnce(deps.runtime, `sort\0${rt.collection.id}`, sort, info, 'filter', (ctx) => {
      const order = compileSort(ctx, rt.collection, 'r', sort);
      return order ? fmt` ORDER BY ${order}` : sql('');
    });
  } catch (err) {
    if (err instanceof AppError && err.code === 'invalid_filter') throw new AppError('invalid_sort', err.message.replace(/^Invalid filter/, 'Invalid sort'));
    throw err;
  }
}

function intParam(value: string | undefined, name: string): number | null {
  if (value === undefined || value === '') return null;
  if (!/^[+-]?\d{1,15}$/.test(value.trim())) throw new AppError('invalid_query', `Invalid query parameter: "${name}" must be an integer.`);
  return Number(value);
}

const TRUE_VALUES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_VALUES = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function boolParam(value: string | undefined, name: string): boolean | null {
  if (value === undefined || value === '') return null;
  if (TRUE_VALUES.has(value)) return true;
  if (FALSE_VALUES.has(value)) return false;
  throw new AppError('invalid_query', `Invalid query parameter: "${name}" must be a boolean.`);
}

/** Whether an If-Match / If-None-Match list names `etag` (weak `W/` prefixes compare equal). */
export function etagListHas(header: string, etag: string): boolean {
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** The strong ETag of a record version. */
export function etagOf(version: string): string {
  return `"${Number(version).toString(36)}"`;
}
