import { AppError } from '../errors/index.js';
import type { Collection } from '../schema/index.js';
import { compileScalar, type CompileContext } from './compile.js';
import { joinSql, sql, type Sql } from './sql.js';

export const MAX_SORT_FIELDS = 8;
const MAX_SORT_FIELD_LENGTH = 255;
const IDENTIFIER_RE = /^[\p{L}_@#][\p{L}\p{N}_.:@#]*$/u;

function invalidSort(message: string): AppError {
  return new AppError('invalid_sort', `Invalid sort: ${message}.`);
}

/**
 * `sort=-created,author.name,@random` as an ORDER BY list (without the keywords);
 * null when the value names no field. PocketBase has no default order.
 */
export function compileSort(ctx: CompileContext, collection: Collection, alias: string, param: string): Sql | null {
  const terms = param.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (terms.length > MAX_SORT_FIELDS) throw invalidSort(`at most ${MAX_SORT_FIELDS} fields`);
  const items: Sql[] = [];
  for (const term of terms) {
    if (term.length > MAX_SORT_FIELD_LENGTH) throw invalidSort(`a field name is longer than ${MAX_SORT_FIELD_LENGTH} characters`);
    const desc = term.startsWith('-');
    const name = term.replace(/^[-+]/, '');
    if (name === '@random') {
      items.push(sql(ctx.dialect.random()));
      continue;
    }
    if (name === '@rowid') {
      items.push(sql(ctx.dialect.name === 'sqlite' ? `${alias}.rowid ${desc ? 'DESC' : 'ASC'}` : `${alias}."id" ${desc ? 'DESC' : 'ASC'}`));
      continue;
    }
    if (!IDENTIFIER_RE.test(name) || /[.:]$/.test(name)) throw invalidSort(`"${name}" is not a field`);
    const value = compileScalar(ctx, collection, alias, name, desc);
    if (value.constant) throw invalidSort(`"${name}" is not a field`);
    items.push(...ctx.dialect.orderBy(value, desc));
  }
  return items.length > 0 ? joinSql(items, ', ') : null;
}
