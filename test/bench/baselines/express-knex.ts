/**
 * Baseline: Express 5 + the knex query builder, on PostgreSQL (pool of `poolMax`) or SQLite
 * (better-sqlite3, one connection with Galley's pragmas), chosen by the URL. Written the way knex
 * is usually written: the list is the count query, then the page query; expand a `whereIn`; PATCH a
 * conditional update with `returning`. See common.ts for the endpoints.
 */
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { pgConnectionString, pgTypesWithDates, SQLITE_PRAGMAS, sqliteFile, type ArticleRow, type AuthorRow, type Store } from './common.js';

export function createKnexStore(dbUrl: string, poolMax: number): Store {
  const isPg = /^postgres(ql)?:\/\//i.test(dbUrl);
  const knex: Knex = isPg
    ? knexFactory({ client: 'pg', connection: { connectionString: pgConnectionString(dbUrl), types: pgTypesWithDates(pg.types) } as Knex.PgConnectionConfig, pool: { min: 0, max: poolMax } })
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

  const ARTICLE = ['id', 'title', 'status', 'views', 'author', 'created', 'updated'];
  const VERSIONED = [...ARTICLE, '_galley_version'];
  const AUTHOR = ['id', 'name', 'email', 'created', 'updated'];

  return {
    async getArticle(id) {
      return (await knex('articles').select(VERSIONED).where('id', id).first()) as ArticleRow | undefined;
    },
    async listArticles({ where, sortCreatedDesc, limit, offset, total }) {
      const filtered = () => {
        const q = knex('articles');
        if (where) q.where('status', where.status);
        return q;
      };
      const count = total ? ((await filtered().count({ total: '*' }).first()) as { total: number | string } | undefined) : null;
      const page = filtered().select(ARTICLE).limit(limit).offset(offset);
      if (sortCreatedDesc) page.orderBy('created', 'desc');
      return { rows: (await page) as ArticleRow[], total: count ? Number(count.total) : null };
    },
    async authorsByIds(ids) {
      return (await knex('authors').select(AUTHOR).whereIn('id', ids)) as AuthorRow[];
    },
    async createArticle(r) {
      const rows = (await knex('articles').insert(r).returning(VERSIONED)) as ArticleRow[];
      return rows[0]!;
    },
    async updateArticle(id, changes, expected) {
      const q = knex('articles').where('id', id);
      if (expected !== null) q.andWhere('_galley_version', expected);
      const rows = (await q.update({ ...changes, _galley_version: knex.raw('?? + 1', ['_galley_version']) }).returning(VERSIONED)) as ArticleRow[];
      return rows[0];
    },
    async articleExists(id) {
      return (await knex('articles').select('id').where('id', id).first()) !== undefined;
    },
    close: () => knex.destroy(),
  };
}
