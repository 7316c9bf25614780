import { randomInt } from 'node:crypto';
import type { SqlRunner } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { compileSort, fmt, sql, type Sql } from '../query/index.js';
import { formatDate } from '../schema/index.js';
import { hashPassword, verifyPassword } from '../passwords/index.js';
import { canManageRecord, canManageValues, markManaged } from './manage.js';
import { virtualRow } from './virtual-row.js';
import { authIdError } from './auth-id.js';
import { allOf, checkClientExpression, clientFilterSql, compileContext, ruleSql, whereClause } from './access.js';
import { expandRecords, parseExpand } from './expand.js';
import { compileFieldsPicker } from './fields-picker.js';
import { versionOf, type CollectionRuntime, type RecordsRuntime } from './runtime.js';
import { present, type Presentable } from './serialize.js';
import type { ApiRecord, FieldErrors, RequestInfo } from './types.js';
import { constraintErrors, insertRow, isRequiredRelationError, missingRelations, updateRow } from './write.js';

/** What the records operations need: the compiled collections and a SQL runner (the pool, or a transaction). */
export interface RecordsDeps {
  runtime: RecordsRuntime;
  runner: SqlRunner;
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

const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 1000;

export function findRuntime(runtime: RecordsRuntime, collection: string): CollectionRuntime {
  const rt = runtime.find(collection);
  if (!rt) throw new AppError('collection_not_found');
  return rt;
}

// ---- list / view ------------------------------------------------------------

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
    deps.runner.all(select.text, [...select.values, perPage, (page - 1) * perPage]),
    skipTotal ? Promise.resolve(null) : deps.runner.all(count.text, count.values),
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

async function loadOne(deps: RecordsDeps, rt: CollectionRuntime, id: string, rule: Sql | null, lock = false): Promise<{ presentable: Presentable; version: string | null } | null> {
  const forUpdate = lock && deps.runner.dialect === 'postgres' ? ' FOR UPDATE OF r' : '';
  const query = fmt`SELECT ${sql(rt.selectList)} FROM ${sql(rt.table)} r${whereClause(allOf([sql('r."id" = ?', [id]), rule]))}${sql(forUpdate)}`;
  const rows = await deps.runner.all(query.text, query.values);
  if (rows.length === 0) return null;
  return { presentable: { rt, record: rt.decode(rows[0]!) }, version: versionOf(rows[0]!) };
}

async function respond(deps: RecordsDeps, item: Presentable, version: string | null, query: RecordQuery, info: RequestInfo): Promise<RecordResult> {
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
    const order = compileSort(compileContext(deps.runtime, info, 'filter'), rt.collection, 'r', sort);
    return order ? fmt` ORDER BY ${order}` : sql('');
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

// ---- create / update / delete ------------------------------------------------

export interface WriteOptions {
  /** If-Match: the version the client last saw ('*' = any existing record). */
  ifMatch?: string | null;
}

function writable(rt: CollectionRuntime): void {
  if (rt.collection.type === 'view') throw new AppError('unsupported_collection_type');
}

export async function createRecord(deps: RecordsDeps, collection: string, data: Record<string, unknown>, query: RecordQuery, info: RequestInfo): Promise<RecordResult> {
  const rt = findRuntime(deps.runtime, collection);
  writable(rt);
  if (!info.superuser && (rt.rules.createRule === null || rt.rules.createRule === undefined)) throw new AppError('forbidden');
  const input = rt.resolveInput(data, { existing: null, superuser: info.superuser, canManage: false });
  if (!info.superuser && hasManagerOnlyKeys(rt, data) && (await canManageValues(deps, rt, input.values, { ...info, body: input.body }))) {
    // Resolved again as a manager: `verified` may be set (the rule saw the submitted values).
    Object.assign(input, rt.resolveInput(data, { existing: null, superuser: false, canManage: true }));
  }
  if (Object.keys(input.errors).length > 0) throw new AppError('create_failed', undefined, input.errors);
  const now = formatDate(new Date());
  setAutodates(rt, input.values, now, true);
  if (rt.collection.name === '_superusers') input.values['verified'] = true;
  const requestInfo: RequestInfo = { ...info, body: input.body };
  const errors = rt.validate(input.values, { isNew: true, changed: input.changed, newPassword: input.newPassword, existing: null });
  if (Object.keys(errors).length > 0) throw await createRefusal(deps, rt, input.values, requestInfo, errors);
  const authIdTaken = await authIdError(deps.runner, deps.runtime, rt, String(input.values['id']));
  if (authIdTaken) throw await createRefusal(deps, rt, input.values, requestInfo, authIdTaken);
  if (input.newPassword !== undefined) input.values['password'] = await hashPassword(input.newPassword);
  const id = String(input.values['id']);
  const rule = ruleSql(deps.runtime, rt, 'createRule', requestInfo);
  if (!rule && rt.junctions.length === 0) return createInOneStatement(deps, rt, input.values, input.changed, query, info);
  return deps.runner.transaction(async (tx) => {
    const txDeps = { ...deps, runner: tx };
    const missing = await missingRelations(tx, rt, input.values, input.changed, (cid) => deps.runtime.byId.get(cid));
    if (Object.keys(missing).length > 0) throw await createRefusal(txDeps, rt, input.values, requestInfo, missing);
    await guardConstraints(rt, tx, 'create_failed', async () => {
      await insertRow(tx, rt, input.values);
    });
    // The createRule is checked on the inserted row inside the transaction: relation paths and
    // @collection joins see it exactly as stored; a failing rule rolls the insert back.
    if (rule) {
      const check = fmt`SELECT 1 AS "ok" FROM ${sql(rt.table)} r WHERE r."id" = ? AND ${rule}`;
      const ok = await tx.all(check.text, [id, ...check.values]);
      if (ok.length === 0) throw new AppError('create_failed');
    }
    const stored = await loadOne(txDeps, rt, id, null);
    return respond(txDeps, stored!.presentable, stored!.version, query, info);
  });
}

export async function updateRecord(deps: RecordsDeps, collection: string, id: string, data: Record<string, unknown>, query: RecordQuery, info: RequestInfo, options: WriteOptions = {}): Promise<RecordResult> {
  const rt = findRuntime(deps.runtime, collection);
  writable(rt);
  if (!info.superuser && (rt.rules.updateRule === null || rt.rules.updateRule === undefined)) throw new AppError('forbidden');
  return deps.runner.transaction(async (tx) => {
    const txDeps = { ...deps, runner: tx };
    const existing = await loadOne(txDeps, rt, id, null, true);
    if (!existing) throw new AppError('not_found');
    const canManage = !info.superuser && rt.collection.type === 'auth' && (await canManageRecord(txDeps, rt, id, info));
    const input = rt.resolveInput(data, { existing: existing.presentable.record, superuser: info.superuser, canManage });
    const requestInfo: RequestInfo = { ...info, body: input.body };
    const rule = ruleSql(deps.runtime, rt, 'updateRule', requestInfo);
    if (rule) {
      const check = fmt`SELECT 1 AS "ok" FROM ${sql(rt.table)} r WHERE r."id" = ? AND ${rule}`;
      if ((await tx.all(check.text, [id, ...check.values])).length === 0) throw new AppError('not_found');
    }
    checkIfMatch(options.ifMatch, existing.version);
    if (Object.keys(input.errors).length > 0) throw new AppError('update_failed', undefined, input.errors);
    if (input.oldPassword !== undefined && !(await verifyPassword(input.oldPassword, String(existing.presentable.record['password'] ?? ''))).ok) {
      throw new AppError('update_failed', undefined, { oldPassword: { code: 'validation_invalid_old_password', message: 'Missing or invalid old password.' } });
    }
    setAutodates(rt, input.values, formatDate(new Date()), false);
    for (const f of rt.collection.fields) if (f.type === 'autodate' && f['onUpdate']) input.changed.add(f.name);
    const errors = rt.validate(input.values, { isNew: false, changed: input.changed, newPassword: input.newPassword, existing: existing.presentable.record });
    if (Object.keys(errors).length > 0) throw new AppError('update_failed', undefined, errors);
    if (input.newPassword !== undefined) {
      input.values['password'] = await hashPassword(input.newPassword);
      input.changed.add('password');
    }
    rotateTokenKey(rt, input.values, input.changed, existing.presentable.record);
    const missing = await missingRelations(tx, rt, input.values, input.changed, (cid) => deps.runtime.byId.get(cid));
    if (Object.keys(missing).length > 0) throw new AppError('update_failed', undefined, missing);
    await guardConstraints(rt, tx, 'update_failed', () => updateRow(tx, rt, id, input.values, input.changed));
    const stored = await loadOne(txDeps, rt, id, null);
    return respond(txDeps, stored!.presentable, stored!.version, query, info);
  });
}

export async function deleteRecord(deps: RecordsDeps, collection: string, id: string, info: RequestInfo, options: WriteOptions = {}): Promise<void> {
  const rt = findRuntime(deps.runtime, collection);
  writable(rt);
  const rule = ruleSql(deps.runtime, rt, 'deleteRule', info);
  await deps.runner.transaction(async (tx) => {
    const existing = await loadOne({ ...deps, runner: tx }, rt, id, rule, true);
    if (!existing) throw new AppError('not_found');
    checkIfMatch(options.ifMatch, existing.version);
    try {
      await tx.run(`DELETE FROM ${rt.table} WHERE "id" = ?`, [id]);
    } catch (err) {
      if (isRequiredRelationError(err, tx.dialect)) throw new AppError('delete_failed', undefined, {}, { cause: err });
      throw err;
    }
  });
}

/**
 * The common create (no rule to check on the stored row, no junction rows): one
 * `INSERT ... RETURNING`, no transaction. On PostgreSQL a missing relation id is
 * the foreign key's error (mapped to the field); SQLite's does not name the
 * column, so it checks first (a local, synchronous read).
 */
async function createInOneStatement(deps: RecordsDeps, rt: CollectionRuntime, values: ApiRecord, changed: Set<string>, query: RecordQuery, info: RequestInfo): Promise<RecordResult> {
  if (deps.runner.dialect === 'sqlite') {
    const missing = await missingRelations(deps.runner, rt, values, changed, (cid) => deps.runtime.byId.get(cid));
    if (Object.keys(missing).length > 0) throw new AppError('create_failed', undefined, missing);
  }
  let row: Record<string, unknown> | undefined;
  await guardConstraints(rt, deps.runner, 'create_failed', async () => {
    row = await insertRow(deps.runner, rt, values, true);
  });
  return respond(deps, { rt, record: rt.decode(row!) }, versionOf(row!), query, info);
}

/**
 * A create that cannot be saved: PocketBase checks the createRule first, so a
 * requester the rule refuses learns nothing from field errors. The rule is
 * evaluated on a virtual row of the submitted values (multiple relations are not
 * visible to it there; the real check runs on the inserted row).
 */
async function createRefusal(deps: RecordsDeps, rt: CollectionRuntime, values: ApiRecord, info: RequestInfo, errors: FieldErrors): Promise<AppError> {
  const rule = ruleSql(deps.runtime, rt, 'createRule', info);
  if (rule) {
    const row = virtualRow(rt, values, deps.runner.dialect);
    const check = fmt`SELECT 1 AS "ok" FROM (${row}) r WHERE ${rule}`;
    if ((await deps.runner.all(check.text, check.values)).length === 0) return new AppError('create_failed');
  }
  return new AppError('create_failed', undefined, errors);
}

/** If-Match: `*` or one of the listed ETags must match the stored version, else 412. */
function checkIfMatch(ifMatch: string | null | undefined, version: string | null): void {
  if (ifMatch === undefined || ifMatch === null) return;
  if (ifMatch.trim() === '*') return;
  if (version === null || !etagListHas(ifMatch, etagOf(version))) throw new AppError('precondition_failed');
}

/** Whether an If-Match / If-None-Match list names `etag` (weak `W/` prefixes compare equal). */
export function etagListHas(header: string, etag: string): boolean {
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** The strong ETag of a record version. */
export function etagOf(version: string): string {
  return `"${Number(version).toString(36)}"`;
}

/**
 * Writes fields an auth flow decided (verified, a password hash, email, tokenKey): no rule or
 * form validation applies, but `updated`-style autodates move and the ETag version changes.
 * A unique-index clash (an email taken meanwhile) is a field error, not a 500.
 */
export async function writeAuthFields(runner: SqlRunner, rt: CollectionRuntime, id: string, changes: ApiRecord): Promise<void> {
  const values = { ...changes };
  const changed = new Set(Object.keys(changes));
  setAutodates(rt, values, formatDate(new Date()), false);
  for (const f of rt.collection.fields) if (f.type === 'autodate' && f['onUpdate']) changed.add(f.name);
  await guardConstraints(rt, runner, 'update_failed', () => updateRow(runner, rt, id, values, changed));
}

/**
 * A new password or email invalidates every token of the record (§7.2): its tokenKey, part of
 * each token's signing key, is regenerated unless the same write sets one itself.
 */
export function rotateTokenKey(rt: CollectionRuntime, values: ApiRecord, changed: Set<string>, existing: ApiRecord): void {
  if (rt.collection.type !== 'auth' || changed.has('tokenKey')) return;
  const emailChanged = changed.has('email') && String(values['email'] ?? '') !== String(existing['email'] ?? '');
  if (!changed.has('password') && !emailChanged) return;
  values['tokenKey'] = newTokenKey();
  changed.add('tokenKey');
}

/** PocketBase's tokenKey pattern: 50 characters of [a-zA-Z0-9]. */
export function newTokenKey(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let key = '';
  for (let i = 0; i < 50; i++) key += alphabet[randomInt(alphabet.length)];
  return key;
}

/** Keys only a manager may send on create (email/password are anyone's on create). */
function hasManagerOnlyKeys(rt: CollectionRuntime, data: Record<string, unknown>): boolean {
  return rt.collection.type === 'auth' && Object.hasOwn(data, 'verified');
}

function setAutodates(rt: CollectionRuntime, values: ApiRecord, now: string, isNew: boolean): void {
  for (const f of rt.collection.fields) {
    if (f.type !== 'autodate') continue;
    if ((isNew && f['onCreate']) || f['onUpdate']) values[f.name] = now;
  }
}

async function guardConstraints(rt: CollectionRuntime, tx: SqlRunner, code: 'create_failed' | 'update_failed', write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    const errors: FieldErrors | null = constraintErrors(err, rt, tx.dialect);
    if (errors) throw new AppError(code, undefined, errors, { cause: err });
    throw err;
  }
}

