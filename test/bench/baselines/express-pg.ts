/**
 * Baseline: Express 5 + `pg` (a pg.Pool of BENCH_POOL_MAX, one hand-written SQL statement per query).
 * The list is the count and the page, sent at once on two pooled connections (one statement with
 * `count(*) OVER ()` costs ~2.5× the database time of both). Expand adds one `id = ANY($1)` query for
 * the page's authors. See common.ts for the endpoints.
 */
import pg from 'pg';
import { baselineEnv, pgDate, serveBaseline, type ArticleRow, type AuthorRow, type Store } from './common.js';

const { dbUrl, poolMax } = baselineEnv();
const pool = new pg.Pool({ connectionString: dbUrl, max: poolMax });
pool.on('error', (err) => console.error('pg pool error', err));

const ARTICLE = `id, title, status, views, author, ${pgDate('created')} AS created, ${pgDate('updated')} AS updated`;
const AUTHOR = `id, name, email, ${pgDate('created')} AS created, ${pgDate('updated')} AS updated`;

const store: Store = {
  async getArticle(id) {
    const { rows } = await pool.query<ArticleRow>({ name: 'get_article', text: `SELECT ${ARTICLE} FROM articles WHERE id = $1`, values: [id] });
    return rows[0];
  },
  async listArticles({ where, sortCreatedDesc, limit, offset }) {
    const values: unknown[] = where ? [where.status, where.minViews] : [];
    const cond = where ? ' WHERE status = $1 AND views > $2' : '';
    // Qualified: a bare `created` would name the to_char() output column and sort text.
    const order = sortCreatedDesc ? ' ORDER BY articles.created DESC' : '';
    const n = values.length;
    const [count, page] = await Promise.all([
      pool.query<{ total: string }>({ name: `count_${n}`, text: `SELECT count(*) AS total FROM articles${cond}`, values }),
      pool.query<ArticleRow>({ name: `page_${n}_${order ? 's' : ''}`, text: `SELECT ${ARTICLE} FROM articles${cond}${order} LIMIT $${n + 1} OFFSET $${n + 2}`, values: [...values, limit, offset] }),
    ]);
    return { rows: page.rows, total: Number(count.rows[0]!.total) };
  },
  async authorsByIds(ids) {
    const { rows } = await pool.query<AuthorRow>({ name: 'authors_by_ids', text: `SELECT ${AUTHOR} FROM authors WHERE id = ANY($1)`, values: [ids] });
    return rows;
  },
  async createArticle(r) {
    const { rows } = await pool.query<ArticleRow>({
      name: 'create_article',
      text: `INSERT INTO articles (id, title, status, views, author, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${ARTICLE}`,
      values: [r.id, r.title, r.status, r.views, r.author, r.created, r.updated],
    });
    return rows[0]!;
  },
  close: () => pool.end(),
};

serveBaseline(store);
