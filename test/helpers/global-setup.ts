import pg from 'pg';

/** Fails the whole run (not skips) when GALLEY_TEST_PG is set but PostgreSQL cannot be reached. */
export default async function setup(): Promise<void> {
  const url = process.env['GALLEY_TEST_PG'];
  if (!url) {
    console.log('[galley tests] GALLEY_TEST_PG is not set: PostgreSQL suites are skipped; database suites run on SQLite only.');
    return;
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(`GALLEY_TEST_PG is set (${url.replace(/:[^:@/]*@/, ':***@')}) but PostgreSQL is unreachable: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => {});
  }
  console.log('[galley tests] running database suites on SQLite and PostgreSQL');
}
