import { join } from 'node:path';
import pg from 'pg';

/**
 * The benchmarks' databases: a SQLite file in the run's folder, or a PostgreSQL database of its
 * own (dropped and made anew, dropped again at the end unless kept), through an admin URL.
 */
export async function pgAdmin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Why PostgreSQL cannot be used (a message), or null. */
export async function pgReachable(adminUrl: string): Promise<string | null> {
  try {
    await pgAdmin(adminUrl, 'SELECT 1');
    return null;
  } catch (err) {
    return String((err as Error).message || err);
  }
}

/** A fresh database URL for `engine`; a cleanup is registered unless `keep`. */
export async function freshBenchDatabase(
  engine: 'sqlite' | 'postgres',
  options: { dataDir: string; adminUrl: string; name: string; keep: boolean; cleanups: (() => Promise<void>)[] },
): Promise<string> {
  if (engine === 'sqlite') return `sqlite:${join(options.dataDir, 'data.db')}`;
  const url = new URL(options.adminUrl);
  url.pathname = `/${options.name}`;
  const drop = () => pgAdmin(options.adminUrl, `DROP DATABASE IF EXISTS "${options.name}" WITH (FORCE)`);
  await drop();
  await pgAdmin(options.adminUrl, `CREATE DATABASE "${options.name}"`);
  if (!options.keep) options.cleanups.push(drop);
  return url.toString();
}
