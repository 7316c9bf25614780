import type { Dialect, DialectName } from './dialect.js';
import { postgresDialect } from './postgres.js';
import { sqliteDialect } from './sqlite.js';

export function dialectFor(name: DialectName): Dialect {
  return name === 'postgres' ? postgresDialect : sqliteDialect;
}

export type { ColumnChange, Dialect, DialectName, LiveColumn, LiveModel, LiveTable, TriggerSpec } from './dialect.js';
export { q, triggerName } from './dialect.js';
