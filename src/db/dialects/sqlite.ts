import type { ColumnKind } from '../../schema/index.js';
import type { Executor } from '../executor.js';
import type { ColumnSpec, JunctionSpec, OnDelete, TableSpec } from '../model.js';
import { columnKey, firstByKey, ownersLeftEmpty, q, renderWhere, stringLiteral, type ColumnChange, type Dialect, type LiveModel, type LiveTable, type TriggerSpec } from './dialect.js';

const TYPES: Record<ColumnKind, string> = { text: 'text', number: 'numeric', bool: 'boolean', json: 'json', date: 'text', ref: 'text' };

function literal(kind: ColumnKind, zero: unknown): string {
  if (zero === null) return 'NULL';
  if (kind === 'bool') return zero ? 'TRUE' : 'FALSE';
  if (kind === 'number') return String(zero);
  if (kind === 'json') return stringLiteral(JSON.stringify(zero));
  return stringLiteral(String(zero));
}

function columnDef(col: ColumnSpec, sqlType = TYPES[col.kind]): string {
  const parts = [q(col.name), sqlType.toUpperCase()];
  if (col.primaryKey) parts.push('PRIMARY KEY');
  if (!col.nullable) parts.push('NOT NULL');
  if (!col.primaryKey) parts.push('DEFAULT', literal(col.kind, col.zero));
  if (col.ref) parts.push(`REFERENCES ${q(col.ref.table)} (${q('id')}) ON DELETE ${col.ref.onDelete} ON UPDATE CASCADE`);
  return parts.join(' ');
}

const DATE_FORMAT = "'%Y-%m-%d %H:%M:%fZ'";

function convert(expr: string, from: ColumnKind, to: ColumnSpec): string {
  const zero = literal(to.kind, to.zero);
  switch (to.kind) {
    case 'text':
    case 'date':
      if (from === 'bool') return `CASE WHEN ${expr} THEN 'true' ELSE 'false' END`;
      if (from === 'json') return `COALESCE(CASE json_type(${expr}) WHEN 'array' THEN json_extract(${expr}, '$[0]') ELSE ${expr} END, '')`;
      if (to.kind === 'date' && from !== 'date') return `COALESCE(strftime(${DATE_FORMAT}, NULLIF(${expr}, '')), '')`;
      return `COALESCE(CAST(${expr} AS TEXT), '')`;
    case 'number':
      return from === 'bool' ? `CAST(${expr} AS INTEGER)` : `COALESCE(CAST(NULLIF(trim(${expr}), '') AS REAL), 0)`;
    case 'bool':
      return from === 'number' ? `(${expr} <> 0)` : `(lower(${expr}) IN ('true', '1', 'yes', 'on'))`;
    case 'json':
      if (Array.isArray(to.zero)) return `CASE WHEN COALESCE(${expr}, '') = '' THEN ${zero} ELSE json_array(${expr}) END`;
      return `CASE WHEN json_valid(${expr}) THEN ${expr} ELSE json_quote(${expr}) END`;
    case 'ref':
      return `(SELECT ${q('id')} FROM ${q(to.ref!.table)} WHERE ${q('id')} = ${expr})`;
  }
}

/** The whole schema in three queries (pragma table-valued functions), not two PRAGMAs per table. */
async function introspect(exec: Executor): Promise<LiveModel> {
  const objects = await exec.all("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'");
  const columns = await exec.all(
    `SELECT m.name AS "table", c.name, c.type, c."notnull", c.pk FROM sqlite_master m JOIN pragma_table_info(m.name) c
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, c.cid`,
  );
  const fks = await exec.all(
    `SELECT m.name AS "table", f."from", f."table" AS target, f.on_delete FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`,
  );
  const model: LiveModel = { tables: new Map(), indexes: new Map(), views: new Set(), triggers: new Set() };
  for (const o of objects) {
    const name = String(o['name']);
    if (o['type'] === 'view') model.views.add(name);
    else if (o['type'] === 'trigger') model.triggers.add(name);
    else if (o['type'] === 'index') model.indexes.set(name, String(o['tbl_name']));
    else if (o['type'] === 'table') model.tables.set(name, { name, columns: [] });
  }
  const fkOf = firstByKey(fks, (f) => columnKey(f['table'], f['from']));
  for (const c of columns) {
    const table = String(c['table']);
    const fk = fkOf.get(columnKey(table, c['name']));
    model.tables.get(table)?.columns.push({
      name: String(c['name']),
      type: String(c['type']).toLowerCase(),
      notNull: Boolean(c['notnull']) || Boolean(c['pk']),
      collation: null,
      ...(fk ? { ref: { table: String(fk['target']), onDelete: String(fk['on_delete']).toUpperCase() as OnDelete } } : {}),
    });
  }
  return model;
}

function createJunction(j: JunctionSpec): string[] {
  const onDelete = 'CASCADE';
  return [
    `CREATE TABLE ${q(j.name)} (${q('owner_id')} TEXT NOT NULL REFERENCES ${q(j.owner)} (${q('id')}) ON DELETE CASCADE ON UPDATE CASCADE, ` +
      `${q('target_id')} TEXT NOT NULL REFERENCES ${q(j.target)} (${q('id')}) ON DELETE ${onDelete} ON UPDATE CASCADE, ` +
      `${q('position')} INTEGER NOT NULL, PRIMARY KEY (${q('owner_id')}, ${q('target_id')}))`,
    `CREATE INDEX ${q(`${j.name}_target`)} ON ${q(j.name)} (${q('target_id')})`,
  ];
}

/**
 * On deleting a target record: cascade deletes the owners; a required relation
 * refuses when it would leave an owner with no ids (PocketBase's semantics).
 */
function createTrigger({ name, junction: j }: TriggerSpec): string[] {
  const body = j.cascadeDelete
    ? `DELETE FROM ${q(j.owner)} WHERE ${q('id')} IN (${ownersLeftEmpty(j)});`
    : `SELECT RAISE(ABORT, 'galley_required_relation') WHERE EXISTS (${ownersLeftEmpty(j)});`;
  return [`CREATE TRIGGER ${q(name)} BEFORE DELETE ON ${q(j.target)} FOR EACH ROW BEGIN ${body} END`];
}

/** SQLite cannot alter a column in place: the documented 12-step rebuild (foreign keys are off during migrations). */
function changeColumns(table: TableSpec, live: LiveTable, sources: Map<string, string>, changes: ColumnChange[]): string[] {
  const tmp = `_galley_new_${table.name}`;
  const retyped = new Set(changes.flatMap((c) => (c.kind === 'retype' ? [c.column.name] : [])));
  // Drift is reported, never overwritten: a column retyped by hand keeps its live type, and a column
  // added by hand (in `sources`, not in the files) is carried over with its type.
  const defs = table.columns.map((col) => {
    const liveCol = live.columns.find((c) => c.name === col.name);
    return liveCol && !retyped.has(col.name) && liveCol.type !== TYPES[col.kind] ? columnDef(col, liveCol.type) : columnDef(col);
  });
  const extra = live.columns.filter((c) => sources.has(c.name) && !table.columns.some((col) => col.name === c.name));
  defs.push(...extra.map((c) => `${q(c.name)} ${c.type.toUpperCase()}`));
  const create = `CREATE TABLE ${q(tmp)} (${defs.join(', ')})`;
  const cols = [...table.columns.filter((c) => sources.has(c.name)).map((c) => c.name), ...extra.map((c) => c.name)];
  return [
    create,
    `INSERT INTO ${q(tmp)} (${cols.map((c) => q(c)).join(', ')}) SELECT ${cols.map((c) => sources.get(c)).join(', ')} FROM ${q(table.name)}`,
    `DROP TABLE ${q(table.name)}`,
    `ALTER TABLE ${q(tmp)} RENAME TO ${q(table.name)}`,
  ];
}

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  quote: q,
  sqlType: (kind) => TYPES[kind],
  // BINARY, SQLite's default, compares text by code point: what Galley's filters and sorts mean.
  collation: () => null,
  literal,
  introspect,
  // BEGIN IMMEDIATE (issued by the runner) already holds SQLite's single write lock.
  lock: async () => {},
  createTable: (t) => [`CREATE TABLE ${q(t.name)} (${t.columns.map((c) => columnDef(c)).join(', ')})`],
  deferredForeignKeys: () => [],
  addColumn: (table, col) => [`ALTER TABLE ${q(table)} ADD COLUMN ${columnDef(col)}`],
  createJunction,
  createTrigger,
  dropTrigger: (name) => [`DROP TRIGGER IF EXISTS ${q(name)}`],
  createIndex: (def, table) =>
    `CREATE ${def.unique ? 'UNIQUE ' : ''}INDEX ${q(def.name)} ON ${q(table)} (${def.columns
      .map((c) => `${q(c.name)}${c.collate ? ` COLLATE ${c.collate}` : ''}${c.order ? ` ${c.order}` : ''}`)
      .join(', ')})${def.where ? ` WHERE ${renderWhere(def.where)}` : ''}`,
  createView: (name, query) => [`CREATE VIEW ${q(name)} AS ${query}`],
  convert,
  changeColumns,
};
