import { parseableViewQuery, trimViewQuery } from '../schema/index.js';
import type { DialectName } from './dialects/index.js';
import { q } from './dialects/index.js';
import type { PhysicalModel, TableSpec } from './model.js';

type Node = Record<string, unknown>;
type Parser = InstanceType<(typeof import('node-sql-parser'))['Parser']>;

/**
 * node-sql-parser costs ~0.3 s and much memory to load: it is imported only when a view needs
 * translating (any view on PostgreSQL; on SQLite only one that reads a collection with multiple
 * relations). Node caches the module, so later calls do not load it again.
 */
async function sqlParser(): Promise<Parser> {
  const { default: NodeSqlParser } = await import('node-sql-parser');
  return new NodeSqlParser.Parser();
}

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
export async function renderViewQuery(query: string, dialect: DialectName, model: PhysicalModel): Promise<string> {
  // SQLite runs PocketBase's query as written, unless a source needs its multiple relations put back.
  if (dialect === 'sqlite' && !readsJunctionTable(query, model)) return trimViewQuery(query);
  const parser = await sqlParser();
  const ast = parser.astify(parseableViewQuery(query), { database: 'sqlite' }) as unknown as Node;
  const select = (Array.isArray(ast) ? ast[0] : ast) as Node;
  const tables = new Map(model.tables.map((t) => [t.name.toLowerCase(), t]));
  const bools = new Set<string>();
  unwrapWindowCalls(select);
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

/** Whether the query names a table with junction tables (a cheap word match; a false hit only costs a parse). */
function readsJunctionTable(query: string, model: PhysicalModel): boolean {
  const words = new Set(query.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  return model.tables.some((t) => t.junctions.length > 0 && words.has(t.name.toLowerCase()));
}

/**
 * node-sql-parser renders a parenthesized window call `(ROW_NUMBER() OVER ())` as
 * `(ROW_NUMBER()) OVER ()`, which no engine accepts; the parentheses are redundant, so they go.
 * (The `PARTITION BY NULL` parseableViewQuery added stays: the renderer needs a PARTITION BY, and
 * one partition is what `OVER ()` means on both engines.)
 */
function unwrapWindowCalls(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) return node.forEach(unwrapWindowCalls);
  const n = node as Node;
  if (n['over'] && typeof n['over'] === 'object') delete n['parentheses'];
  for (const value of Object.values(n)) unwrapWindowCalls(value);
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
    if (name === 'strftime') strftimeToChar(n);
    if ((name === 'datetime' || name === 'date') && isNow(argsOf(n))) replaceNode(n, { type: 'origin', value: name === 'date' ? 'CURRENT_DATE' : 'NOW()' });
    if (name === 'iif' && argsOf(n).length === 3) {
      const [cond, then, otherwise] = argsOf(n);
      replaceNode(n, { type: 'case', expr: null, args: [{ type: 'when', cond, result: then }, { type: 'else', result: otherwise }] });
    }
  }
  if (n['type'] === 'binary_expr' && ['=', '!=', '<>'].includes(String(n['operator']))) boolLiteral(n, bools);
  for (const value of Object.values(n)) rewriteForPostgres(value, bools);
}

function argsOf(fn: Node): Node[] {
  return ((fn['args'] as Node | undefined)?.['value'] as Node[] | undefined) ?? [];
}

function replaceNode(node: Node, replacement: Node): void {
  for (const key of Object.keys(node)) delete node[key];
  Object.assign(node, replacement);
}

const isString = (n: Node | undefined): boolean => n?.['type'] === 'single_quote_string' || n?.['type'] === 'string';
/** `('now')`: the current time (SQLite's only argument PocketBase views commonly give datetime/date). */
const isNow = (args: Node[]): boolean => args.length === 1 && isString(args[0]) && String(args[0]!['value']).toLowerCase() === 'now';

/** strftime specifiers and their to_char patterns (dates are UTC on both engines: Galley's sessions use UTC). */
const STRFTIME: Record<string, string> = { Y: 'YYYY', m: 'MM', d: 'DD', H: 'HH24', M: 'MI', S: 'SS', f: 'SS.MS', j: 'DDD', '%': '%' };

/**
 * `strftime('%Y-%m', created)` → `to_char(created::timestamptz, 'YYYY-MM')`. Only a literal format of
 * the specifiers above and no modifiers: anything else is left as written, and PostgreSQL reports it
 * when the view is created (the migration fails and rolls back, naming the view).
 */
function strftimeToChar(fn: Node): void {
  const [format, value, ...modifiers] = argsOf(fn);
  if (!format || !value || modifiers.length > 0 || !isString(format)) return;
  let pattern = '';
  const text = String(format['value']);
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '%') {
      pattern += /[A-Za-z]/.test(text[i]!) ? `"${text[i]}"` : text[i];
      continue;
    }
    const spec = STRFTIME[text[++i] ?? ''];
    if (spec === undefined) return;
    pattern += spec;
  }
  const time = isNow([value]) ? { type: 'origin', value: 'NOW()' } : { type: 'cast', keyword: 'cast', expr: value, symbol: '::', target: [{ dataType: 'TIMESTAMPTZ' }] };
  replaceNode(fn, { type: 'function', name: { name: [{ type: 'default', value: 'to_char' }] }, args: { type: 'expr_list', value: [time, { type: 'single_quote_string', value: pattern }] } });
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
