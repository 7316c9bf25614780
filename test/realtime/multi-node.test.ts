/**
 * Realtime across several nodes on one PostgreSQL database (galley.md §9, issue 12 item 5): three
 * `galley serve` processes behind nginx (round robin, no sticky sessions: a client's POST lands on
 * another node than its stream). Subscribers through the balancer and directly on each node get
 * the writes of every node; a killed node does not stop the others; a LISTEN connection cut by
 * pg_terminate_backend comes back; a 20 kB record (and its delete, over NOTIFY's 8000 bytes) arrives intact.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_COLLECTIONS } from '../helpers/app.js';
import { startServe, type ServeHandle } from '../helpers/cli.js';
import { freshDatabase, PG_URL, type TestDatabase } from '../helpers/dialects.js';
import { hasNginx, startBalancer, type Balancer } from '../helpers/nginx.js';
import { postSubscriptions, SseStream } from '../helpers/sse.js';
import { eventually } from '../helpers/wait.js';

type Stream = SseStream & { clientId: string };

describe.runIf(PG_URL)('realtime across three nodes behind nginx (postgres)', () => {
  let db: TestDatabase;
  let dir: string;
  const nodes: ServeHandle[] = [];
  let lb: Balancer | null = null;
  let token = '';
  const streams: { name: string; stream: Stream }[] = [];

  beforeAll(async () => {
    if (!hasNginx()) throw new Error('nginx is required for the multi-node realtime test (apt-get install nginx)');
    db = await freshDatabase('postgres');
    dir = mkdtempSync(join(tmpdir(), 'galley-rt-nodes-'));
    const env = { DATABASE_URL: db.url, GALLEY_COLLECTIONS: EXAMPLE_COLLECTIONS, GALLEY_DATA: dir, GALLEY_RATE_LIMIT_AUTH_IP: '0' };
    // One node first (it migrates), then the other two.
    nodes.push(await startServe({ cwd: dir, env, timeoutMs: 120_000 }));
    nodes.push(...(await Promise.all([startServe({ cwd: dir, env, timeoutMs: 120_000 }), startServe({ cwd: dir, env, timeoutMs: 120_000 })])));
    lb = await startBalancer(join(dir, 'nginx'), nodes.map((n) => n.url));
    const body = JSON.stringify({ email: 'writer@example.com', password: 'password123', passwordConfirm: 'password123' });
    expect((await fetch(`${nodes[0]!.url}/api/collections/users/records`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })).status).toBe(200);
    const auth = await fetch(`${nodes[1]!.url}/api/collections/users/auth-with-password`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ identity: 'writer@example.com', password: 'password123' }) });
    token = ((await auth.json()) as { token: string }).token;

    // Three through the balancer (each POST lands on another node than its stream), one per node directly.
    for (let i = 0; i < 3; i++) streams.push({ name: `balanced-${i}`, stream: await subscribe(lb.url, lb.url) });
    for (const [i, n] of nodes.entries()) streams.push({ name: `node-${i}`, stream: await subscribe(n.url, n.url) });
  }, 240_000);

  afterAll(async () => {
    for (const s of streams) s.stream.close();
    await lb?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function subscribe(streamUrl: string, postUrl: string): Promise<Stream> {
    const s = await SseStream.connect(streamUrl);
    const res = await postSubscriptions(postUrl, { clientId: s.clientId, subscriptions: ['tags/*', 'posts/*'] });
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    return s;
  }

  const createTag = async (url: string, name: string) => {
    const res = await fetch(`${url}/api/collections/tags/records`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: token }, body: JSON.stringify({ name }) });
    expect(res.status).toBe(200);
  };
  const gotTag = (s: Stream, name: string) => s.events('tags/*').some((m) => m.data.includes(`"name":"${name}"`));
  /** Subscriptions forwarded between nodes take effect a moment after their 204: write probes until each live subscriber saw one. */
  async function allListening(live: { stream: Stream }[], via: string): Promise<void> {
    let n = 0;
    const probes: string[] = [];
    await eventually(async () => {
      probes.push(`probe-${Date.now()}-${++n}`);
      await createTag(via, probes.at(-1)!);
      return live.every(({ stream }) => probes.some((p) => gotTag(stream, p)));
    }, 60_000);
  }

  it('delivers a write on any node to subscribers on every node, direct and through the balancer', async () => {
    await allListening(streams, nodes[0]!.url);
    for (const [i, n] of nodes.entries()) await createTag(n.url, `from-node-${i}`);
    await createTag(lb!.url, 'through-the-balancer');
    for (const { name, stream } of streams) {
      for (const tag of ['from-node-0', 'from-node-1', 'from-node-2', 'through-the-balancer']) {
        await eventually(() => gotTag(stream, tag)).catch(() => {
          throw new Error(`${name} did not receive ${tag}`);
        });
      }
    }
  }, 120_000);

  it('carries a 20 kB record and its delete across nodes intact', async () => {
    const bodyText = `<p>${'x'.repeat(20_000)}</p>`;
    const res = await fetch(`${nodes[0]!.url}/api/collections/posts/records`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: token },
      body: JSON.stringify({ title: 'Big one', author: JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).id, status: 'published', body: bodyText }),
    });
    expect(res.status).toBe(200);
    const id = ((await res.json()) as { id: string }).id;
    const onOther = streams.find((s) => s.name === 'node-2')!.stream;
    const created = await onOther.next((m) => m.event === 'posts/*' && m.data.includes(id));
    expect((JSON.parse(created.data) as { record: { body: string } }).record.body).toBe(bodyText);
    expect((await fetch(`${nodes[0]!.url}/api/collections/posts/records/${id}`, { method: 'DELETE', headers: { Authorization: token } })).status).toBe(204);
    const deleted = await onOther.next((m) => m.event === 'posts/*' && m.data.startsWith('{"action":"delete"') && m.data.includes(id));
    expect((JSON.parse(deleted.data) as { record: { body: string; title: string } }).record).toMatchObject({ body: bodyText, title: 'Big one' });
  }, 120_000);

  it('keeps delivering when a node dies, and after its LISTEN connections were terminated', async () => {
    nodes[2]!.child.kill('SIGKILL');
    await nodes[2]!.exited;
    // Streams that went through the balancer to the dead node end a moment later (nginx closes them):
    // every other stream gets the write, and the streams held directly by the live nodes surely do.
    const direct = streams.filter((s) => s.name === 'node-0' || s.name === 'node-1');
    await createTag(nodes[1]!.url, 'after-the-kill');
    for (const { stream } of streams) await eventually(() => gotTag(stream, 'after-the-kill') || stream.ended);
    for (const { stream } of direct) expect(gotTag(stream, 'after-the-kill')).toBe(true);

    const schema = new URL(db.url).searchParams.get('options')!.replace(/^-c search_path=/, '');
    const channel = `galley_rt_${createHash('sha1').update(schema).digest('hex').slice(0, 16)}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const listeners = async () => (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE query = $1', [`LISTEN "${channel}"`])).rows;
      await eventually(async () => (await listeners()).length === 2);
      const before = (await listeners()).map((r) => r.pid);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [`LISTEN "${channel}"`]);
      await eventually(async () => {
        const now = (await listeners()).map((r) => r.pid);
        return now.length === 2 && now.every((p) => !before.includes(p));
      }, 60_000);
    } finally {
      await admin.end();
    }
    await createTag(nodes[0]!.url, 'after-the-reconnect');
    for (const { stream } of streams) await eventually(() => gotTag(stream, 'after-the-reconnect') || stream.ended);
    for (const { stream } of direct) expect(gotTag(stream, 'after-the-reconnect')).toBe(true);
    expect(streams.filter(({ stream }) => !stream.ended).length).toBeGreaterThanOrEqual(3);
  }, 180_000);
});
