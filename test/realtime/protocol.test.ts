/**
 * The realtime protocol on the wire (pocketbase-api.md §8), with a raw SSE client: headers,
 * framing, client ids, subscriptions and their options, the POST's error paths, the limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { SseStream } from '../helpers/sse.js';
import { eventually } from '../helpers/wait.js';

async function post(url: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const res = await fetch(`${url}/api/realtime`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: token } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

describe.each(DIALECTS)('realtime protocol (%s)', (dialect) => {
  let t: TestApp;
  let url: string;
  let superuser: string;
  const streams: SseStream[] = [];
  const open = async (headers: Record<string, string> = {}) => {
    const s = await SseStream.connect(url, headers);
    streams.push(s);
    return s;
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    url = await t.listen();
    superuser = await t.superuserToken();
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await t?.close();
  });

  it('opens an uncompressed event stream and sends PB_CONNECT with a 40-character id', async () => {
    const s = await open({ 'Accept-Encoding': 'gzip, br' });
    expect(s.status).toBe(200);
    expect(s.res.headers['content-type']).toBe('text/event-stream; charset=UTF-8');
    expect(s.res.headers['cache-control']).toBe('no-store');
    expect(s.res.headers['x-accel-buffering']).toBe('no');
    expect(s.res.headers['content-encoding']).toBeUndefined();
    expect(s.clientId).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(s.messages[0]!.raw).toBe(`id:${s.clientId}\nevent:PB_CONNECT\ndata:{"clientId":"${s.clientId}"}`);
    const other = await open();
    expect(other.clientId).not.toBe(s.clientId);
  });

  it('delivers record events on COLLECTION/*, COLLECTION/ID and COLLECTION, one message per matching topic', async () => {
    const s = await open();
    const tag = await t.seed('tags', { name: `first-${dialect}` });
    const id = String(tag['id']);
    const tagsId = t.app.records.find('tags')!.collection.id;
    expect((await post(url, { clientId: s.clientId, subscriptions: ['tags/*', `tags/${id}`, 'tags', `${tagsId}/*`] })).status).toBe(204);
    const res = await fetch(`${url}/api/collections/tags/records/${id}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json', Authorization: superuser }, body: JSON.stringify({ color: '#ff0000' }) });
    expect(res.status).toBe(200);
    for (const topic of ['tags/*', `tags/${id}`, 'tags', `${tagsId}/*`]) {
      const msg = await s.next((m) => m.event === topic);
      expect(msg.id).toBe(s.clientId);
      expect(msg.raw).toBe(`id:${s.clientId}\nevent:${topic}\ndata:${msg.data}`);
      expect(msg.data.startsWith('{"action":"update","record":{')).toBe(true);
      const data = JSON.parse(msg.data) as { action: string; record: Record<string, unknown> };
      expect(data.record).toMatchObject({ id, color: '#ff0000', collectionName: 'tags', collectionId: tagsId });
    }
    // A record of another id does not reach the ID topic.
    await t.seed('tags', { name: `second-${dialect}` });
    await s.next((m) => m.event === 'tags/*' && m.data.includes(`second-${dialect}`));
    await t.realtime.settled();
    expect(s.events(`tags/${id}`)).toHaveLength(1);
  });

  it('replaces the whole subscription set on each POST; an empty list unsubscribes', async () => {
    const s = await open();
    expect((await post(url, { clientId: s.clientId, subscriptions: ['tags/*'] })).status).toBe(204);
    expect((await post(url, { clientId: s.clientId, subscriptions: ['marker'] })).status).toBe(204);
    await t.seed('tags', { name: `unseen-${dialect}` });
    await t.realtime.settled();
    await t.realtime.send('marker', { n: 1 });
    const marker = await s.next((m) => m.event === 'marker');
    expect(marker.data).toBe('{"n":1}');
    expect(s.events('tags/*')).toHaveLength(0);
    expect((await post(url, { clientId: s.clientId })).status).toBe(204);
    await t.realtime.send('marker', { n: 2 });
    await t.realtime.send('other', {});
    expect(s.events('marker')).toHaveLength(1);
  });

  it('honours ?options= (fields, filter, query and headers in the rule, expand)', async () => {
    const s = await open();
    const opts = (o: unknown) => `?options=${encodeURIComponent(JSON.stringify(o))}`;
    const fields = `tags/*${opts({ query: { fields: 'id,name' } })}`;
    const filtered = `tags/*${opts({ query: { filter: 'color = "#0000ff"' } })}`;
    const forbidden = `tags/*${opts({ query: { filter: '@request.auth.id = ""' } })}`;
    const badExpand = `tags/*${opts({ query: { expand: 'a.b.c.d.e.f.g' } })}`;
    expect((await post(url, { clientId: s.clientId, subscriptions: [fields, filtered, forbidden, badExpand, 'sync'] })).status).toBe(204);
    await t.seed('tags', { name: `green-${dialect}`, color: '#00ff00' });
    await t.seed('tags', { name: `blue-${dialect}`, color: '#0000ff' });
    await t.realtime.settled();
    await t.realtime.send('sync', {});
    await s.next((m) => m.event === 'sync');
    expect(s.events(fields).map((m) => Object.keys((JSON.parse(m.data) as { record: object }).record))).toEqual([['id', 'name'], ['id', 'name']]);
    expect(s.events(filtered).map((m) => (JSON.parse(m.data) as { record: { color: string } }).record.color)).toEqual(['#0000ff']);
    expect(s.events(forbidden)).toHaveLength(0);
    expect(s.events(badExpand)).toHaveLength(0);
  });

  it('answers PocketBase-shaped errors to bad POSTs', async () => {
    const s = await open();
    const missing = await post(url, { subscriptions: [] });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ status: 400, message: 'An error occurred while validating the submitted data.', data: { clientId: { code: 'validation_required' } } });
    expect((await post(url, { clientId: 'x'.repeat(256) })).body).toMatchObject({ data: { clientId: { code: 'validation_length_out_of_range' } } });
    const many = await post(url, { clientId: s.clientId, subscriptions: Array.from({ length: 1001 }, (_, i) => `t${i}`) });
    expect(many.status).toBe(400);
    expect(many.body).toMatchObject({ data: { subscriptions: { code: 'validation_length_too_long' } } });
    const long = await post(url, { clientId: s.clientId, subscriptions: ['ok', 'x'.repeat(2501)] });
    expect(long.body).toMatchObject({ status: 400, data: { subscriptions: { '1': { code: 'validation_length_too_long' } } } });
    expect((await post(url, { clientId: s.clientId, subscriptions: ['x'.repeat(2500)] })).status).toBe(204);
    expect((await post(url, { clientId: s.clientId, subscriptions: Array.from({ length: 1000 }, (_, i) => `t${i}`) })).status).toBe(204);
    expect((await post(url, '{"clientId":')).status).toBe(400);
    expect((await post(url, { clientId: s.clientId, subscriptions: [1] })).status).toBe(400);
    expect((await post(url, { clientId: 5 })).status).toBe(400);
    const unknown = await post(url, { clientId: 'nosuchclient', subscriptions: [] });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ status: 404, message: 'Missing or invalid client id.' });
  });

  it('keeps the first authorization of a client: another one, or none, is a 403', async () => {
    const s = await open();
    await t.seed('users', { id: 'rtuserone000001', email: `one-${dialect}@example.com`, password: 'password123', passwordConfirm: 'password123' });
    await t.seed('users', { id: 'rtusertwo000001', email: `two-${dialect}@example.com`, password: 'password123', passwordConfirm: 'password123' });
    const sign = async (email: string) => ((await (await fetch(`${url}/api/collections/users/auth-with-password`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ identity: email, password: 'password123' }) })).json()) as { token: string }).token;
    const one = await sign(`one-${dialect}@example.com`);
    const two = await sign(`two-${dialect}@example.com`);
    expect((await post(url, { clientId: s.clientId, subscriptions: [] })).status).toBe(204); // a guest may become a user
    expect((await post(url, { clientId: s.clientId, subscriptions: ['users/*'] }, one)).status).toBe(204);
    const guest = await post(url, { clientId: s.clientId, subscriptions: [] });
    expect(guest.status).toBe(403);
    expect(guest.body).toMatchObject({ status: 403, message: "The current and the previous request authorization don't match." });
    expect((await post(url, { clientId: s.clientId, subscriptions: [] }, two)).status).toBe(403);
    expect((await post(url, { clientId: s.clientId, subscriptions: ['users/*'] }, one)).status).toBe(204);
  });

  it('reports connections and subscriptions to the metrics', async () => {
    const s = await open();
    await post(url, { clientId: s.clientId, subscriptions: ['a', 'b', 'c'] });
    const text = await t.metrics.render(false);
    expect(text.body).toMatch(/galley_realtime_connections [1-9]/);
    expect(text.body).toMatch(/galley_realtime_subscriptions [1-9]/);
  });
});

describe.each(DIALECTS)('realtime limits (%s)', (dialect) => {
  let full: TestApp;
  let idle: TestApp;
  beforeAll(async () => {
    full = await createTestApp(dialect, undefined, { realtime: { maxClients: 2 } });
    idle = await createTestApp(dialect, undefined, { realtime: { idleMs: 300 } });
  });
  afterAll(async () => {
    await full?.close();
    await idle?.close();
  });

  it('answers 503 past GALLEY_REALTIME_MAX_CLIENTS, and takes a client again once one left', async () => {
    const url = await full.listen();
    const a = await SseStream.connect(url);
    const b = await SseStream.connect(url);
    const refused = await fetch(`${url}/api/realtime`);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ status: 503, code: 'overloaded', message: expect.stringContaining('realtime') });
    a.close();
    await eventually(() => full.realtime.hub.size === 1);
    const c = await SseStream.connect(url);
    expect(c.status).toBe(200);
    b.close();
    c.close();
  });

  it('closes a stream after the idle timeout without messages', async () => {
    const url = await idle.listen();
    const a = await SseStream.connect(url);
    await eventually(() => a.ended);
    await eventually(() => idle.realtime.hub.size === 0);
  });
});
