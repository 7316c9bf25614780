import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DialectName } from './dialects/dialect.js';
import { configureSqlite, pgTypes, postgresRunner, sqliteRunner, type RunnerOptions, type SqlRunner } from './runner.js';

export interface Database {
  knex: Knex;
  dialect: DialectName;
  /** The URL without its password, for logs. */
  safeUrl: string;
  /** The driver-level runner the records API uses (opened on first use, closed with the database). */
  runner(): SqlRunner;
  close(): Promise<void>;
}

/** Opens the runner once and closes it together with knex. */
function withRunner(base: Omit<Database, 'runner' | 'close'>, open: () => SqlRunner): Database {
  let runner: SqlRunner | null = null;
  return {
    ...base,
    runner: () => (runner ??= open()),
    close: async () => {
      await runner?.close();
      await base.knex.destroy();
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
    const knex = knexFactory({
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
    return withRunner({ knex, dialect: 'postgres', safeUrl: url.replace(/:[^:@/]*@/, ':***@') }, () => postgresRunner(url, options.poolMax ?? 10, options));
  }
  const file = url.replace(/^sqlite:(\/\/)?/i, '');
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const knex = knexFactory({
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
  return withRunner({ knex, dialect: 'sqlite', safeUrl: `sqlite:${file}` }, () => {
    if (file === ':memory:') throw new Error('the records API needs a SQLite file, not :memory:');
    return sqliteRunner(file, options);
  });
}
