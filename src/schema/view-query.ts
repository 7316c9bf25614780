import { createRequire } from 'node:module';

type SqlParser = InstanceType<(typeof import('node-sql-parser'))['Parser']>;

const require = createRequire(import.meta.url);
let parser: SqlParser | undefined;

/**
 * node-sql-parser (~0.3 s and ~40 MB to load) is loaded with the first view query, not at start:
 * most apps have no view collection. Synchronous (createRequire) because the schema checks are.
 */
export function sqlParser(): SqlParser {
  parser ??= new (require('node-sql-parser') as typeof import('node-sql-parser')).Parser();
  return parser;
}

export interface ViewQueryInfo {
  /** Table (collection or view) names the query reads, as written; the names of its own CTEs are not among them. */
  tables: string[];
}

/** Removes what SQLite tolerates at the end of a statement but a subquery cannot carry. */
export function trimViewQuery(sql: string): string {
  return sql.trim().replace(/;\s*$/, '').trim();
}

/**
 * Words node-sql-parser's SQLite grammar reserves that SQLite itself lets a query use as names
 * (`session`, `count`, `read`, ... are ordinary columns in PocketBase apps).
 */
const PARSER_ONLY_KEYWORDS = new Set([
  'CALL', 'CONTAINS', 'COUNT', 'CURRENT_USER', 'EXPLAIN', 'GENERATED', 'GLOBAL', 'LOCAL', 'LOW_PRIORITY', 'PERSIST', 'PERSIST_ONLY',
  'READ', 'RENAME', 'SESSION', 'SESSION_USER', 'SHOW', 'SYSTEM_USER', 'TRUNCATE', 'WRITE',
]);

/**
 * The query as node-sql-parser's SQLite grammar reads it, meaning what SQLite would:
 * - that grammar only knows window definitions that start with PARTITION BY, while PocketBase views
 *   commonly use `ROW_NUMBER() OVER ()` (and `OVER (ORDER BY ...)`): such a window gets
 *   `PARTITION BY NULL`, which means the same (one partition);
 * - a name the grammar reserves but SQLite does not (PARSER_ONLY_KEYWORDS) is quoted, unless it is
 *   called as a function (`COUNT(...)`).
 * Strings, quoted names and comments are left alone.
 */
export function parseableViewQuery(sql: string): string {
  const text = trimViewQuery(sql);
  let out = '';
  let i = 0;
  while (i < text.length) {
    const skipped = skipQuotedOrComment(text, i);
    if (skipped > i) {
      out += text.slice(i, skipped);
      i = skipped;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(text.slice(i))?.[0];
    if (!word) {
      out += text[i++];
      continue;
    }
    i += word.length;
    const calls = text[skipSpace(text, i)] === '(';
    out += PARSER_ONLY_KEYWORDS.has(word.toUpperCase()) && !calls ? `"${word}"` : word;
    if (word.toUpperCase() !== 'OVER') continue;
    const open = skipSpace(text, i);
    if (text[open] !== '(') continue;
    const next = skipSpace(text, open + 1);
    if (/^PARTITION\b/i.test(text.slice(next))) continue;
    out += text.slice(i, open + 1) + ' PARTITION BY NULL ';
    i = open + 1;
  }
  return out;
}

/** The index after a string literal, quoted identifier or comment starting at `i` (or `i`). */
function skipQuotedOrComment(text: string, i: number): number {
  const c = text[i];
  const close: Record<string, string> = { "'": "'", '"': '"', '`': '`', '[': ']' };
  if (c !== undefined && close[c]) {
    let j = i + 1;
    for (;;) {
      const end = text.indexOf(close[c]!, j);
      if (end < 0) return text.length;
      if (c !== '[' && text[end + 1] === c) {
        j = end + 2; // a doubled quote inside
        continue;
      }
      return end + 1;
    }
  }
  if (text.startsWith('--', i)) {
    const end = text.indexOf('\n', i);
    return end < 0 ? text.length : end + 1;
  }
  if (text.startsWith('/*', i)) {
    const end = text.indexOf('*/', i + 2);
    return end < 0 ? text.length : end + 2;
  }
  return i;
}

function skipSpace(text: string, i: number): number {
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    const skipped = text.startsWith('--', i) || text.startsWith('/*', i) ? skipQuotedOrComment(text, i) : i;
    if (skipped === i) return i;
    i = skipped;
  }
}

/** Checks a PocketBase view query (SQLite dialect): one SELECT; returns the tables it reads. */
export function inspectViewQuery(sql: string): ViewQueryInfo {
  const query = parseableViewQuery(sql);
  const ast = sqlParser().astify(query, { database: 'sqlite' });
  const statements = Array.isArray(ast) ? ast : [ast];
  const statement = statements[0] as { type?: string; with?: { name?: { value?: string } | string }[] | null } | undefined;
  if (statements.length !== 1 || statement?.type !== 'select') throw new Error('must be a single SELECT statement');
  const ctes = new Set((statement.with ?? []).map((w) => (typeof w.name === 'string' ? w.name : (w.name?.value ?? '')).toLowerCase()));
  const tables = sqlParser()
    .tableList(query, { database: 'sqlite' })
    .map((entry) => entry.split('::')[2] ?? '')
    .filter((name) => name !== '' && name !== 'null' && !ctes.has(name.toLowerCase()));
  return { tables: [...new Set(tables)] };
}

/** The collections a view query reads; empty when it does not parse (the cross-check reports that). */
export function viewQueryTables(sql: string): string[] {
  try {
    return inspectViewQuery(sql).tables;
  } catch {
    return [];
  }
}
