import type { Knex, knex as knexFactory } from 'knex';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type pg from 'pg';
import type { DialectName } from './dialects/dialect.js';
import { configureSqlite, pgTypes, postgresRunner, sqliteRunner, type RunnerOptions, type SqlRunner } from './runner.js';

export interface Database {
  /**
   * knex, for migrations that change something (and for tests). Created, and the package loaded
   * (~0.1 s and ~15 MB), on first use: a start whose database is up to date never needs it.
   */
  readonly knex: Knex;
  dialect: DialectName;
  /** The URL without its password, for logs. */
  safeUrl: string;
  /** The driver-level runner the records API uses (opened on first use, closed with the database). */
  runner(): SqlRunner;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);

/** knex and the runner, each opened on first use and closed together. */
function database(base: { dialect: DialectName; safeUrl: string }, makeKnex: (factory: typeof knexFactory) => Knex, open: () => SqlRunner): Database {
  let knex: Knex | null = null;
  let runner: SqlRunner | null = null;
  return {
    ...base,
    get knex() {
      return (knex ??= makeKnex(require('knex') as typeof knexFactory));
    },
    runner: () => (runner ??= open()),
    close: async () => {
      await runner?.close();
      await knex?.destroy();
    },
  };
}

export interface ConnectOptions extends RunnerOptions {
  /** Largest pool size for PostgreSQL (SQLite always uses one connection, plus its reader threads). */
  poolMax?: number;
}

/**
 * Opens a database from a URL: `sqlite:<path>` (or a bare path / `:memory:`) or `postgres://...`.
 * SQLite gets WAL, foreign keys and a busy timeout on its connection.
 */
export function connectDatabase(url: string, options: ConnectOptions = {}): Database {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const pgKnex = (factory: typeof knexFactory) =>
      factory({
        client: 'pg',
        connection: { connectionString: url, types: pgTypes } as Knex.PgConnectionConfig,
        pool: {
          min: 0,
          max: options.poolMax ?? 10,
          afterCreate: (conn: pg.Client, done: (err: Error | null, conn: pg.Client) => void) => {
            conn.query("SET TIME ZONE 'UTC'", (err) => done(err, conn));
          },
        },
      });
    return database({ dialect: 'postgres', safeUrl: url.replace(/:[^:@/]*@/, ':***@') }, pgKnex, () => postgresRunner(url, options.poolMax ?? 10, options));
  }
  const file = url.replace(/^sqlite:(\/\/)?/i, '');
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqliteKnex = (factory: typeof knexFactory) =>
    factory({
      client: 'better-sqlite3',
      connection: { filename: file },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate: (conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
          try {
            configureSqlite(conn);
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    });
  return database({ dialect: 'sqlite', safeUrl: `sqlite:${file}` }, sqliteKnex, () => {
    if (file === ':memory:') throw new Error('the records API needs a SQLite file, not :memory:');
    return sqliteRunner(file, options);
  });
}
