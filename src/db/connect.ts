import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DialectName } from './dialects/dialect.js';

export interface Database {
  knex: Knex;
  dialect: DialectName;
  /** The URL without its password, for logs. */
  safeUrl: string;
  close(): Promise<void>;
}

/** PostgreSQL type OIDs whose text form Galley parses itself (dates keep PocketBase's format, -infinity stays zero). */
const TIMESTAMPTZ_OID = 1184;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ_OID) return (value: string) => value;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export interface ConnectOptions {
  /** Largest pool size for PostgreSQL (SQLite always uses one connection). */
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
    return { knex, dialect: 'postgres', safeUrl: url.replace(/:[^:@/]*@/, ':***@'), close: () => knex.destroy() };
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
          conn.pragma('journal_mode = WAL');
          conn.pragma('foreign_keys = ON');
          conn.pragma('busy_timeout = 30000');
          conn.pragma('synchronous = NORMAL');
          done(null, conn);
        } catch (err) {
          done(err as Error, conn);
        }
      },
    },
  });
  return { knex, dialect: 'sqlite', safeUrl: `sqlite:${file}`, close: () => knex.destroy() };
}
