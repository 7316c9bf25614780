/**
 * SQL fragments with positional `?` parameters. Values never enter the text:
 * every literal from a filter, a rule or a request is a parameter, and
 * identifiers come only from the schema (quoted by `ident`).
 */
export interface Sql {
  text: string;
  values: unknown[];
}

export function sql(text: string, values: unknown[] = []): Sql {
  return { text, values };
}

/** Concatenates fragments with a separator, keeping parameters in order. */
export function joinSql(parts: readonly Sql[], separator: string): Sql {
  return { text: parts.map((p) => p.text).join(separator), values: parts.flatMap((p) => p.values) };
}

/**
 * Template tag: `fmt\`${a} = ${b}\`` where each interpolation is a Sql fragment.
 * @example fmt`(${left} OR ${right})`
 */
export function fmt(strings: TemplateStringsArray, ...parts: Sql[]): Sql {
  let text = strings[0]!;
  const values: unknown[] = [];
  parts.forEach((part, i) => {
    text += part.text + strings[i + 1]!;
    values.push(...part.values);
  });
  return { text, values };
}

/** A double-quoted identifier (valid on SQLite and PostgreSQL); names come from the schema only. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Up to this many values are inlined as `IN (?, ?, …)`; longer lists travel as one parameter. */
const INLINE_LIST_MAX = 500;

/**
 * `expr IN (values)` for a list of any length: SQLite allows 32,766 parameters per statement and
 * PostgreSQL 65,535, so a long list (the ids of a large relation) is passed as one JSON text
 * (SQLite `json_each`) or one array (PostgreSQL `= ANY`), both served by the column's index.
 */
export function inList(expr: string, values: readonly string[], dialect: 'sqlite' | 'postgres'): Sql {
  if (values.length === 0) return sql('1 = 0');
  if (values.length <= INLINE_LIST_MAX) return sql(`${expr} IN (${values.map(() => '?').join(', ')})`, [...values]);
  return dialect === 'postgres' ? sql(`${expr} = ANY(?::text[])`, [[...values]]) : sql(`${expr} IN (SELECT "value" FROM json_each(?))`, [JSON.stringify(values)]);
}
