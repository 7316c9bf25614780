/**
 * Several nodes starting at once on a fresh database (issue 9, item 5): everything a start creates
 * (migrations, Galley's own tables) happens under the migration lock, so every node comes up.
 * Before the fix the system tables were created with `CREATE TABLE IF NOT EXISTS` after the
 * migration, outside the lock, and PostgreSQL failed some of the starts with a duplicate
 * `pg_type` entry.
 *
 * The race is timing-dependent, so on PostgreSQL the start sequence of `serve` (migrateForServe)
 * runs many times in one process with five connections at once; on both engines, real processes
 * are then started together.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateForServe, type App } from '../../src/app.js';
import { connectDatabase } from '../../src/db/index.js';
import { loadCollections } from '../../src/schema/index.js';
import { EXAMPLE_COLLECTIONS } from '../helpers/app.js';
import { startServe, type ServeHandle } from '../helpers/cli.js';
import { DIALECTS, freshDatabase, PG_URL, type TestDatabase } from '../helpers/dialects.js';

const NODES = 5;
const ROUNDS = 15;

// In one process only PostgreSQL can host several nodes' connections: SQLite's single writer makes
// a second in-process connection wait synchronously on the first (the process rounds cover SQLite).
describe.runIf(PG_URL)('the start sequence of several nodes at once (postgres, in process)', () => {
  it(`the start sequence of ${NODES} nodes at once succeeds everywhere, ${ROUNDS} rounds`, async () => {
    const schema = await loadCollections(EXAMPLE_COLLECTIONS);
    const log = pino({ level: 'silent' });
    for (let round = 1; round <= ROUNDS; round++) {
      const db = await freshDatabase('postgres');
      const apps: App[] = Array.from({ length: NODES }, () => ({ config: {} as App['config'], log, db: connectDatabase(db.url), schema, plugins: [], records: null as unknown as App['records'] }));
      try {
        const results = await Promise.allSettled(apps.map((app) => migrateForServe(app)));
        const failed = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
        expect(failed, `round ${round}`).toEqual([]);
      } finally {
        await Promise.all(apps.map((app) => app.db.close()));
        await db.drop();
      }
    }
  }, 240_000);
});

describe.each(DIALECTS)('several serve processes starting together on a fresh database (%s)', (dialect) => {
  let db: TestDatabase | undefined;
  let dir: string | undefined;
  let servers: PromiseSettledResult<ServeHandle>[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((n) => (n.status === 'fulfilled' ? n.value.stop() : null)));
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    [db, dir, servers] = [undefined, undefined, []];
  });

  it('three processes come up and serve', async () => {
    db = await freshDatabase(dialect);
    dir = mkdtempSync(join(tmpdir(), 'galley-nodes-'));
    const env = { DATABASE_URL: db.url, GALLEY_COLLECTIONS: EXAMPLE_COLLECTIONS, GALLEY_DATA: dir, GALLEY_RATE_LIMIT_AUTH_IP: '0' };
    servers = await Promise.allSettled(Array.from({ length: 3 }, () => startServe({ cwd: dir, env, timeoutMs: 120_000 })));
    const failed = servers.flatMap((n) => (n.status === 'rejected' ? [String((n.reason as Error).message).slice(0, 2000)] : []));
    expect(failed).toEqual([]);
    for (const n of servers) expect((await fetch(`${(n as PromiseFulfilledResult<ServeHandle>).value.url}/api/collections/posts/records`)).status).toBe(200);
  }, 180_000);
});
