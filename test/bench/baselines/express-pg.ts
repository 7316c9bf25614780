/**
 * Baseline: Express 5 + `pg` (a pg.Pool of `poolMax`, hand-written prepared statements).
 * The list is the page and the count, sent at once on two pooled connections (as Galley does). Expand
 * adds one `id = ANY($1)` query for the page's authors. PATCH is one conditional
 * `UPDATE … WHERE id = $n AND _galley_version = $m RETURNING …`. See common.ts for the endpoints.
 */
import pg from 'pg';
import { pgConnectionString, pgTypesWithDates, type ArticleRow, type AuthorRow, type Store } from './common.js';

export function createPgStore(dbUrl: string, poolMax: number): Store {
  const pool = new pg.Pool({ connectionString: pgConnectionString(dbUrl), max: poolMax, types: pgTypesWithDates(pg.types) });
  pool.on('error', (err) => console.error('pg pool error', err));

  const ARTICLE = 'id, title, status, views, author, created, updated';
  const VERSIONED = `${ARTICLE}, _galley_version`;
  const AUTHOR = 'id, name, email, created, updated';
  const UPDATABLE = ['title', 'status', 'views', 'author'] as const;

  return {
    async getArticle(id) {
      const { rows } = await pool.query<ArticleRow>({ name: 'get_article', text: `SELECT ${VERSIONED} FROM articles WHERE id = $1`, values: [id] });
      return rows[0];
    },
    async listArticles({ where, sortCreatedDesc, limit, offset, total }) {
      const values: unknown[] = where ? [where.status] : [];
      const cond = where ? ' WHERE status = $1' : '';
      const order = sortCreatedDesc ? ' ORDER BY created DESC' : '';
      const n = values.length;
      const [page, count] = await Promise.all([
        pool.query<ArticleRow>({ name: `page_${n}_${order ? 's' : ''}`, text: `SELECT ${ARTICLE} FROM articles${cond}${order} LIMIT $${n + 1} OFFSET $${n + 2}`, values: [...values, limit, offset] }),
        total ? pool.query<{ total: string }>({ name: `count_${n}`, text: `SELECT count(*) AS total FROM articles${cond}`, values }) : null,
      ]);
      return { rows: page.rows, total: count ? Number(count.rows[0]!.total) : null };
    },
    async authorsByIds(ids) {
      const { rows } = await pool.query<AuthorRow>({ name: 'authors_by_ids', text: `SELECT ${AUTHOR} FROM authors WHERE id = ANY($1)`, values: [ids] });
      return rows;
    },
    async createArticle(r) {
      const { rows } = await pool.query<ArticleRow>({
        name: 'create_article',
        text: `INSERT INTO articles (id, title, status, views, author, created, updated, _galley_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${VERSIONED}`,
        values: [r.id, r.title, r.status, r.views, r.author, r.created, r.updated, r._galley_version],
      });
      return rows[0]!;
    },
    async updateArticle(id, changes, expected) {
      const columns = UPDATABLE.filter((c) => c in changes);
      const values: unknown[] = columns.map((c) => changes[c]);
      const sets = columns.map((c, i) => `${c} = $${i + 1}`);
      values.push(changes.updated, id);
      sets.push(`updated = $${values.length - 1}`, '_galley_version = _galley_version + 1');
      let cond = `id = $${values.length}`;
      if (expected !== null) {
        values.push(expected);
        cond += ` AND _galley_version = $${values.length}`;
      }
      const { rows } = await pool.query<ArticleRow>({
        name: `update_${columns.join('_')}_${expected !== null}`,
        text: `UPDATE articles SET ${sets.join(', ')} WHERE ${cond} RETURNING ${VERSIONED}`,
        values,
      });
      return rows[0];
    },
    async articleExists(id) {
      const { rows } = await pool.query({ name: 'article_exists', text: 'SELECT 1 FROM articles WHERE id = $1', values: [id] });
      return rows.length > 0;
    },
    close: () => pool.end(),
  };
}
