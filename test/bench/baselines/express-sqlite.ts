/**
 * Baseline: Express 5 + better-sqlite3 (one connection with Galley's pragmas, prepared statements).
 * The list is two statements, the page and the count (one statement with `count(*) OVER ()` is ~8×
 * slower on SQLite: it materializes every matching row). Expand adds one
 * `IN (SELECT value FROM json_each(?))` query for the page's authors. PATCH is one conditional
 * `UPDATE … WHERE id = ? AND _galley_version = ? RETURNING …`. See common.ts for the endpoints.
 */
import Database from 'better-sqlite3';
import { SQLITE_PRAGMAS, sqliteFile, type ArticleRow, type AuthorRow, type Store } from './common.js';

export function createSqliteStore(dbUrl: string): Store {
  const db = new Database(sqliteFile(dbUrl), { fileMustExist: true });
  for (const pragma of SQLITE_PRAGMAS) db.pragma(pragma);

  const ARTICLE = 'id, title, status, views, author, created, updated';
  const VERSIONED = `${ARTICLE}, _galley_version`;
  const UPDATABLE = ['title', 'status', 'views', 'author'] as const;
  const cache = new Map<string, Database.Statement<unknown[], ArticleRow>>();
  const statement = (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) cache.set(sql, (stmt = db.prepare<unknown[], ArticleRow>(sql)));
    return stmt;
  };

  const getArticle = db.prepare<[string], ArticleRow>(`SELECT ${VERSIONED} FROM articles WHERE id = ?`);
  const countWhere = db.prepare<[string], { total: number }>('SELECT count(*) AS total FROM articles WHERE status = ?');
  const countAll = db.prepare<[], { total: number }>('SELECT count(*) AS total FROM articles');
  const authorsByIds = db.prepare<[string], AuthorRow>('SELECT id, name, email, created, updated FROM authors WHERE id IN (SELECT value FROM json_each(?))');
  const insert = db.prepare<ArticleRow, ArticleRow>(
    `INSERT INTO articles (id, title, status, views, author, created, updated, _galley_version) VALUES (@id, @title, @status, @views, @author, @created, @updated, @_galley_version) RETURNING ${VERSIONED}`,
  );
  const exists = db.prepare<[string], { x: number }>('SELECT 1 AS x FROM articles WHERE id = ?');

  return {
    getArticle: async (id) => getArticle.get(id),
    async listArticles({ where, sortCreatedDesc, limit, offset, total }) {
      let sql = `SELECT ${ARTICLE} FROM articles`;
      if (where) sql += ' WHERE status = ?';
      if (sortCreatedDesc) sql += ' ORDER BY created DESC';
      const rows = statement(`${sql} LIMIT ? OFFSET ?`).all(...(where ? [where.status, limit, offset] : [limit, offset]));
      const count = total ? (where ? countWhere.get(where.status) : countAll.get())!.total : null;
      return { rows, total: count };
    },
    authorsByIds: async (ids) => authorsByIds.all(JSON.stringify(ids)),
    createArticle: async (row) => insert.get(row)!,
    async updateArticle(id, changes, expected) {
      const columns = UPDATABLE.filter((c) => c in changes);
      const sets = [...columns.map((c) => `${c} = ?`), 'updated = ?', '_galley_version = _galley_version + 1'];
      const values: unknown[] = [...columns.map((c) => changes[c]), changes.updated, id];
      if (expected !== null) values.push(expected);
      return statement(`UPDATE articles SET ${sets.join(', ')} WHERE id = ?${expected !== null ? ' AND _galley_version = ?' : ''} RETURNING ${VERSIONED}`).get(...values);
    },
    articleExists: async (id) => exists.get(id) !== undefined,
    close: async () => void db.close(),
  };
}
