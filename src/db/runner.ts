import type Sqlite from 'better-sqlite3';
import { createRequire } from 'node:module';
import type pg from 'pg';
import { AppError } from '../errors/index.js';
import type { DialectName } from './dialects/dialect.js';
import { SqliteReaders } from './sqlite-readers.js';

const require = createRequire(import.meta.url);

/**
 * The drivers load with the first connection of their engine, so a SQLite deployment never loads
 * pg (~70 ms and ~10 MB at start) and a PostgreSQL one never loads better-sqlite3. Both are
 * CommonJS, so require() gives them synchronously.
 */
export const sqliteDriver = (): typeof Sqlite => require('better-sqlite3') as typeof Sqlite;
export const pgDriver = (): typeof pg => require('pg') as typeof pg;

export type Row = Record<string, unknown>;

/**
 * The records API's path to the database: raw parameterized SQL (`?` placeholders)
 * on a driver connection, without a query builder in between. Statements are
 * prepared once per SQL text (SQLite) or converted to `$n` once (PostgreSQL).
 */
export interface SqlRunner {
  readonly dialect: DialectName;
  all(text: string, values: readonly unknown[]): Promise<Row[]>;
  /**
   * A read that may be expensive (a list page, a count, an expand): on SQLite it runs on a reader
   * thread so the event loop stays free; inside a transaction, and on PostgreSQL, it is `all`.
   */
  read(text: string, values: readonly unknown[]): Promise<Row[]>;
  /** Executes a write; resolves to the number of affected rows. */
  run(text: string, values: readonly unknown[]): Promise<number>;
  /**
   * Runs `fn` in one transaction (one attempt; see isRetryableTransactionError for the errors worth
   * another); a nested call joins the outer one.
   */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Connections right now, for metrics (absent on a transaction's runner). */
  stats?(): PoolStats;
}

/** PostgreSQL: pg.Pool's counts. SQLite: its one connection, busy while a transaction holds it. */
export interface PoolStats {
  total: number;
  idle: number;
  /** Callers queued for a connection (PostgreSQL) or for the transaction lock (SQLite). */
  waiting: number;
}

const STATEMENT_CACHE_SIZE = 1000;

/** A Map that forgets its oldest entry past `max`. */
class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string, make: () => V): V {
    let value = this.map.get(key);
    if (value === undefined) {
      value = make();
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
      this.map.set(key, value);
    }
    return value;
  }
}

/** A FIFO lock: SQLite has one connection, so a transaction must keep other requests out until it ends. */
class Lock {
  private tail: Promise<void> = Promise.resolve();
  /** Acquirers not yet holding the lock. */
  waiting = 0;
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    this.waiting++;
    const ready = this.tail.then(() => {
      this.waiting--;
      return release;
    });
    this.tail = this.tail.then(() => next);
    return ready;
  }
}

/** Every SQLite connection Galley opens (knex's and the runner's) gets these. */
export function configureSqlite(conn: { pragma(sql: string, options?: { simple: boolean }): unknown }): void {
  // The busy timeout first: the pragmas below take locks and must wait for other processes.
  conn.pragma('busy_timeout = 30000');
  enableWal(conn);
  conn.pragma('foreign_keys = ON');
  conn.pragma('synchronous = NORMAL');
}

const WAL_ATTEMPTS = 200;
const WAL_RETRY_MS = 25;

/**
 * Switching a fresh file to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once
 * (without the busy handler) when another process is doing the same, e.g. two `galley migrate`
 * started together. The mode is stored in the file, so once one of them wins the others see "wal".
 */
function enableWal(conn: { pragma(sql: string, options?: { simple: boolean }): unknown }): void {
  for (let attempt = 1; ; attempt++) {
    try {
      if (String(conn.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal') return;
      conn.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= WAL_ATTEMPTS) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, WAL_RETRY_MS);
    }
  }
}

/** PostgreSQL type OIDs whose text form Galley parses itself (dates keep PocketBase's format, -infinity stays zero). */
const TIMESTAMPTZ_OID = 1184;
const asText = (value: string) => value;
/** pg's own parsers, looked up once: pg asks for a parser per column of every result (~9 per query). */
let pgParsers: typeof pg.types | undefined;
export const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ_OID) return asText;
    return (pgParsers ??= pgDriver().types).getTypeParser(oid, format as 'text');
  },
};

export interface RunnerOptions {
  /** A statement (PostgreSQL) or an off-loop read (SQLite) running longer is cut off with a 503; 0 = no limit. */
  queryTimeoutMs?: number;
  /** SQLite: reader threads for `read`; 0 = reads run on the main connection. */
  sqliteReaders?: number;
}

export function sqliteRunner(file: string, options: RunnerOptions = {}): SqlRunner {
  const Driver = sqliteDriver();
  const db = new Driver(file);
  configureSqlite(db);
  const readers = options.sqliteReaders ? new SqliteReaders(file, options.sqliteReaders, options.queryTimeoutMs ?? 0) : null;
  const statements = new BoundedCache<Sqlite.Statement>(STATEMENT_CACHE_SIZE);
  const lock = new Lock();
  let inTransaction = false;
  const prepare = (text: string) => statements.get(text, () => db.prepare(text));
  const exec = {
    all: (text: string, values: readonly unknown[]) => {
      const stmt = prepare(text);
      return stmt.reader ? (stmt.all(...values) as Row[]) : (stmt.run(...values), []);
    },
    run: (text: string, values: readonly unknown[]) => {
      const stmt = prepare(text);
      return stmt.reader ? stmt.all(...values).length : stmt.run(...values).changes;
    },
  };
  const txAll = async (text: string, values: readonly unknown[]) => exec.all(text, values);
  const txRunner: SqlRunner = {
    dialect: 'sqlite',
    all: txAll,
    read: txAll,
    run: async (text, values) => exec.run(text, values),
    transaction: (fn) => fn(txRunner),
    close: async () => {},
  };
  const outside = async <T>(fn: () => T): Promise<T> => {
    if (!inTransaction) return fn();
    const release = await lock.acquire();
    try {
      return fn();
    } finally {
      release();
    }
  };
  const all = (text: string, values: readonly unknown[]) => outside(() => exec.all(text, values));
  return {
    dialect: 'sqlite',
    all,
    read: readers ? (text, values) => readers.all(text, values) : all,
    run: (text, values) => outside(() => exec.run(text, values)),
    async transaction(fn) {
      const release = await lock.acquire();
      inTransaction = true;
      try {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(txRunner);
          db.exec('COMMIT');
          return result;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      } finally {
        inTransaction = false;
        release();
      }
    },
    close: async () => {
      await readers?.close();
      db.close();
    },
    stats: () => ({ total: 1, idle: inTransaction ? 0 : 1, waiting: lock.waiting }),
  };
}

/** `?` placeholders → `$1..$n` (the compiler never puts a literal `?` in SQL text). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** Session settings from the first statement (a SET on connect would race the first query). */
function withSessionSettings(url: string, queryTimeoutMs: number): string {
  const u = new URL(url);
  const options = u.searchParams.get('options') ?? '';
  // JIT compiles the large generated filters for seconds before running them in milliseconds.
  const timeout = queryTimeoutMs > 0 ? ` -c statement_timeout=${queryTimeoutMs}` : '';
  u.searchParams.set('options', `${options} -c TimeZone=UTC -c jit=off${timeout}`.trim());
  return u.toString();
}

export function postgresRunner(url: string, poolMax: number, options: RunnerOptions = {}): SqlRunner {
  const pool = new (pgDriver().Pool)({
    connectionString: withSessionSettings(url, options.queryTimeoutMs ?? 0),
    max: poolMax,
    types: pgTypes,
  });
  // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const texts = new BoundedCache<string>(STATEMENT_CACHE_SIZE);
  const convert = (text: string) => texts.get(text, () => numbered(text));
  const query = async (q: { query: pg.Pool['query'] }, text: string, values: readonly unknown[]) => {
    try {
      return await q.query(convert(text), values as unknown[]);
    } catch (err) {
      throw asValueError(err);
    }
  };
  const over = (q: { query: pg.Pool['query'] }): Pick<SqlRunner, 'all' | 'read' | 'run'> => {
    const all = async (text: string, values: readonly unknown[]) => (await query(q, text, values)).rows as Row[];
    return { all, read: all, run: async (text, values) => (await query(q, text, values)).rowCount ?? 0 };
  };
  return {
    dialect: 'postgres',
    ...over(pool),
    transaction: runTransaction,
    close: () => pool.end(),
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };

  async function runTransaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    const tx: SqlRunner = { dialect: 'postgres', ...over(client as unknown as { query: pg.Pool['query'] }), transaction: (inner) => inner(tx), close: async () => {} };
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}

/**
 * PostgreSQL aborted the transaction to break a deadlock (40P01) or a serialization conflict
 * (40001): running the whole transaction again can succeed. Only the caller knows how to undo what
 * an attempt did outside the database, so the retry loop is the caller's (records/session.ts).
 */
export function isRetryableTransactionError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * PostgreSQL refuses some values SQLite stores (a NUL character in text, an
 * out-of-range date): SQLSTATE class 22 is bad input, a 400 — never a 500.
 */
function asValueError(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  // 57014 query_canceled: statement_timeout (GALLEY_QUERY_TIMEOUT_MS) cut the query off.
  if (e.code === '57014') return new AppError('query_timeout', undefined, {}, { cause: err });
  if (typeof e.code !== 'string' || !e.code.startsWith('22')) return err;
  // The driver's text stays in the log (cause); the client gets a stable sentence.
  return new AppError('bad_request', 'A value in this request cannot be stored or compared by the database (for example a NUL character, or a date out of range).', {}, { cause: err });
}
