/**
 * Per-subscriber access, proven against the REST API: guest, owner, other user, moderator and
 * superuser each hold a stream subscribed to `/*`, `/ID` and an expanding topic. After every write
 * (create, updates that bring the record into and out of view, an auth record's update, delete),
 * each subscriber's event on each topic must be exactly what `GET /records/ID` (with the topic's
 * options) answers it — the same body — and no event at all where REST answers 404/403. A delete
 * is compared with what REST answered just before it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { postSubscriptions, SseStream, withOptions } from '../helpers/sse.js';
import { MOD_EMAIL, MOD_PASSWORD, OTHER_EMAIL, OWNER, OWNER_EMAIL, PASSWORD, seedExample, send, type Probe } from '../auth/fixtures-rules.js';

const WHO = ['guest', 'owner', 'other', 'moderator', 'superuser'] as const;
type Who = (typeof WHO)[number];
const POST_ID = 'prtmatrix000001';

/** A topic, and the REST request whose answer its event must equal. */
interface Topic {
  topic: string;
  collection: string;
  id: string;
  query: string;
}

const TOPICS: Topic[] = [
  { topic: 'posts/*', collection: 'posts', id: POST_ID, query: '' },
  { topic: `posts/${POST_ID}`, collection: 'posts', id: POST_ID, query: '' },
  { topic: withOptions('posts/*', { query: { expand: 'author,tags', fields: 'id,title,status,expand.author.name,expand.author.email,expand.tags.name' } }), collection: 'posts', id: POST_ID, query: '?expand=author,tags&fields=id,title,status,expand.author.name,expand.author.email,expand.tags.name' },
  { topic: 'users/*', collection: 'users', id: OWNER, query: '' },
  { topic: withOptions(`users/${OWNER}`, { query: { fields: 'id,email,name' } }), collection: 'users', id: OWNER, query: '?fields=id,email,name' },
];

describe.each(DIALECTS)('realtime access matches the REST API (%s)', (dialect) => {
  let t: TestApp;
  let url: string;
  const tokens = {} as Record<Who, string | null>;
  const streams = {} as Record<Who, SseStream & { clientId: string }>;
  let step = 0;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    url = await t.listen();
    await seedExample(t);
    const signIn = async (collection: string, identity: string, password: string) =>
      String(((await send(t, 'POST', `/api/collections/${collection}/auth-with-password`, null, { identity, password })).body as { token: string }).token);
    tokens.guest = null;
    tokens.owner = await signIn('users', OWNER_EMAIL, PASSWORD);
    tokens.other = await signIn('users', OTHER_EMAIL, PASSWORD);
    tokens.moderator = await signIn('moderators', MOD_EMAIL, MOD_PASSWORD);
    tokens.superuser = await t.superuserToken();
    for (const who of WHO) {
      streams[who] = await SseStream.connect(url);
      const res = await postSubscriptions(url, { clientId: streams[who].clientId, subscriptions: [...TOPICS.map((x) => x.topic), 'step'] }, tokens[who]);
      expect(res.status).toBe(204);
    }
  });
  afterAll(async () => {
    for (const who of WHO) streams[who]?.close();
    await t?.close();
  });

  /** What REST answers each subscriber for each topic right now. */
  async function restViews(): Promise<Map<string, Probe>> {
    const views = new Map<string, Probe>();
    for (const who of WHO) for (const x of TOPICS) views.set(`${who} ${x.topic}`, await send(t, 'GET', `/api/collections/${x.collection}/records/${x.id}${x.query}`, tokens[who]));
    return views;
  }

  /** Runs a write, then checks every subscriber's events of this step against `views` (REST after the write, or before a delete). */
  async function check(action: string, target: string, write: () => Promise<Probe>, viewsBefore?: Map<string, Probe>): Promise<void> {
    const n = ++step;
    const res = await write();
    expect(res.status, res.text).toBeLessThan(300);
    const views = viewsBefore ?? (await restViews());
    await t.realtime.settled();
    await t.realtime.send('step', { n });
    for (const who of WHO) {
      const s = streams[who];
      const markers = s.messages.flatMap((m, i) => (m.event === 'step' ? [i] : []));
      await s.next((m) => m.event === 'step' && m.data === `{"n":${n}}`);
      const from = markers.length > 0 && n > 1 ? s.messages.findIndex((m) => m.event === 'step' && m.data === `{"n":${n - 1}}`) + 1 : 0;
      const to = s.messages.findIndex((m) => m.event === 'step' && m.data === `{"n":${n}}`);
      const got = s.messages.slice(from, to).filter((m) => m.event !== 'PB_CONNECT');
      for (const x of TOPICS) {
        const events = got.filter((m) => m.event === x.topic);
        const label = `step ${n} (${action} ${target}) ${who} on ${x.topic}`;
        if (x.collection !== target) {
          expect(events, label).toHaveLength(0);
          continue;
        }
        const view = views.get(`${who} ${x.topic}`)!;
        if (view.status !== 200) {
          expect(events, `${label}: REST answers ${view.status}, so no event`).toHaveLength(0);
          continue;
        }
        expect(events, label).toHaveLength(1);
        expect(JSON.parse(events[0]!.data), label).toEqual({ action, record: view.body });
      }
    }
  }

  it('create, into view, out of view, an auth record update, delete', async () => {
    const post = (method: 'POST' | 'PATCH' | 'DELETE', body?: unknown) => () =>
      send(t, method, method === 'POST' ? '/api/collections/posts/records' : `/api/collections/posts/records/${POST_ID}`, tokens.owner, body);
    await check('create', 'posts', post('POST', { id: POST_ID, title: 'Matrix', slug: 'matrix', author: OWNER, status: 'draft', tags: [] }));
    await check('update', 'posts', post('PATCH', { status: 'published' }));
    await check('update', 'posts', post('PATCH', { status: 'draft', title: 'Matrix, hidden again' }));
    await check('update', 'users', () => send(t, 'PATCH', `/api/collections/users/records/${OWNER}`, tokens.superuser, { name: 'Owner renamed' }));
    await check('update', 'users', () => send(t, 'PATCH', `/api/collections/users/records/${OWNER}`, tokens.superuser, { emailVisibility: true }));
    await check('update', 'posts', post('PATCH', { status: 'published' }));
    const before = await restViews();
    await check('delete', 'posts', post('DELETE'), before);
    // The matrix really discriminates: someone saw each event and someone did not.
    const counts = WHO.map((who) => streams[who].messages.filter((m) => m.event.startsWith('posts/')).length);
    expect(Math.min(...counts)).toBeLessThan(Math.max(...counts));
  });
});

describe.each(DIALECTS)('realtime hidden fields (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, [{ name: 'notes', type: 'base', listRule: '', viewRule: '', fields: [{ name: 'title', type: 'text' }, { name: 'secret', type: 'text', hidden: true }] }]);
  });
  afterAll(() => t?.close());

  it('shows hidden fields to superusers only', async () => {
    const url = await t.listen();
    const guest = await SseStream.connect(url);
    const root = await SseStream.connect(url);
    await postSubscriptions(url, { clientId: guest.clientId, subscriptions: ['notes/*'] });
    await postSubscriptions(url, { clientId: root.clientId, subscriptions: ['notes/*'] }, await t.superuserToken());
    await t.seed('notes', { title: 'n', secret: 's3cret' });
    const seenByGuest = JSON.parse((await guest.next((m) => m.event === 'notes/*')).data) as { record: Record<string, unknown> };
    const seenByRoot = JSON.parse((await root.next((m) => m.event === 'notes/*')).data) as { record: Record<string, unknown> };
    expect(seenByGuest.record['title']).toBe('n');
    expect(seenByGuest.record).not.toHaveProperty('secret');
    expect(seenByRoot.record['secret']).toBe('s3cret');
    guest.close();
    root.close();
  });
});
