import { AppError } from '../errors/index.js';
import { FilterSyntaxError, parseFilter, type ExprItem } from '../filter/index.js';
import { compileCondition, fmt, sql, type Sql } from '../query/index.js';
import type { Collection, RuleKey } from '../schema/index.js';
import type { CollectionRuntime, RecordsRuntime } from './runtime.js';
import type { RequestInfo } from './types.js';
import { compiledOnce } from './compile-cache.js';

export { compileContext, compiledOnce } from './compile-cache.js';

/**
 * A rule as a condition on alias `r`: `null` when everyone passes (superuser or
 * empty rule). A locked rule (null) for a non-superuser is a 403 before any lookup.
 */
export function ruleSql(runtime: RecordsRuntime, rt: CollectionRuntime, key: RuleKey, info: RequestInfo, alias = 'r'): Sql | null {
  if (info.superuser) return null;
  const rule = rt.rules[key];
  if (rule === null || rule === undefined) throw new AppError('forbidden');
  if (rule.length === 0) return null;
  return compiledRule(runtime, rt, key, info, alias, rule);
}

/** Like ruleSql, but a locked rule means "no access" instead of an error (expand, nested checks). */
export function ruleSqlOrDeny(runtime: RecordsRuntime, rt: CollectionRuntime, key: RuleKey, info: RequestInfo, alias = 'r'): Sql | null | false {
  if (info.superuser) return null;
  const rule = rt.rules[key];
  if (rule === null || rule === undefined) return false;
  if (rule.length === 0) return null;
  return compiledRule(runtime, rt, key, info, alias, rule);
}

function compiledRule(runtime: RecordsRuntime, rt: CollectionRuntime, key: RuleKey, info: RequestInfo, alias: string, rule: ExprItem[]): Sql {
  const text = String(rt.collection[key] ?? '');
  return compiledOnce(runtime, `rule\0${rt.collection.id}\0${key}\0${alias}`, text, info, 'rule', (ctx) => compileCondition(ctx, rt.collection, alias, rule));
}

export const MAX_FILTER_LENGTH = 3500;

/** PocketBase refuses these substrings in a non-superuser's filter or sort, even inside quotes. */
export function checkClientExpression(value: string, info: RequestInfo): void {
  if (info.superuser) return;
  for (const marker of ['@collection.', '@request.']) {
    if (value.includes(marker)) throw new AppError('filter_forbidden', `Only superusers can filter by ${marker}`);
  }
}

/** A client's `filter` parameter as a condition on alias `r` (hidden fields and traversals restricted). */
export function clientFilterSql(runtime: RecordsRuntime, collection: Collection, filter: string, info: RequestInfo): Sql | null {
  if (filter.trim() === '') return null;
  if (filter.length > MAX_FILTER_LENGTH) throw new AppError('invalid_filter', `Invalid filter: longer than ${MAX_FILTER_LENGTH} characters.`);
  checkClientExpression(filter, info);
  return compiledOnce(runtime, `filter\0${collection.id}`, filter, info, 'filter', (ctx) => compileCondition(ctx, collection, 'r', parseClientFilter(runtime.clientFilters, filter)));
}

const FILTER_CACHE_SIZE = 500;

/** Parses a client filter through the runtime's cache; syntax errors are 400s. */
function parseClientFilter(filterCache: Map<string, ExprItem[]>, filter: string): ExprItem[] {
  const cached = filterCache.get(filter);
  if (cached) return cached;
  let parsed: ExprItem[];
  try {
    parsed = parseFilter(filter);
  } catch (err) {
    if (err instanceof FilterSyntaxError) throw new AppError('invalid_filter', `Invalid filter: ${err.message}.`);
    throw err;
  }
  if (filterCache.size >= FILTER_CACHE_SIZE) filterCache.delete(filterCache.keys().next().value!);
  filterCache.set(filter, parsed);
  return parsed;
}

/** `a AND b AND ...` of the present conditions, or null. */
export function allOf(conds: (Sql | null)[]): Sql | null {
  const present = conds.filter((c): c is Sql => c !== null);
  if (present.length === 0) return null;
  return present.reduce((acc, c) => fmt`${acc} AND ${c}`);
}

export function whereClause(cond: Sql | null): Sql {
  return cond ? fmt` WHERE ${cond}` : sql('');
}
