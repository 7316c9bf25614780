import { formatDate, parseDate } from '../schema/index.js';
import { fmt, joinSql, sql, type Sql } from './sql.js';
import { lowerAscii, numericText, realText, type CompareOp, type Const } from './values.js';

/**
 * What a SQL value is, for the engine-specific parts of a comparison.
 * `jsonpath` is a value extracted from a JSON field (typed per row: number,
 * text, boolean or NULL, as SQLite's json_extract returns it).
 */
export type Kind = 'text' | 'number' | 'bool' | 'date' | 'json' | 'jsonpath' | 'null';

export interface ValueExpr {
  sql: Sql;
  kind: Kind;
  /** Set when the value is known at compile time (literals, `@request.*`, macros). */
  constant?: { value: Const; integer?: boolean };
  /** JSON paths and geoDistance compare with IS / IS NOT (no ''/NULL equivalence). */
  nullSafe?: boolean;
  /**
   * A column reference (SQLite applies the column's affinity in comparisons);
   * expressions (functions, modifiers, COALESCE) have none.
   */
  affinity?: boolean;
  /** A single relation column: NULL when empty, which the API shows as ''. */
  nullAsEmpty?: boolean;
  /**
   * Never NULL: a NOT NULL column of the row itself. PostgreSQL then sorts it without a NULLS
   * clause, in the order a plain index on the column is read in (either direction).
   */
  notNull?: boolean;
}

/**
 * A compile-time value. `integer` constants (true/false, :isset, @year...) bind as
 * SQLite INTEGERs; other numbers bind as REALs, as PocketBase binds float64.
 */
export function constant(value: Const, kind?: Kind, integer = false): ValueExpr {
  const bound = integer && typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : value;
  return {
    sql: sql('?', [bound]),
    kind: kind ?? (value === null ? 'null' : typeof value === 'number' ? 'number' : 'text'),
    constant: { value, ...(integer ? { integer } : {}) },
  };
}

/** How SQLite renders a constant as text: integers plainly, REALs with a decimal part. */
export function constText(c: { value: Const; integer?: boolean }): string | null {
  if (c.value === null) return null;
  if (typeof c.value === 'number') return c.integer ? String(c.value) : realText(c.value);
  return c.value;
}

/**
 * The engine-specific half of the filter compiler. SQLite is the reference
 * (PocketBase runs on it); PostgreSQL reproduces SQLite's results for the same
 * stored data: typed parameters, SQLite's numeric affinity for literals, its
 * mixed-type ordering (numbers before text), ASCII-only case folding, dates as text.
 */
export interface QueryDialect {
  name: 'sqlite' | 'postgres';
  /** A constant as a parameter, typed where the engine needs it. */
  param(value: Const, kind: Kind): Sql;
  /** `a op b` for two values, neither NULL-folded; `!=` is null-safe (IS NOT). */
  compare(op: CompareOp, a: ValueExpr, b: ValueExpr): Sql;
  /** The value as text (what LIKE and cross-type comparisons see). */
  text(v: ValueExpr): Sql;
  /** ASCII-only LOWER(). */
  lower(v: ValueExpr): Sql;
  /**
   * `column = value COLLATE NOCASE` (ASCII case folded), written so the engine's NOCASE index serves
   * it: SQLite's own collation; on PostgreSQL, where such an index is on lower(column), lower() narrows
   * through the index and the ASCII fold keeps SQLite's answer for non-ASCII letters.
   */
  equalsNocase(column: Sql, value: Sql): Sql;
  like(a: ValueExpr, b: ValueExpr, negate: boolean): Sql;
  /** A value at a JSON path inside a JSON column. */
  jsonPath(column: Sql, path: string[]): ValueExpr;
  /** The number of items of a JSON array column (0 for a non-array). */
  jsonLength(column: Sql): Sql;
  /** A FROM item yielding one row per array element as `<alias>.value` (text). */
  jsonEach(column: Sql, alias: string): Sql;
  /** A FROM item over the elements of a bound JSON array. */
  jsonEachParam(json: string, alias: string): Sql;
  /** An array column as its compact JSON text (`["a","b"]`), as SQLite stores it. */
  jsonArrayText(column: Sql): Sql;
  /** JSON array text of the given column over a subquery's rows, in order. */
  aggregateJsonText(value: string, from: Sql, orderBy: string): Sql;
  random(): string;
  /** `LEFT JOIN` of a FROM item that may reference earlier items. */
  lateral: string;
  /** Boolean literal. */
  bool(b: boolean): string;
  /** ORDER BY items sorting `v` as SQLite would (NULLs first ascending, then numbers, then text by code point). */
  orderBy(v: ValueExpr, desc: boolean): Sql[];
  /**
   * SQLite's `MIN(v)` (or, `desc`, `MAX(v)`) over the rows of `from`: the first non-NULL value in
   * the order `orderBy` gives, for values of any kind (PostgreSQL has no min(jsonb) or max(boolean)).
   */
  extreme(v: ValueExpr, from: Sql, desc: boolean): Sql;
}

const ASCII_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ASCII_LOWER = 'abcdefghijklmnopqrstuvwxyz';

export const sqliteQueryDialect: QueryDialect = {
  name: 'sqlite',
  param: (value) => sql('?', [value]),
  compare(op, a, b) {
    if (op === '!=') return fmt`(${a.sql} IS NOT ${b.sql})`;
    return fmt`(${a.sql} ${sql(op)} ${b.sql})`;
  },
  text: (v) => v.sql,
  lower: (v) => fmt`LOWER(${v.sql})`,
  equalsNocase: (column, value) => fmt`(${column} = ${value} COLLATE NOCASE)`,
  like(a, b, negate) {
    const not = negate ? 'NOT ' : '';
    if (b.constant) return fmt`(${a.sql} ${sql(not)}LIKE ${sql('?', [constText(b.constant)])} ESCAPE '\\')`;
    return fmt`(${a.sql} ${sql(not)}LIKE ('%' || ${b.sql} || '%') ESCAPE '\\')`;
  },
  jsonPath(column, path) {
    return { sql: fmt`JSON_EXTRACT(${column}, ${sql('?', [sqliteJsonPath(path)])})`, kind: 'jsonpath', nullSafe: true };
  },
  jsonLength: (column) => fmt`(CASE WHEN json_valid(${column}) AND json_type(${column}) = 'array' THEN json_array_length(${column}) ELSE 0 END)`,
  jsonEach: (column, alias) => fmt`json_each(CASE WHEN json_valid(${column}) AND json_type(${column}) = 'array' THEN ${column} ELSE '[]' END) AS ${sql(alias)}`,
  jsonEachParam: (json, alias) => sql(`json_each(?) AS ${alias}`, [json]),
  jsonArrayText: (column) => column,
  aggregateJsonText: (value, from, orderBy) => fmt`(SELECT json_group_array(${sql(value)}) FROM (SELECT ${sql(value)} FROM ${from} ORDER BY ${sql(orderBy)}))`,
  random: () => 'RANDOM()',
  lateral: 'LEFT JOIN',
  bool: (b) => (b ? '1' : '0'),
  orderBy: (v, desc) => [fmt`${v.sql} ${sql(desc ? 'DESC' : 'ASC')}`],
  extreme: (v, from, desc) => fmt`(SELECT ${sql(desc ? 'MAX' : 'MIN')}(${v.sql}) FROM ${from})`,
};

function sqliteJsonPath(path: string[]): string {
  return '$' + path.map((seg) => (/^\d+$/.test(seg) ? `[${seg}]` : `."${seg}"`)).join('');
}

const PG_CASTS: Record<Kind, string> = {
  text: 'text',
  number: 'float8',
  bool: 'boolean',
  date: 'timestamptz',
  json: 'jsonb',
  jsonpath: 'jsonb',
  null: 'text',
};

/** SQLite sorts numbers before text: the result of comparing a number (left) with a text (right). */
function mixedOrder(op: CompareOp, numberOnLeft: boolean): boolean {
  const less = numberOnLeft; // number < text
  switch (op) {
    case '=':
      return false;
    case '!=':
      return true;
    case '<':
    case '<=':
      return less;
    case '>':
    case '>=':
      return !less;
  }
}

/** Text order as SQLite's BINARY collation (code points), whatever the database's default collation. */
function collate(op: CompareOp): string {
  return op === '=' || op === '!=' ? '' : ' COLLATE "C"';
}

function pgOp(op: CompareOp): string {
  return op === '!=' ? 'IS DISTINCT FROM' : op;
}

function flip(op: CompareOp): CompareOp {
  return ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=', '!=': '!=' } as const)[op];
}

/** A boolean constant that is NULL when `v` is (a comparison with NULL is unknown). */
function pgConstResult(result: boolean, v: ValueExpr, op: CompareOp): Sql {
  if (op === '!=') return sql(result ? 'TRUE' : 'FALSE');
  return fmt`(CASE WHEN ${v.sql} IS NULL THEN NULL ELSE ${sql(result ? 'TRUE' : 'FALSE')} END)`;
}

function pgText(v: ValueExpr): Sql {
  if (v.constant) return pgParam(constText(v.constant), 'text');
  switch (v.kind) {
    case 'number':
      // SQLite renders integral REALs with ".0" but stores integral numbers as INTEGER: both print without decimals here.
      return fmt`(CASE WHEN ${v.sql} = trunc(${v.sql}) AND abs(${v.sql}) < 1e15 THEN trunc(${v.sql})::bigint::text ELSE ${v.sql}::text END)`;
    case 'bool':
      return fmt`(CASE WHEN ${v.sql} THEN '1' WHEN NOT ${v.sql} THEN '0' END)`;
    case 'date':
      return fmt`(CASE WHEN ${v.sql} = '-infinity' THEN '' ELSE to_char(${v.sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS"Z"') END)`;
    case 'json':
      return fmt`(${v.sql})::text`;
    case 'jsonpath':
      return fmt`(CASE jsonb_typeof(${v.sql}) WHEN 'boolean' THEN (CASE WHEN (${v.sql}) = 'true'::jsonb THEN '1' ELSE '0' END) WHEN 'null' THEN NULL WHEN 'string' THEN (${v.sql}) #>> '{}' WHEN 'number' THEN (${v.sql}) #>> '{}' ELSE (${v.sql})::text END)`;
    default:
      return v.sql;
  }
}

/** jsonpath scalar as a number (booleans are 1/0, as json_extract returns them), else NULL. */
function pgJsonNumber(v: ValueExpr): Sql {
  return fmt`(CASE jsonb_typeof(${v.sql}) WHEN 'number' THEN ((${v.sql}) #>> '{}')::float8 WHEN 'boolean' THEN (CASE WHEN (${v.sql}) = 'true'::jsonb THEN 1 ELSE 0 END) END)`;
}

/**
 * A whole JSON column as SQLite stores it: JSON text in a column of NUMERIC affinity, so a JSON
 * number is a number (sorting before any text) and everything else is its text.
 */
function pgJsonColumnOrder(v: ValueExpr, dir: Sql): Sql[] {
  return [
    fmt`(CASE WHEN jsonb_typeof(${v.sql}) = 'number' THEN 'n' WHEN ${v.sql} IS NOT NULL THEN 't' END) ${dir}`,
    fmt`(CASE jsonb_typeof(${v.sql}) WHEN 'number' THEN ((${v.sql}) #>> '{}')::float8 END) ${dir}`,
    fmt`${pgText(v)} COLLATE "C" ${dir}`,
  ];
}

/** 'n' for numbers/booleans, 't' for strings/objects/arrays, NULL for null or a missing path. */
function pgJsonClass(v: ValueExpr): Sql {
  return fmt`(CASE jsonb_typeof(${v.sql}) WHEN 'number' THEN 'n' WHEN 'boolean' THEN 'n' WHEN 'null' THEN NULL WHEN 'string' THEN 't' WHEN 'object' THEN 't' WHEN 'array' THEN 't' END)`;
}

function pgParam(value: Const, kind: Kind): Sql {
  if (value === null) return sql('NULL');
  return sql(`?::${PG_CASTS[kind]}`, [value]);
}

/**
 * Compares a non-constant value with a constant, reproducing SQLite: a column's
 * affinity converts the constant (numeric text next to a number column, numbers
 * next to a text column); without affinity mixed types order numbers before text.
 */
function pgCompareConst(op: CompareOp, a: ValueExpr, k: { value: Const; integer?: boolean }): Sql {
  const ops = sql(pgOp(op));
  const c = k.value;
  if (c === null) return op === '!=' ? fmt`(${a.sql} IS NOT NULL)` : sql('NULL');
  switch (a.kind) {
    case 'number':
    case 'bool': {
      const n = typeof c === 'number' ? c : a.affinity ? numericText(c) : null;
      if (n === null) return pgConstResult(mixedOrder(op, true), a, op);
      if (a.kind === 'bool') {
        if ((op === '=' || op === '!=') && (n === 0 || n === 1)) return fmt`(${a.sql} ${ops} ${pgParam(n === 1 ? 'true' : 'false', 'bool')})`;
        return fmt`((${a.sql})::int ${ops} ${pgParam(n, 'number')})`;
      }
      return fmt`(${a.sql} ${ops} ${pgParam(n, 'number')})`;
    }
    case 'date': {
      const text = constText(k)!;
      if (text === '') return fmt`(${a.sql} ${ops} '-infinity'::timestamptz)`;
      const parsed = parseDate(text);
      if (parsed && formatDate(parsed) === text) return fmt`(${a.sql} ${ops} ${pgParam(text, 'date')})`;
      return fmt`(${pgText(a)}${sql(collate(op))} ${ops} ${pgParam(text, 'text')})`;
    }
    case 'jsonpath': {
      const eq = op === '!=' ? '=' : op;
      const inner =
        typeof c === 'number'
          ? fmt`(CASE ${pgJsonClass(a)} WHEN 'n' THEN ${pgJsonNumber(a)} ${sql(eq)} ${pgParam(c, 'number')} WHEN 't' THEN ${sql(mixedOrder(eq, false) ? 'TRUE' : 'FALSE')} END)`
          : fmt`(CASE ${pgJsonClass(a)} WHEN 't' THEN ${pgText(a)}${sql(collate(eq))} ${sql(eq)} ${pgParam(c, 'text')} WHEN 'n' THEN ${sql(mixedOrder(eq, true) ? 'TRUE' : 'FALSE')} END)`;
      return op === '!=' ? fmt`(NOT COALESCE(${inner}, FALSE))` : inner;
    }
    case 'json':
    case 'text':
    case 'null': {
      if (typeof c === 'number' && !a.affinity && a.kind !== 'json') return pgConstResult(mixedOrder(op, false), a, op);
      const text = typeof c === 'number' ? (a.kind === 'json' ? String(c) : constText(k)!) : c;
      return fmt`(${pgText(a)}${sql(collate(op))} ${ops} ${pgParam(text, 'text')})`;
    }
  }
}

/** SQLite's "looks like a number" as a PostgreSQL regex, written without `?` (the runner's placeholder). */
const NUMERIC_TEXT_RE = String.raw`^\s*[+-]{0,1}(\d+\.{0,1}\d*|\.\d+)([eE][+-]{0,1}\d+){0,1}\s*$`;

/** Two non-constant values of different kinds, with SQLite's affinity rules. */
function pgCompareMixed(op: CompareOp, a: ValueExpr, b: ValueExpr): Sql {
  const ops = sql(pgOp(op));
  const isNum = (v: ValueExpr) => v.kind === 'number' || v.kind === 'bool';
  const num = (v: ValueExpr) => (v.kind === 'bool' ? fmt`(${v.sql})::int` : v.sql);
  if (isNum(a) && isNum(b)) return fmt`(${num(a)} ${ops} ${num(b)})`;
  if (isNum(a) !== isNum(b)) {
    const [n, t, numberOnLeft] = isNum(a) ? [a, b, true] : [b, a, false];
    const flipOp = numberOnLeft ? op : flip(op);
    if (t.kind === 'jsonpath') {
      // json_extract yields a number for JSON numbers and booleans, text for the rest.
      const mixed = sql(mixedOrder(flipOp, true) ? 'TRUE' : 'FALSE');
      const absent = flipOp === '!=' ? fmt`(${n.sql} IS NOT NULL)` : sql('NULL');
      const text = pgText(t);
      // A number column's NUMERIC affinity converts numeric-looking JSON text too.
      const asText = n.affinity ? fmt`(CASE WHEN ${text} ~ '${sql(NUMERIC_TEXT_RE)}' THEN ${num(n)} ${sql(pgOp(flipOp))} (${text})::float8 ELSE ${mixed} END)` : mixed;
      return fmt`(CASE ${pgJsonClass(t)} WHEN 'n' THEN ${num(n)} ${sql(pgOp(flipOp))} ${pgJsonNumber(t)} WHEN 't' THEN (CASE WHEN ${n.sql} IS NULL THEN ${flipOp === '!=' ? sql('TRUE') : sql('NULL')} ELSE ${asText} END) ELSE ${absent} END)`;
    }
    if (n.affinity) {
      // NUMERIC affinity converts numeric-looking text; other text stays text (numbers sort first).
      const text = pgText(t);
      const mixed = sql(mixedOrder(flipOp, true) ? 'TRUE' : 'FALSE');
      return fmt`(CASE WHEN ${n.sql} IS NULL OR ${text} IS NULL THEN NULL WHEN ${text} ~ '${sql(NUMERIC_TEXT_RE)}' THEN ${num(n)} ${sql(pgOp(flipOp))} (${text})::float8 ELSE ${mixed} END)`;
    }
    if (!t.affinity) {
      const mixed = sql(mixedOrder(flipOp, true) ? 'TRUE' : 'FALSE');
      return fmt`(CASE WHEN ${n.sql} IS NULL OR ${t.sql} IS NULL THEN NULL ELSE ${mixed} END)`;
    }
  }
  return fmt`(${pgText(a)}${sql(collate(op))} ${ops} ${pgText(b)})`;
}

export const postgresQueryDialect: QueryDialect = {
  name: 'postgres',
  param: pgParam,
  compare(op, a, b) {
    if (b.constant && !a.constant) return pgCompareConst(op, a, b.constant);
    if (a.constant && !b.constant) return pgCompareConst(flip(op), b, a.constant);
    const ops = sql(pgOp(op));
    if (a.kind === b.kind && a.kind !== 'jsonpath' && a.kind !== 'json') return fmt`(${a.sql}${sql(a.kind === 'text' ? collate(op) : '')} ${ops} ${b.sql})`;
    return pgCompareMixed(op, a, b);
  },
  text: pgText,
  lower: (v) => fmt`translate(${pgText(v)}, '${sql(ASCII_UPPER)}', '${sql(ASCII_LOWER)}')`,
  equalsNocase: (column, value) =>
    // Both sides folded under "C" (ASCII only), the column's collation, so its lower() index serves it.
    fmt`(lower(${column}) = lower(${value} COLLATE "C") AND translate(${column}, '${sql(ASCII_UPPER)}', '${sql(ASCII_LOWER)}') = translate(${value}, '${sql(ASCII_UPPER)}', '${sql(ASCII_LOWER)}'))`,
  like(a, b, negate) {
    const not = negate ? 'NOT ' : '';
    const left = fmt`translate(${pgText(a)}, '${sql(ASCII_UPPER)}', '${sql(ASCII_LOWER)}')`;
    if (b.constant) {
      const text = constText(b.constant);
      if (text === null) return sql('NULL');
      return fmt`(${left} ${sql(not)}LIKE ${pgParam(lowerAscii(text), 'text')} ESCAPE '\\')`;
    }
    return fmt`(${left} ${sql(not)}LIKE ('%' || translate(${pgText(b)}, '${sql(ASCII_UPPER)}', '${sql(ASCII_LOWER)}') || '%') ESCAPE '\\')`;
  },
  jsonPath(column, path) {
    return { sql: fmt`(${column} #> ${sql('?::text[]', [path])})`, kind: 'jsonpath', nullSafe: true };
  },
  jsonLength: (column) => fmt`(CASE WHEN jsonb_typeof(${column}) = 'array' THEN jsonb_array_length(${column}) ELSE 0 END)`,
  jsonEach: (column, alias) =>
    fmt`jsonb_array_elements_text(CASE WHEN jsonb_typeof(${column}) = 'array' THEN ${column} ELSE '[]'::jsonb END) AS ${sql(alias)}(value)`,
  jsonEachParam: (json, alias) => sql(`jsonb_array_elements_text(?::jsonb) AS ${alias}(value)`, [json]),
  jsonArrayText: (column) =>
    fmt`(SELECT COALESCE('[' || string_agg(to_json(e.v)::text, ',' ORDER BY e.o) || ']', '[]') FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(${column}) = 'array' THEN ${column} ELSE '[]'::jsonb END) WITH ORDINALITY AS e(v, o))`,
  aggregateJsonText: (value, from, orderBy) =>
    fmt`(SELECT COALESCE('[' || string_agg(to_json(${sql(value)})::text, ',' ORDER BY ${sql(orderBy)}) || ']', '[]') FROM ${from})`,
  random: () => 'random()',
  lateral: 'LEFT JOIN LATERAL',
  bool: (b) => (b ? 'TRUE' : 'FALSE'),
  orderBy(v, desc) {
    // SQLite puts NULLs first ascending; PostgreSQL last. A value that is never NULL needs no
    // NULLS clause, which would keep an index on the column from serving the order.
    const dir = sql(v.notNull ? (desc ? 'DESC' : 'ASC') : desc ? 'DESC NULLS LAST' : 'ASC NULLS FIRST');
    if (v.kind === 'jsonpath') return [fmt`${pgJsonClass(v)} ${dir}`, fmt`${pgJsonNumber(v)} ${dir}`, fmt`${pgText(v)} COLLATE "C" ${dir}`];
    if (v.kind === 'json') return pgJsonColumnOrder(v, dir);
    // Galley's text columns are COLLATE "C" themselves (db/dialects/postgres.ts): their indexes serve this.
    if (v.kind === 'text') return [fmt`${pgText(v)} COLLATE "C" ${dir}`];
    return [fmt`${v.sql} ${dir}`];
  },
  extreme(v, from, desc) {
    const present = v.kind === 'jsonpath' ? fmt`${pgJsonClass(v)} IS NOT NULL` : fmt`${v.sql} IS NOT NULL`;
    return fmt`(SELECT ${v.sql} FROM ${from} WHERE ${present} ORDER BY ${joinSql(postgresQueryDialect.orderBy(v, desc), ', ')} LIMIT 1)`;
  },
};

export function queryDialect(name: 'sqlite' | 'postgres'): QueryDialect {
  return name === 'sqlite' ? sqliteQueryDialect : postgresQueryDialect;
}
