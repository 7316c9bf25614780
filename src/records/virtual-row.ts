import { dialectFor, encodeValue } from '../db/index.js';
import { fmt, joinSql, sql, type Sql } from '../query/index.js';
import type { CollectionRuntime } from './runtime.js';
import type { ApiRecord } from './types.js';

/**
 * A one-row SELECT of submitted values typed like the table's columns, so a rule can be
 * evaluated on a record that is not stored (yet): createRule refusals, manageRule on create.
 */
export function virtualRow(rt: CollectionRuntime, values: ApiRecord, dialect: 'sqlite' | 'postgres'): Sql {
  const parts = rt.columns.map((c) => {
    let value: unknown;
    try {
      value = encodeValue(c, values[c.name], dialect);
    } catch {
      value = null; // an invalid value (e.g. NaN) reads as NULL here; validation reports it
    }
    const cast = dialect === 'postgres' ? `::${dialectFor(dialect).sqlType(c.kind)}` : '';
    return sql(`?${cast} AS "${c.name.replace(/"/g, '""')}"`, [value]);
  });
  return fmt`SELECT ${joinSql(parts, ', ')}`;
}
