import type { IndexDef } from '../../schema/index.js';
import type { ColumnKind } from '../../schema/index.js';
import type { Executor } from '../executor.js';
import type { ColumnSpec, JunctionSpec, OnDelete, TableSpec } from '../model.js';

export type DialectName = 'sqlite' | 'postgres';

/** What introspection reads back from the live database. */
export interface LiveColumn {
  name: string;
  /** Lower-case SQL type as the engine reports it. */
  type: string;
  notNull: boolean;
  /** The column's own collation (PostgreSQL); null: the database default, or not collatable. */
  collation: string | null;
  ref?: { table: string; onDelete: OnDelete; constraint?: string };
}

export interface LiveTable {
  name: string;
  columns: LiveColumn[];
}

export interface LiveModel {
  tables: Map<string, LiveTable>;
  /** index name → table */
  indexes: Map<string, string>;
  views: Set<string>;
  triggers: Set<string>;
}

/** A trigger Galley keeps for a multiple relation (cascade or required semantics on delete). */
export interface TriggerSpec {
  name: string;
  junction: JunctionSpec;
}

/**
 * Everything engine-specific about DDL, introspection and value conversion.
 * The planner stays engine-agnostic and asks the dialect for SQL text.
 */
export interface Dialect {
  name: DialectName;
  quote(identifier: string): string;
  /** The SQL type a column kind is stored as (as introspection reports it). */
  sqlType(kind: ColumnKind): string;
  /** The collation Galley gives columns of this kind; null: the engine's default is what Galley wants. */
  collation(kind: ColumnKind): string | null;
  /** The zero value as a SQL literal, for DEFAULT clauses and conversions. */
  literal(kind: ColumnKind, zero: unknown): string;
  introspect(exec: Executor): Promise<LiveModel>;
  /** Serializes concurrent migrators; called first inside the migration transaction. */
  lock(exec: Executor): Promise<void>;
  createTable(table: TableSpec): string[];
  /** Foreign keys created after every table exists (PostgreSQL needs the targets first). */
  deferredForeignKeys(table: TableSpec): string[];
  addColumn(table: string, column: ColumnSpec): string[];
  createJunction(junction: JunctionSpec): string[];
  createTrigger(trigger: TriggerSpec): string[];
  dropTrigger(name: string, table: string): string[];
  createIndex(def: IndexDef, table: string): string;
  createView(name: string, query: string): string[];
  /** SQL expression converting `expr` from one column kind to another (used when a field changes type). */
  convert(expr: string, from: ColumnKind, to: ColumnSpec): string;
  /**
   * Rewrites a table whose columns change in ways ALTER cannot express in place.
   * `sources` maps each new column to the SQL expression (over the old table) that fills it.
   */
  changeColumns(table: TableSpec, live: LiveTable, sources: Map<string, string>, plan: ColumnChange[]): string[];
}

/** One column-level change the planner decided on, for dialects that alter in place. */
export type ColumnChange =
  | { kind: 'retype'; column: ColumnSpec; expr: string }
  | { kind: 'drop'; column: string }
  | { kind: 'reref'; column: ColumnSpec }
  /** Same type, Galley's collation (PostgreSQL text made by an older Galley with the database default). */
  | { kind: 'collate'; column: ColumnSpec };

export function q(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

export function stringLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Renders a parsed PocketBase WHERE clause with this engine's quoting. */
export function renderWhere(tokens: NonNullable<IndexDef['where']>): string {
  return tokens
    .map((t) => (t.kind === 'ident' ? q(t.text) : t.kind === 'string' ? stringLiteral(t.text) : t.text === '==' ? '=' : t.text))
    .join(' ')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')');
}

/** `table\0column`: a key for looking up per-column rows of an introspection query. */
export function columnKey(table: unknown, column: unknown): string {
  return `${String(table)}\0${String(column)}`;
}

/** Rows by key, the first row of each key kept (introspection looks columns up in one pass). */
export function firstByKey<T>(rows: T[], key: (row: T) => string): Map<string, T> {
  const found = new Map<string, T>();
  for (const row of rows) {
    const k = key(row);
    if (!found.has(k)) found.set(k, row);
  }
  return found;
}

export function triggerName(junction: JunctionSpec): string {
  return `_galley_trg_${junction.name.replace(/^_galley_rel_/, '')}`.slice(0, 63);
}

/**
 * The owners of a multiple relation whose only id is the target row being deleted (`OLD`): a
 * cascading relation deletes exactly these (the others just lose the id, through the junction's
 * own foreign key), a required one refuses the delete when there is any. PocketBase semantics.
 */
export function ownersLeftEmpty(j: JunctionSpec): string {
  return (
    `SELECT r.${q('owner_id')} FROM ${q(j.name)} r WHERE r.${q('target_id')} = OLD.${q('id')} ` +
    `AND NOT EXISTS (SELECT 1 FROM ${q(j.name)} o WHERE o.${q('owner_id')} = r.${q('owner_id')} AND o.${q('target_id')} <> OLD.${q('id')})`
  );
}
