import NodeSqlParser from 'node-sql-parser';
import { trimViewQuery } from '../schema/index.js';
import type { DialectName } from './dialects/index.js';
import { q } from './dialects/index.js';
import type { PhysicalModel, TableSpec } from './model.js';

const parser = new NodeSqlParser.Parser();
type Node = Record<string, unknown>;

/** SQLite functions PocketBase view queries use, and their PostgreSQL names. */
const PG_FUNCTIONS: Record<string, string> = {
  json_object: 'json_build_object',
  json_array: 'json_build_array',
  ifnull: 'coalesce',
  group_concat: 'string_agg',
  json_group_array: 'json_agg',
};
const AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max', 'group_concat', 'total', 'json_group_array', 'string_agg', 'json_agg']);
const PLACEHOLDER = '__galley_source_';

/**
 * Renders a PocketBase view query (written for SQLite) for `dialect`:
 * multiple relations (junction tables in Galley) reappear as JSON-array columns,
 * and for PostgreSQL the SQLite-isms the corpus uses are rewritten.
 */
export function renderViewQuery(query: string, dialect: DialectName, model: PhysicalModel): string {
  const ast = parser.astify(trimViewQuery(query), { database: 'sqlite' }) as unknown as Node;
  const select = (Array.isArray(ast) ? ast[0] : ast) as Node;
  const tables = new Map(model.tables.map((t) => [t.name.toLowerCase(), t]));
  const bools = new Set<string>();
  visitSelects(select, (node) => {
    const aliases = substituteSources(node, tables);
    if (dialect === 'postgres') {
      collectBoolColumns(node, aliases, bools);
      groupBareColumns(node);
    }
  });
  if (dialect === 'postgres') rewriteForPostgres(select, bools);
  let sql = parser.sqlify(select as never, { database: dialect === 'postgres' ? 'postgresql' : 'sqlite' });
  for (const table of model.tables.filter((t) => t.junctions.length > 0)) {
    const placeholder = new RegExp(`[\`"]${PLACEHOLDER}${table.name}[\`"]`, 'g');
    sql = sql.replace(placeholder, `(${sourceWithRelations(table, dialect)})`);
  }
  return sql;
}

function visitSelects(node: unknown, fn: (select: Node) => void): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach((n) => visitSelects(n, fn));
  const n = node as Node;
  if (n['type'] === 'select') fn(n);
  for (const value of Object.values(n)) visitSelects(value, fn);
}

/** Points FROM entries of collections with multiple relations at a placeholder, replaced by a subquery after rendering. */
function substituteSources(select: Node, tables: Map<string, TableSpec>): Map<string, TableSpec> {
  const aliases = new Map<string, TableSpec>();
  for (const from of (select['from'] as Node[] | null) ?? []) {
    const name = typeof from['table'] === 'string' ? from['table'] : null;
    const table = name ? tables.get(name.toLowerCase()) : undefined;
    if (!table) continue;
    aliases.set(String(from['as'] ?? name).toLowerCase(), table);
    if (table.junctions.length === 0) continue;
    from['as'] ??= name;
    from['table'] = PLACEHOLDER + table.name;
  }
  return aliases;
}

function sourceWithRelations(table: TableSpec, dialect: DialectName): string {
  const t = q(table.name);
  const lists = table.junctions.map((j) =>
    dialect === 'postgres'
      ? `COALESCE((SELECT jsonb_agg(j.${q('target_id')} ORDER BY j.${q('position')}) FROM ${q(j.name)} j WHERE j.${q('owner_id')} = ${t}.${q('id')}), '[]'::jsonb) AS ${q(j.fieldName)}`
      : `(SELECT json_group_array(${q('target_id')}) FROM (SELECT ${q('target_id')} FROM ${q(j.name)} j WHERE j.${q('owner_id')} = ${t}.${q('id')} ORDER BY j.${q('position')})) AS ${q(j.fieldName)}`,
  );
  return `SELECT ${t}.*, ${lists.join(', ')} FROM ${t}`;
}

function collectBoolColumns(select: Node, aliases: Map<string, TableSpec>, out: Set<string>): void {
  for (const [alias, table] of aliases) {
    for (const col of table.columns.filter((c) => c.kind === 'bool')) {
      out.add(`${alias}.${col.name.toLowerCase()}`);
      if (aliases.size === 1) out.add(`.${col.name.toLowerCase()}`);
    }
  }
  void select;
}

/** SQLite allows bare columns beside aggregates without GROUP BY; PostgreSQL needs them aggregated. */
function groupBareColumns(select: Node): void {
  const columns = (select['columns'] as Node[] | string | undefined) ?? [];
  if (!Array.isArray(columns) || select['groupby']) return;
  const hasAggregate = columns.some((c) => isAggregate(c['expr'] as Node));
  if (!hasAggregate) return;
  for (const col of columns) {
    const expr = col['expr'] as Node;
    if (expr['type'] !== 'column_ref') continue;
    col['as'] ??= columnName(expr);
    col['expr'] = { type: 'aggr_func', name: 'MIN', args: { expr } };
  }
}

function isAggregate(expr: Node | undefined): boolean {
  if (!expr) return false;
  if (expr['type'] === 'aggr_func') return true;
  if (expr['type'] === 'function') {
    const args = ((expr['args'] as Node | undefined)?.['value'] as Node[] | undefined) ?? [];
    return AGGREGATES.has(functionName(expr)) || args.some((a) => isAggregate(a));
  }
  return false;
}

function functionName(expr: Node): string {
  const name = expr['name'] as { name?: { value: string }[] } | string;
  if (typeof name === 'string') return name.toLowerCase();
  return (name.name?.map((p) => p.value).join('.') ?? '').toLowerCase();
}

function setFunctionName(expr: Node, value: string): void {
  expr['name'] = { name: [{ type: 'default', value }] };
}

function columnName(expr: Node): string {
  const column = expr['column'] as string | { expr: { value: string } };
  return typeof column === 'string' ? column : column.expr.value;
}

function rewriteForPostgres(node: unknown, bools: Set<string>): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach((n) => rewriteForPostgres(n, bools));
  const n = node as Node;
  if (n['type'] === 'function') {
    const name = functionName(n);
    if (PG_FUNCTIONS[name]) setFunctionName(n, PG_FUNCTIONS[name]);
    // PostgreSQL has round(numeric, int) only; AVG over double precision needs a cast.
    if (name === 'round') castFirstArgToNumeric(n);
  }
  if (n['type'] === 'binary_expr' && ['=', '!=', '<>'].includes(String(n['operator']))) boolLiteral(n, bools);
  for (const value of Object.values(n)) rewriteForPostgres(value, bools);
}

function castFirstArgToNumeric(fn: Node): void {
  const args = (fn['args'] as Node | undefined)?.['value'] as Node[] | undefined;
  if (!args?.[0] || args.length < 2) return;
  args[0] = { type: 'cast', keyword: 'cast', expr: args[0], symbol: '::', target: [{ dataType: 'NUMERIC' }] };
}

/** `active = 1` on a bool column: PostgreSQL compares booleans to booleans only. */
function boolLiteral(expr: Node, bools: Set<string>): void {
  const [left, right] = [expr['left'] as Node, expr['right'] as Node];
  const ref = left?.['type'] === 'column_ref' ? left : right?.['type'] === 'column_ref' ? right : null;
  const lit = ref === left ? right : left;
  if (!ref || lit?.['type'] !== 'number') return;
  const key = `${String(ref['table'] ?? '').toLowerCase()}.${columnName(ref).toLowerCase()}`;
  if (!bools.has(key)) return;
  lit['type'] = 'bool';
  lit['value'] = Number(lit['value']) !== 0;
}
