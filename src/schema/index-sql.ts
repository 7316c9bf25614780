/**
 * Parses PocketBase's index definitions (`CREATE [UNIQUE] INDEX ... ON t (cols) [WHERE ...]`,
 * SQLite dialect) into a portable form each database dialect can render.
 */
export interface IndexColumn {
  /** A column name, or for an expression index the raw expression text. */
  name: string;
  collate?: string;
  order?: 'ASC' | 'DESC';
}

export interface IndexDef {
  name: string;
  unique: boolean;
  table: string;
  columns: IndexColumn[];
  /** The WHERE clause as tokens, re-quoted per dialect when rendered. */
  where?: SqlToken[];
}

export type SqlToken = { kind: 'ident' | 'string' | 'number' | 'op' | 'word'; text: string };

export class IndexSyntaxError extends Error {}

const HEAD_RE = /^\s*CREATE\s+(UNIQUE\s+)?INDEX\b\s*(IF\s+NOT\s+EXISTS\s+)?/i;

export function parseIndex(sql: string): IndexDef {
  const head = HEAD_RE.exec(sql);
  if (!head) throw new IndexSyntaxError('must start with CREATE [UNIQUE] INDEX');
  const tokens = tokenizeSql(sql.slice(head[0].length));
  let i = 0;
  const take = () => tokens[i++];
  const name = take();
  if (!name || (name.kind !== 'ident' && name.kind !== 'word') || (name.kind === 'word' && name.text.toUpperCase() === 'ON')) {
    throw new IndexSyntaxError('missing index name');
  }
  if (take()?.text.toUpperCase() !== 'ON') throw new IndexSyntaxError('expected ON after the index name');
  const table = take();
  if (!table || (table.kind !== 'ident' && table.kind !== 'word')) throw new IndexSyntaxError('missing table name');
  if (take()?.text !== '(') throw new IndexSyntaxError('expected "(" after the table name');
  const columns: IndexColumn[] = [];
  for (;;) {
    const { column, next } = parseColumn(tokens, i);
    columns.push(column);
    i = next;
    const sep = take();
    if (sep?.text === ')') break;
    if (sep?.text !== ',') throw new IndexSyntaxError('expected "," or ")" in the column list');
  }
  // One statement only: a ";" may end it, never separate a second one.
  let end = tokens.length;
  while (end > i && tokens[end - 1]!.kind === 'op' && tokens[end - 1]!.text === ';') end--;
  const rest = tokens.slice(i, end);
  const def: IndexDef = { name: name.text, unique: Boolean(head[1]), table: table.text, columns };
  if (rest.length === 0) return def;
  if (rest[0]!.kind !== 'word' || rest[0]!.text.toUpperCase() !== 'WHERE') throw new IndexSyntaxError(`unexpected "${rest[0]!.text}" after the column list`);
  if (rest.length < 2) throw new IndexSyntaxError('missing condition after WHERE');
  const semicolon = rest.find((t) => t.kind === 'op' && t.text === ';');
  if (semicolon) throw new IndexSyntaxError('unexpected ";" inside the WHERE clause (one statement only)');
  return { ...def, where: rest.slice(1) };
}

function parseColumn(tokens: SqlToken[], start: number): { column: IndexColumn; next: number } {
  const first = tokens[start];
  if (!first || (first.kind !== 'ident' && first.kind !== 'word')) throw new IndexSyntaxError('expected a column name');
  const column: IndexColumn = { name: first.text };
  let i = start + 1;
  if (first.kind === 'word' && tokens[i]?.text === '(') throw new IndexSyntaxError(`expression columns are not supported ("${first.text}(...)"); index plain columns`);
  for (;;) {
    const word = tokens[i]?.text.toUpperCase();
    if (word === 'COLLATE') {
      const collation = tokens[i + 1];
      if (!collation || (collation.kind !== 'word' && collation.kind !== 'ident')) throw new IndexSyntaxError('missing collation name after COLLATE');
      column.collate = collation.text.toUpperCase();
      i += 2;
    } else if (word === 'ASC' || word === 'DESC') {
      column.order = word;
      i += 1;
    } else {
      return { column, next: i };
    }
  }
}

/** A small SQL tokenizer: quoted identifiers (`x`, "x", [x]), strings, numbers, words, operators. */
export function tokenizeSql(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const closer = c === '`' ? '`' : c === '"' ? '"' : c === '[' ? ']' : null;
    if (closer) {
      const end = sql.indexOf(closer, i + 1);
      if (end < 0) throw new IndexSyntaxError(`unterminated identifier ${c}`);
      tokens.push({ kind: 'ident', text: sql.slice(i + 1, end) });
      i = end + 1;
    } else if (c === "'") {
      let j = i + 1;
      let text = '';
      for (; j < sql.length; j++) {
        if (sql[j] === "'" && sql[j + 1] === "'") { text += "'"; j++; continue; }
        if (sql[j] === "'") break;
        text += sql[j];
      }
      if (j >= sql.length) throw new IndexSyntaxError('unterminated string');
      tokens.push({ kind: 'string', text });
      i = j + 1;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(sql.slice(i))!;
      tokens.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i))!;
      tokens.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    } else {
      const m = /^(!=|<>|<=|>=|==|\|\||[=<>(),;+\-*/%.])/.exec(sql.slice(i));
      if (!m) throw new IndexSyntaxError(`unexpected character ${JSON.stringify(c)}`);
      tokens.push({ kind: 'op', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}
