import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connectDatabase, type ConnectOptions, type Database, type DialectName } from '../../src/db/index.js';

/**
 * Every database suite runs once per dialect: SQLite always, PostgreSQL when
 * GALLEY_TEST_PG holds a URL (CI sets it; global-setup fails the run if it is unreachable).
 */
export const PG_URL = process.env['GALLEY_TEST_PG'] ?? '';
export const DIALECTS: DialectName[] = PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDatabase {
  dialect: DialectName;
  /** A URL other processes (the CLI) can open to reach the same database. */
  url: string;
  db: Database;
  /** Closes the pool and removes the database (file or schema). */
  drop(): Promise<void>;
}

/** A fresh, empty database: a new SQLite file, or a new PostgreSQL schema reached through search_path. */
export async function freshDatabase(dialect: DialectName, options: ConnectOptions = {}): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'galley-test-'));
    const url = `sqlite:${join(dir, 'data.db')}`;
    const db = connectDatabase(url, { sqliteReaders: 2, ...options }); // as `serve` runs it: list reads on reader threads
    return { dialect, url, db, drop: async () => { await db.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA "${schema}"`);
  const url = withSearchPath(PG_URL, schema);
  const db = connectDatabase(url, options);
  return {
    dialect,
    url,
    db,
    drop: async () => {
      await db.close();
      await adminQuery(`DROP SCHEMA "${schema}" CASCADE`);
    },
  };
}

export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
