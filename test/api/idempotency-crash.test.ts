/**
 * An Idempotency-Key and its write commit together (issue 9, item 4). Before the fix the key was
 * claimed in a statement of its own: a process that died between the claim and the write left a
 * claim without a reply, and every retry answered 409 `idempotency_in_progress` for 24 hours.
 *
 * - In process, both engines: while the write is held inside its transaction, another connection
 *   sees no claim; a crash-like failure there leaves nothing, and the retry performs the write.
 * - PostgreSQL, a real crash: the server process is killed with SIGKILL while its INSERT waits on a
 *   table lock; after a restart the retry with the same key creates the record once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WritePlugin } from '../../src/records/plugins.js';
import { createTestApp, EXAMPLE_COLLECTIONS, type TestApp } from '../helpers/app.js';
import { startServe, type ServeHandle } from '../helpers/cli.js';
import { DIALECTS, freshDatabase, PG_URL } from '../helpers/dialects.js';

type Json = Record<string, unknown>;

/** A stage probe: the first create of `users` stops in `prepare` until the test lets it go. */
function gate() {
  let arrived!: () => void;
  let release!: (err?: Error) => void;
  const reached = new Promise<void>((r) => (arrived = r));
  const released = new Promise<void>((resolve, reject) => (release = (err) => (err ? reject(err) : resolve())));
  let armed = true;
  const plugin: WritePlugin = {
    name: 'test-gate',
    handlersFor: (collection, action) =>
      collection.name === 'users' && action === 'create'
        ? {
            prepare: async () => {
              if (!armed) return;
              armed = false;
              arrived();
              await released;
            },
          }
        : null,
  };
  return { plugin, reached, release };
}

const signUp = (email: string) => ({ email, password: 'password123', passwordConfirm: 'password123', name: 'Crash' });

describe.each(DIALECTS)('Idempotency-Key claim and write commit together (%s)', (dialect) => {
  let t: TestApp;
  let base = '';
  const g = gate();

  beforeAll(async () => {
    t = await createTestApp(dialect, undefined, { plugins: [g.plugin] });
    base = await t.listen();
  });
  afterAll(async () => t?.close());

  const post = (key: string, body: Json) =>
    fetch(`${base}/api/collections/users/records`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key }, body: JSON.stringify(body) });

  it('leaves no claim behind when the write dies before its commit; the retry performs the write', async () => {
    const key = `crash-${dialect}`;
    const body = signUp(`crash-${dialect}@example.com`);
    const first = post(key, body);
    await g.reached;
    // Another connection (knex's own) sees only committed data: the claim is not there while the write is pending.
    expect(await t.app.db.knex('_galley_idempotency').where({ key }).count({ n: '*' })).toEqual([{ n: dialect === 'postgres' ? '0' : 0 }]);
    g.release(new Error('simulated crash inside the write'));
    expect((await first).status).toBe(500);
    expect(await t.app.db.knex('_galley_idempotency').where({ key }).count({ n: '*' })).toEqual([{ n: dialect === 'postgres' ? '0' : 0 }]);
    const retry = await post(key, body);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotency-replayed')).toBeNull();
    const again = await post(key, body);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(await t.app.db.knex('users').where({ email: body.email }).count({ n: '*' })).toEqual([{ n: dialect === 'postgres' ? '1' : 1 }]);
  });
});

describe.runIf(PG_URL)('Idempotency-Key after a SIGKILL mid-write (postgres)', () => {
  let dir = '';
  let server: ServeHandle | undefined;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    db = await freshDatabase('postgres');
    dir = mkdtempSync(join(tmpdir(), 'galley-crash-'));
  });
  afterAll(async () => {
    await server?.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const serve = () => startServe({ cwd: dir, env: { DATABASE_URL: db.url, GALLEY_COLLECTIONS: EXAMPLE_COLLECTIONS, GALLEY_DATA: dir, GALLEY_RATE_LIMIT_AUTH_IP: '0' } });
  const post = (s: ServeHandle, key: string, body: Json) =>
    fetch(`${s.url}/api/collections/users/records`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key }, body: JSON.stringify(body) });

  it('a retry after the crash creates the record exactly once', async () => {
    server = await serve();
    const locker = new pg.Client({ connectionString: db.url }); // the test schema is on its search_path
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE "users" IN ACCESS EXCLUSIVE MODE');
      const body = signUp('killed@example.com');
      const pending = post(server, 'kill-key', body).catch(() => null);
      // Wait for the server's INSERT to queue behind the lock: its claim is then written in the same, open transaction.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const waiting = await locker.query(`SELECT 1 FROM pg_locks WHERE NOT granted AND relation = '"users"'::regclass`);
        if (waiting.rowCount) break;
        if (Date.now() > deadline) throw new Error('the server never waited on the lock');
        await new Promise((r) => setTimeout(r, 50));
      }
      server.child.kill('SIGKILL');
      await server.exited;
      await pending;
      await locker.query('COMMIT');
      server = await serve();
      const retry = await post(server, 'kill-key', body);
      expect(retry.status, await retry.clone().text()).toBe(200);
      expect(retry.headers.get('idempotency-replayed')).toBeNull();
      const rows = await locker.query(`SELECT COUNT(*)::int AS n FROM "users" WHERE "email" = $1`, [body.email]);
      expect(rows.rows[0].n).toBe(1);
    } finally {
      await locker.end();
    }
  }, 120_000);
});
