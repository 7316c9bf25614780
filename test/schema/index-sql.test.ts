import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIndex, tokenizeSql, type IndexDef } from '../../src/schema/index.js';
import { IndexSyntaxError } from '../../src/schema/index-sql.js';

/** Real PocketBase exports shared between the engineers (both export generations carry `indexes`). */
const CORPUS = '/work/shared/corpus/pocketbase-schemas/';

function corpusIndexes(): { sql: string; collection: string }[] {
  const seen = new Map<string, string>();
  for (const name of readdirSync(CORPUS).filter((f) => f.endsWith('.json')).sort()) {
    const data = JSON.parse(readFileSync(CORPUS + name, 'utf8')) as { name: string; indexes?: string[] }[];
    for (const c of data) for (const sql of c.indexes ?? []) if (!seen.has(sql)) seen.set(sql, c.name);
  }
  return [...seen].map(([sql, collection]) => ({ sql, collection }));
}

const ident = (q: string) => new RegExp(`^[\`"[]?(\\w+)[\`"\\]]?$`).exec(q)?.[1] ?? q;

describe('parseIndex on every distinct index in the PocketBase corpus', () => {
  const indexes = corpusIndexes();

  it('finds a meaningful number of them', () => {
    expect(indexes.length).toBeGreaterThanOrEqual(60);
    expect(indexes.some((i) => /\bWHERE\b/.test(i.sql))).toBe(true);
    expect(indexes.some((i) => /COLLATE NOCASE/.test(i.sql))).toBe(true);
    expect(indexes.some((i) => i.sql.includes('\n'))).toBe(true);
  });

  it.each(indexes)('$sql', ({ sql, collection }) => {
    const def = parseIndex(sql);
    // An independent, regex-based reading of the head of the statement.
    const head = /^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\S+)\s+ON\s+(\S+)\s*\(/i.exec(sql)!;
    expect(head).not.toBeNull();
    expect(def.unique).toBe(Boolean(head[1]));
    expect(def.name).toBe(ident(head[2]!));
    expect(def.table).toBe(ident(head[3]!));
    expect(def.table.toLowerCase()).toBe(collection.toLowerCase());
    expect(def.columns.length).toBeGreaterThan(0);
    for (const col of def.columns) expect(col.name).toMatch(/^\w+$/);
    const columnText = sql.slice(sql.indexOf('(') + 1, sql.lastIndexOf(')'));
    expect(def.columns.map((c) => c.name)).toEqual(columnText.split(',').map((part) => ident(part.trim().split(/\s+/)[0]!)));
    expect(Boolean(def.where)).toBe(/\bWHERE\b/i.test(sql));
  });
});

describe('parseIndex forms', () => {
  const cases: [string, string, IndexDef][] = [
    ['plain', 'CREATE INDEX idx_a ON posts (a)', { name: 'idx_a', unique: false, table: 'posts', columns: [{ name: 'a' }] }],
    ['unique, backticks', 'CREATE UNIQUE INDEX `idx_a` ON `posts` (`a`)', { name: 'idx_a', unique: true, table: 'posts', columns: [{ name: 'a' }] }],
    ['lower case, double quotes and brackets', 'create unique index "idx_a" on [posts] ("a", [b])', { name: 'idx_a', unique: true, table: 'posts', columns: [{ name: 'a' }, { name: 'b' }] }],
    ['IF NOT EXISTS', 'CREATE INDEX IF NOT EXISTS idx_a ON posts (a)', { name: 'idx_a', unique: false, table: 'posts', columns: [{ name: 'a' }] }],
    ['UNIQUE IF NOT EXISTS', 'CREATE UNIQUE INDEX if not exists `idx_a` ON posts (a)', { name: 'idx_a', unique: true, table: 'posts', columns: [{ name: 'a' }] }],
    ['DESC and ASC', 'CREATE INDEX idx ON posts (status, publishedAt DESC, b asc)', { name: 'idx', unique: false, table: 'posts', columns: [{ name: 'status' }, { name: 'publishedAt', order: 'DESC' }, { name: 'b', order: 'ASC' }] }],
    ['COLLATE NOCASE', 'CREATE UNIQUE INDEX idx ON tags (`name` COLLATE nocase)', { name: 'idx', unique: true, table: 'tags', columns: [{ name: 'name', collate: 'NOCASE' }] }],
    ['COLLATE then DESC', 'CREATE INDEX idx ON tags (name COLLATE NOCASE DESC)', { name: 'idx', unique: false, table: 'tags', columns: [{ name: 'name', collate: 'NOCASE', order: 'DESC' }] }],
    ['multi-line with tabs and CRLF', 'CREATE INDEX `idx`\r\n\tON `t` (\r\n\t`a`,\n\t`b`\n)', { name: 'idx', unique: false, table: 't', columns: [{ name: 'a' }, { name: 'b' }] }],
    ['trailing semicolon', 'CREATE INDEX idx ON t (a);', { name: 'idx', unique: false, table: 't', columns: [{ name: 'a' }] }],
    [
      'WHERE with a string',
      "CREATE UNIQUE INDEX `idx_email` ON `users` (`email`) WHERE `email` != ''",
      { name: 'idx_email', unique: true, table: 'users', columns: [{ name: 'email' }], where: [{ kind: 'ident', text: 'email' }, { kind: 'op', text: '!=' }, { kind: 'string', text: '' }] },
    ],
    [
      'WHERE with AND, numbers and an escaped quote',
      "CREATE INDEX idx ON t (a) WHERE a > 1.5 AND b = 'it''s'",
      {
        name: 'idx',
        unique: false,
        table: 't',
        columns: [{ name: 'a' }],
        where: [
          { kind: 'word', text: 'a' },
          { kind: 'op', text: '>' },
          { kind: 'number', text: '1.5' },
          { kind: 'word', text: 'AND' },
          { kind: 'word', text: 'b' },
          { kind: 'op', text: '=' },
          { kind: 'string', text: "it's" },
        ],
      },
    ],
  ];
  it.each(cases)('%s', (_title, sql, def) => {
    expect(parseIndex(sql)).toEqual(def);
  });

  it('tokenizes quoted identifiers, strings, numbers, words and operators', () => {
    expect(tokenizeSql("`a b` \"c\" [d] 'e''f' 12 x_1 <> || ;")).toEqual([
      { kind: 'ident', text: 'a b' },
      { kind: 'ident', text: 'c' },
      { kind: 'ident', text: 'd' },
      { kind: 'string', text: "e'f" },
      { kind: 'number', text: '12' },
      { kind: 'word', text: 'x_1' },
      { kind: 'op', text: '<>' },
      { kind: 'op', text: '||' },
      { kind: 'op', text: ';' },
    ]);
  });
});

describe('parseIndex errors: exact messages', () => {
  const bad: [string, string][] = [
    ['', 'must start with CREATE [UNIQUE] INDEX'],
    ['CREATE TABLE t (a)', 'must start with CREATE [UNIQUE] INDEX'],
    ['CREATE INDX idx ON t (a)', 'must start with CREATE [UNIQUE] INDEX'],
    ['CREATE INDEX', 'missing index name'],
    ['CREATE INDEX ON t (a)', 'missing index name'],
    ['CREATE INDEX idx', 'expected ON after the index name'],
    ['CREATE INDEX idx t (a)', 'expected ON after the index name'],
    ['CREATE INDEX idx ON (a)', 'missing table name'],
    ['CREATE INDEX idx ON t a', 'expected "(" after the table name'],
    ['CREATE INDEX idx ON t', 'expected "(" after the table name'],
    ['CREATE INDEX idx ON t ()', 'expected a column name'],
    ['CREATE INDEX idx ON t (a,)', 'expected a column name'],
    ['CREATE INDEX idx ON t (a', 'expected "," or ")" in the column list'],
    ['CREATE INDEX idx ON t (a b)', 'expected "," or ")" in the column list'],
    ['CREATE INDEX idx ON t (a COLLATE)', 'missing collation name after COLLATE'],
    ['CREATE INDEX idx ON t (lower(a))', 'expression columns are not supported ("lower(...)"); index plain columns'],
    ['CREATE INDEX idx ON t (a) WHERE', 'missing condition after WHERE'],
    ['CREATE INDEX idx ON t (a) foo', 'unexpected "foo" after the column list'],
    ['CREATE INDEX idx ON t (a); DROP TABLE t', 'unexpected ";" after the column list'],
    ['CREATE INDEX idx ON t (a) WHERE a = 1; DROP TABLE t', 'unexpected ";" inside the WHERE clause (one statement only)'],
    ['CREATE INDEX `idx ON t (a)', 'unterminated identifier `'],
    ["CREATE INDEX idx ON t (a) WHERE a = 'x", 'unterminated string'],
    ['CREATE INDEX idx ON t (a) WHERE a = $1', 'unexpected character "$"'],
  ];
  it.each(bad)('%j', (sql, message) => {
    expect(() => parseIndex(sql)).toThrow(IndexSyntaxError);
    expect(() => parseIndex(sql)).toThrow(new Error(message));
  });
});
