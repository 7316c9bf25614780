/**
 * The unmodified pocketbase SDK against Galley's realtime: subscribe to `*` and to an id with
 * options, unsubscribe, reconnect after the server closed the stream, a new sign-in.
 * Node has no EventSource: the `eventsource` package (WHATWG-compliant) stands in for the browser's.
 */
import { EventSource } from 'eventsource';
import PocketBase, { type RecordSubscription, type RecordModel } from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { eventually } from '../helpers/wait.js';

(globalThis as { EventSource?: unknown }).EventSource ??= EventSource;

type Event = RecordSubscription<RecordModel>;
const ALICE = 'alice'.padEnd(15, '0');
const BOB = 'bob'.padEnd(15, '0');

async function signIn(url: string, email: string): Promise<PocketBase> {
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  await pb.collection('users').authWithPassword(email, 'password123');
  return pb;
}

describe.each(DIALECTS)('realtime with the pocketbase SDK (%s)', (dialect) => {
  let t: TestApp;
  let url: string;
  let admin: PocketBase;
  const clients: PocketBase[] = [];

  beforeAll(async () => {
    t = await createTestApp(dialect);
    url = await t.listen();
    for (const name of ['alice', 'bob']) await t.seed('users', { id: `${name}`.padEnd(15, '0'), email: `${name}@example.com`, name, password: 'password123', passwordConfirm: 'password123' });
    admin = new PocketBase(url);
    admin.autoCancellation(false);
    admin.authStore.save(await t.superuserToken());
  });
  afterAll(async () => {
    for (const pb of clients) pb.realtime.unsubscribe().catch(() => {});
    await t?.close();
  });

  it('subscribes to * and to an id with options, and unsubscribes', async () => {
    const alice = await signIn(url, 'alice@example.com');
    clients.push(alice);
    const all: Event[] = [];
    const one: Event[] = [];
    const unsubAll = await alice.collection('posts').subscribe('*', (e) => all.push(e));
    const draft = await alice.collection('posts').create({ title: 'Mine', slug: 'mine', author: ALICE, status: 'draft' });
    await eventually(() => all.length === 1);
    expect(all[0]).toMatchObject({ action: 'create', record: { id: draft.id, title: 'Mine', collectionName: 'posts' } });
    await alice.collection('posts').subscribe(draft.id, (e) => one.push(e), { expand: 'author', fields: 'id,title,expand.author.name' });
    await alice.collection('posts').update(draft.id, { title: 'Mine, edited' });
    await eventually(() => one.length === 1 && all.length === 2);
    expect(one[0]!.record).toEqual({ id: draft.id, title: 'Mine, edited', expand: { author: { name: 'alice' } } });
    await unsubAll();
    await alice.collection('posts').delete(draft.id);
    await eventually(() => one.length === 2);
    expect(one[1]).toMatchObject({ action: 'delete', record: { id: draft.id } });
    await t.realtime.settled();
    expect(all).toHaveLength(2);
  });

  it('re-subscribes with a new sign-in after unsubscribing everything', async () => {
    const pb = await signIn(url, 'alice@example.com');
    clients.push(pb);
    const seen: Event[] = [];
    await pb.collection('posts').subscribe('*', (e) => seen.push(e));
    await pb.realtime.unsubscribe();
    await pb.collection('users').authWithPassword('bob@example.com', 'password123');
    await pb.collection('posts').subscribe('*', (e) => seen.push(e));
    await admin.collection('posts').create({ title: 'Alice draft', slug: 'alice-draft', author: ALICE, status: 'draft' });
    const bobs = await admin.collection('posts').create({ title: 'Bob draft', slug: 'bob-draft', author: BOB, status: 'draft' });
    await eventually(() => seen.length === 1);
    await t.realtime.settled();
    expect(seen.map((e) => e.record.id)).toEqual([bobs.id]);
  });
});

describe.each(DIALECTS)('realtime SDK reconnect (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, undefined, { realtime: { idleMs: 700 } });
  });
  afterAll(() => t?.close());

  it('reconnects after the server closed an idle stream and gets events again', async () => {
    const url = await t.listen();
    const pb = new PocketBase(url);
    pb.autoCancellation(false);
    const seen: Event[] = [];
    await pb.collection('tags').subscribe('*', (e) => seen.push(e));
    const first = pb.realtime.clientId;
    await eventually(() => pb.realtime.clientId !== '' && pb.realtime.clientId !== first);
    // The new stream may be closed for idleness again before a write lands: write until one arrives.
    let n = 0;
    await eventually(async () => {
      await t.seed('tags', { name: `after-reconnect-${dialect}-${++n}` });
      await t.realtime.settled();
      return seen.length > 0;
    });
    expect(seen[0]!.record['name']).toMatch(/^after-reconnect-/);
    await pb.realtime.unsubscribe();
  });
});
