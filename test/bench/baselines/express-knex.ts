/**
 * Baseline: Express 5 + knex query builder, on PostgreSQL (pool of BENCH_POOL_MAX) or SQLite
 * (better-sqlite3, one connection with Galley's pragmas), chosen by BENCH_DB_URL.
 * Written the way knex is usually written: the list is a count query, then the page query.
 * See common.ts for the endpoints.
 */
import knexFactory, { type Knex } from 'knex';
import { baselineEnv, pgDate, serveBaseline, SQLITE_PRAGMAS, sqliteFile, type ArticleRow, type AuthorRow, type Store } from './common.js';

const { dbUrl, poolMax } = baselineEnv();
const isPg = /^postgres(ql)?:\/\//i.test(dbUrl);

const knex: Knex = isPg
  ? knexFactory({ client: 'pg', connection: dbUrl, pool: { min: 0, max: poolMax } })
  : knexFactory({
      client: 'better-sqlite3',
      connection: { filename: sqliteFile(dbUrl) },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate: (conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
          for (const pragma of SQLITE_PRAGMAS) conn.pragma(pragma);
          done(null, conn);
        },
      },
    });

const date = (column: string) => (isPg ? knex.raw(`${pgDate(column)} AS ${column}`) : column);
const ARTICLE = ['id', 'title', 'status', 'views', 'author', date('created'), date('updated')];
const AUTHOR = ['id', 'name', 'email', date('created'), date('updated')];

const store: Store = {
  async getArticle(id) {
    return (await knex('articles').select(ARTICLE).where('id', id).first()) as ArticleRow | undefined;
  },
  async listArticles({ where, sortCreatedDesc, limit, offset }) {
    const filtered = () => {
      const q = knex('articles');
      if (where) q.where('status', where.status).andWhere('views', '>', where.minViews);
      return q;
    };
    const count = (await filtered().count({ total: '*' }).first()) as { total: number | string } | undefined;
    const page = filtered().select(ARTICLE).limit(limit).offset(offset);
    // Qualified: on PostgreSQL a bare `created` would name the to_char() output column.
    if (sortCreatedDesc) page.orderBy('articles.created', 'desc');
    return { rows: (await page) as ArticleRow[], total: Number(count?.total ?? 0) };
  },
  async authorsByIds(ids) {
    return (await knex('authors').select(AUTHOR).whereIn('id', ids)) as AuthorRow[];
  },
  async createArticle(r) {
    const rows = (await knex('articles').insert(r).returning(ARTICLE)) as ArticleRow[];
    return rows[0]!;
  },
  close: () => knex.destroy(),
};

serveBaseline(store);
