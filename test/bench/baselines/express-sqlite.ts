/**
 * Baseline: Express 5 + better-sqlite3 (one connection with Galley's pragmas, prepared statements).
 * The list is two statements, the count and the page (one statement with `count(*) OVER ()` is ~8×
 * slower on SQLite: it materializes every matching row). Expand adds one
 * `IN (SELECT value FROM json_each(?))` query for the page's authors. See common.ts for the endpoints.
 */
import Database from 'better-sqlite3';
import { baselineEnv, serveBaseline, SQLITE_PRAGMAS, sqliteFile, type ArticleRow, type AuthorRow, type Store } from './common.js';

const { dbUrl } = baselineEnv();
const db = new Database(sqliteFile(dbUrl), { fileMustExist: true });
for (const pragma of SQLITE_PRAGMAS) db.pragma(pragma);

const ARTICLE = 'id, title, status, views, author, created, updated';

const getArticle = db.prepare<[string], ArticleRow>(`SELECT ${ARTICLE} FROM articles WHERE id = ?`);
const pages = new Map<string, Database.Statement<unknown[], ArticleRow>>();
const countWhere = db.prepare<[string, number], { total: number }>('SELECT count(*) AS total FROM articles WHERE status = ? AND views > ?');
const countAll = db.prepare<[], { total: number }>('SELECT count(*) AS total FROM articles');
const authorsByIds = db.prepare<[string], AuthorRow>('SELECT id, name, email, created, updated FROM authors WHERE id IN (SELECT value FROM json_each(?))');
const insert = db.prepare<ArticleRow, ArticleRow>(
  `INSERT INTO articles (id, title, status, views, author, created, updated) VALUES (@id, @title, @status, @views, @author, @created, @updated) RETURNING ${ARTICLE}`,
);

function pageStatement(where: boolean, sort: boolean): Database.Statement<unknown[], ArticleRow> {
  const key = `${where}:${sort}`;
  let stmt = pages.get(key);
  if (!stmt) {
    let sql = `SELECT ${ARTICLE} FROM articles`;
    if (where) sql += ' WHERE status = ? AND views > ?';
    if (sort) sql += ' ORDER BY created DESC';
    stmt = db.prepare<unknown[], ArticleRow>(`${sql} LIMIT ? OFFSET ?`);
    pages.set(key, stmt);
  }
  return stmt;
}

const store: Store = {
  getArticle: async (id) => getArticle.get(id),
  async listArticles({ where, sortCreatedDesc, limit, offset }) {
    const total = (where ? countWhere.get(where.status, where.minViews) : countAll.get())!.total;
    const rows = pageStatement(Boolean(where), sortCreatedDesc).all(...(where ? [where.status, where.minViews, limit, offset] : [limit, offset]));
    return { rows, total };
  },
  authorsByIds: async (ids) => authorsByIds.all(JSON.stringify(ids)),
  createArticle: async (row) => insert.get(row)!,
  close: async () => void db.close(),
};

serveBaseline(store);
