import NodeSqlParser from 'node-sql-parser';

const parser = new NodeSqlParser.Parser();

export interface ViewQueryInfo {
  /** Table names the query reads, as written. */
  tables: string[];
}

/** Removes what SQLite tolerates at the end of a statement but a subquery cannot carry. */
export function trimViewQuery(sql: string): string {
  return sql.trim().replace(/;\s*$/, '').trim();
}

/** Checks a PocketBase view query (SQLite dialect): one SELECT; returns the tables it reads. */
export function inspectViewQuery(sql: string): ViewQueryInfo {
  const trimmed = trimViewQuery(sql);
  const ast = parser.astify(trimmed, { database: 'sqlite' });
  const statements = Array.isArray(ast) ? ast : [ast];
  if (statements.length !== 1 || statements[0]?.type !== 'select') throw new Error('must be a single SELECT statement');
  const tables = parser
    .tableList(trimmed, { database: 'sqlite' })
    .map((entry) => entry.split('::')[2] ?? '')
    .filter((name) => name !== '' && name !== 'null');
  return { tables: [...new Set(tables)] };
}
