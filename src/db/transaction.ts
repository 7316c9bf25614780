import type { Knex } from 'knex';
import type { Database } from './connect.js';
import type { Executor, Row } from './executor.js';
import type { SqlRunner } from './runner.js';

interface SqliteConnection {
  pragma(sql: string): unknown;
  exec(sql: string): void;
  prepare(sql: string): { reader: boolean; all(...params: unknown[]): Row[]; run(...params: unknown[]): unknown };
}

/**
 * Runs `fn` in the one transaction a migration needs, holding the engine's write lock:
 * SQLite `BEGIN IMMEDIATE` with foreign keys off (so table rebuilds cannot cascade),
 * PostgreSQL a transaction the dialect then locks with an advisory lock.
 * Throwing from `fn` rolls everything back.
 */
export async function inMigrationTransaction<T>(db: Database, fn: (exec: Executor) => Promise<T>): Promise<T> {
  return db.dialect === 'sqlite' ? sqliteTransaction(db.knex, fn) : db.knex.transaction((trx) => fn(knexExecutor(trx)));
}

export function knexExecutor(knex: Knex | Knex.Transaction): Executor {
  // knex reads every `?` as a binding, even inside string literals (a regex in a USING clause), and its pg
  // client numbers them ($1, $2) even when there are no bindings: without parameters, each `?` is escaped.
  const pg = (knex.client as { dialect?: string }).dialect === 'postgresql';
  const raw = (sql: string, params: unknown[]) =>
    params.length ? knex.raw(sql, params as Knex.RawBinding[]) : knex.raw(pg ? sql.replace(/(?<!\\)\?/g, '\\?') : sql);
  return {
    all: async (sql, params = []) => {
      const result = await raw(sql, params);
      return (Array.isArray(result) ? result : (result as { rows: Row[] }).rows) as Row[];
    },
    run: async (sql, params = []) => {
      await raw(sql, params);
    },
  };
}

/** The migration interface over the records API's runner (for read-only planning). */
export function runnerExecutor(runner: SqlRunner): Executor {
  return {
    all: (sql, params = []) => runner.all(sql, params),
    run: async (sql, params = []) => {
      await runner.run(sql, params);
    },
  };
}

async function sqliteTransaction<T>(knex: Knex, fn: (exec: Executor) => Promise<T>): Promise<T> {
  const client = knex.client as { acquireConnection(): Promise<SqliteConnection>; releaseConnection(c: SqliteConnection): Promise<void> };
  const conn = await client.acquireConnection();
  const exec: Executor = {
    all: async (sql, params = []) => {
      const stmt = conn.prepare(sql);
      if (stmt.reader) return stmt.all(...params.map(sqliteValue));
      stmt.run(...params.map(sqliteValue));
      return [];
    },
    run: async (sql, params = []) => {
      if (params.length === 0) conn.exec(sql);
      else conn.prepare(sql).run(...params.map(sqliteValue));
    },
  };
  try {
    conn.pragma('foreign_keys = OFF');
    conn.exec('BEGIN IMMEDIATE');
    try {
      const result = await fn(exec);
      const violations = conn.prepare('PRAGMA foreign_key_check').all();
      if (violations.length > 0) throw new Error(`foreign key check failed after migration: ${JSON.stringify(violations.slice(0, 3))}`);
      conn.exec('COMMIT');
      return result;
    } catch (err) {
      conn.exec('ROLLBACK');
      throw err;
    }
  } finally {
    conn.pragma('foreign_keys = ON');
    await client.releaseConnection(conn);
  }
}

function sqliteValue(value: unknown): unknown {
  return typeof value === 'boolean' ? Number(value) : value;
}
