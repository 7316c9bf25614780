/**
 * Events come from every write path and only after a commit: REST, batch (a failing one
 * publishes nothing), cascades (each deleted record has its delete event), the hooks' data API,
 * custom topics from hooks; and a live connection's auth follows its record (deleted, or its
 * tokens rotated → the connection is a guest from then on).
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, EXAMPLE_COLLECTIONS, type TestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/dialects.js';
import { postSubscriptions, SseStream } from '../helpers/sse.js';
import { eventually } from '../helpers/wait.js';
import { MOD_PASSWORD, OWNER, seedExample, send } from '../auth/fixtures-rules.js';

const HOOKS = resolve(import.meta.dirname, 'fixtures');

describe.each(DIALECTS)('realtime write paths (%s)', (dialect) => {
  let t: TestApp;
  let url: string;
  let su: string;
  const streams: SseStream[] = [];
  type Stream = SseStream & { clientId: string };
  const subscribe = async (topics: string[], token: string | null = su): Promise<Stream> => {
    const s = await SseStream.connect(url);
    streams.push(s);
    expect((await postSubscriptions(url, { clientId: s.clientId, subscriptions: [...topics, 'sync'] }, token)).status).toBe(204);
    return s;
  };
  /** Everything decided so far has been written: a marker sent now arrives after it. */
  const synced = async (s: SseStream) => {
    await t.realtime.settled();
    const n = Math.random().toString(36).slice(2);
    await t.realtime.send('sync', { n });
    await s.next((m) => m.event === 'sync' && m.data.includes(n));
  };
  const records = (s: SseStream, topic: string) => s.events(topic).map((m) => JSON.parse(m.data) as { action: string; record: Record<string, unknown> });

  beforeAll(async () => {
    t = await createTestApp(dialect, undefined, { hooksDir: HOOKS });
    url = await t.listen();
    su = await t.superuserToken();
    await seedExample(t);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await t?.close();
  });

  it('a failing batch publishes nothing; a successful one publishes each write', async () => {
    const s = await subscribe(['tags/*']);
    const failing = await send(t, 'POST', '/api/batch', su, { requests: [{ method: 'POST', url: '/api/collections/tags/records', body: { name: `batch-a-${dialect}` } }, { method: 'POST', url: '/api/collections/tags/records', body: { name: `batch-a-${dialect}` } }] });
    expect(failing.status).toBe(400);
    await synced(s);
    expect(s.events('tags/*')).toHaveLength(0);
    const ok = await send(t, 'POST', '/api/batch', su, { requests: [{ method: 'POST', url: '/api/collections/tags/records', body: { name: `batch-b-${dialect}` } }, { method: 'POST', url: '/api/collections/tags/records', body: { name: `batch-c-${dialect}` } }] });
    expect(ok.status).toBe(200);
    await synced(s);
    expect(records(s, 'tags/*').map((e) => [e.action, e.record['name']])).toEqual([['create', `batch-b-${dialect}`], ['create', `batch-c-${dialect}`]]);
  });

  it('a cascade publishes the delete of each record it removes, as it was', async () => {
    const post = await t.seed('posts', { title: 'Doomed', slug: `doomed-${dialect}`, author: OWNER, status: 'published' });
    const c1 = await t.seed('comments', { post: post['id'], author: OWNER, body: 'first' });
    const c2 = await t.seed('comments', { post: post['id'], author: OWNER, body: 'second' });
    const s = await subscribe(['comments/*', `posts/${String(post['id'])}`]);
    const guest = await subscribe(['comments/*'], null);
    expect((await send(t, 'DELETE', `/api/collections/posts/records/${String(post['id'])}`, su)).status).toBe(204);
    await synced(s);
    await synced(guest);
    const deleted = records(s, 'comments/*');
    expect(deleted.map((e) => e.action)).toEqual(['delete', 'delete']);
    expect(deleted.map((e) => e.record['id']).sort()).toEqual([c1['id'], c2['id']].sort());
    expect(deleted.find((e) => e.record['id'] === c1['id'])!.record['body']).toBe('first');
    expect(records(s, `posts/${String(post['id'])}`)).toMatchObject([{ action: 'delete', record: { title: 'Doomed' } }]);
    // The guest could read those comments (their post was published) while they existed.
    expect(records(guest, 'comments/*')).toHaveLength(2);
  });

  it('writes of the hooks data API publish; hooks send custom topics', async () => {
    const s = await subscribe(['tags/*', 'tag-created']);
    const res = await fetch(`${url}/api/rt/tag`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: `from-hook-${dialect}` }) });
    expect(res.status).toBe(200);
    await s.next((m) => m.event === 'tags/*');
    const custom = await s.next((m) => m.event === 'tag-created');
    expect(JSON.parse(custom.data)).toEqual({ name: `from-hook-${dialect}` });
  });

  if (dialect !== 'postgres') console.log('[realtime] sqlite: the CLI is another process and SQLite has no bus between processes; its writes publish on PostgreSQL only (next test skipped)');
  it.runIf(dialect === 'postgres')('publishes the writes of the CLI (another process) on PostgreSQL', async () => {
    const s = await subscribe(['_superusers/*']);
    const res = await runCli(['superuser', 'upsert', `cli-${dialect}@example.com`, 'password123'], { env: { DATABASE_URL: t.dbUrl, GALLEY_COLLECTIONS: EXAMPLE_COLLECTIONS } });
    expect(res.code, res.stderr).toBe(0);
    const msg = await s.next((m) => m.event === '_superusers/*' && m.data.includes(`cli-${dialect}@example.com`));
    expect(JSON.parse(msg.data)).toMatchObject({ action: 'create', record: { email: `cli-${dialect}@example.com` } });
  }, 60_000);

  it("clears a live connection's auth when its record is deleted or its tokens rotate", async () => {
    const mod = await t.seed('moderators', { email: `mod2-${dialect}@example.com`, name: 'Mod 2', verified: true, password: MOD_PASSWORD, passwordConfirm: MOD_PASSWORD });
    const modToken = String(((await send(t, 'POST', '/api/collections/moderators/auth-with-password', null, { identity: `mod2-${dialect}@example.com`, password: MOD_PASSWORD })).body as { token: string }).token);
    const modStream = await subscribe(['posts/*'], modToken);
    const user = await t.seed('users', { email: `rot-${dialect}@example.com`, name: 'Rot', password: 'password123', passwordConfirm: 'password123' });
    const userToken = String(((await send(t, 'POST', '/api/collections/users/auth-with-password', null, { identity: `rot-${dialect}@example.com`, password: 'password123' })).body as { token: string }).token);
    const userStream = await subscribe([`users/${String(user['id'])}`], userToken);

    const draft = (slug: string) => send(t, 'POST', '/api/collections/posts/records', su, { title: 'Draft', slug, author: OWNER, status: 'draft' });
    await draft(`live-1-${dialect}`);
    await send(t, 'PATCH', `/api/collections/users/records/${String(user['id'])}`, su, { name: 'Rot 2' });
    await synced(modStream);
    await synced(userStream);
    expect(modStream.events('posts/*')).toHaveLength(1); // moderators see drafts
    expect(userStream.events(`users/${String(user['id'])}`)).toHaveLength(1); // a user sees itself

    expect((await send(t, 'DELETE', `/api/collections/moderators/records/${String(mod['id'])}`, su)).status).toBe(204);
    await send(t, 'PATCH', `/api/collections/users/records/${String(user['id'])}`, su, { password: 'password456', passwordConfirm: 'password456' });
    await draft(`live-2-${dialect}`);
    await send(t, 'PATCH', `/api/collections/users/records/${String(user['id'])}`, su, { name: 'Rot 3' });
    await synced(modStream);
    await synced(userStream);
    expect(modStream.events('posts/*')).toHaveLength(1);
    expect(userStream.events(`users/${String(user['id'])}`)).toHaveLength(1);
    await eventually(() => t.realtime.hub.client(modStream.clientId)?.auth === null);
  });
});
