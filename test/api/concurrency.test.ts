/**
 * Concurrency and atomicity of the records API (galley.md §6: optimistic concurrency,
 * idempotency, transactional batch; §8: never a partial write, never a 500).
 *
 * Requests go over a real socket (app.listen) so that they truly overlap: on
 * PostgreSQL they run on different pool connections (row locks), on SQLite they
 * queue on the one connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

interface Res {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** Any request slower than this counts as hung (deadlock, lost lock release). */
const HANG_MS = 20_000;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const JUNCTION = '_galley_rel_posts__tags';

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

describe.each(DIALECTS)('records API concurrency (%s)', (dialect) => {
  let t: TestApp;
  let base = '';
  let su = '';
  const ids = { alice: '', bob: '', tags: [] as string[], post: '' };
  let n = 0;
  /** Unexpected errors the app logged (the causes of 500s), shown in failure messages. */
  const serverErrors: string[] = [];
  const uniq = (prefix: string) => `${prefix}${++n}${Date.now().toString(36)}`.toLowerCase();

  async function call(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; token?: string | null } = {}): Promise<Res> {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? su : opts.token;
    if (token) headers['Authorization'] = token;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, signal: AbortSignal.timeout(HANG_MS), ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: parseJson(text), text };
  }

  const describeRes = (r: Res) => `${r.status} ${r.text.slice(0, 400)}`;

  async function count(table: string, where: Record<string, unknown> = {}): Promise<number> {
    const rows = (await t.app.db.knex(table).where(where).count({ n: '*' })) as { n: number | string }[];
    return Number(rows[0]!.n);
  }

  /** Every row of the tables a batch touches, to prove a rolled-back batch left no trace. */
  async function snapshot(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const table of ['posts', 'tags', 'comments', 'users', JUNCTION, '_galley_idempotency']) {
      const rows = (await t.app.db.knex(table).select('*')) as Json[];
      out[table] = rows.map((r) => JSON.stringify(Object.keys(r).sort().map((k) => [k, r[k] instanceof Date ? (r[k] as Date).toISOString() : r[k]]))).sort();
    }
    return out;
  }

  async function newPost(extra: Json = {}): Promise<Res> {
    const slug = uniq('p-');
    const res = await call('POST', '/api/collections/posts/records', { body: { title: `Post ${slug}`, slug, author: ids.alice, status: 'published', views: 0, ...extra } });
    expect(res.status, describeRes(res)).toBe(200);
    return res;
  }

  beforeAll(async () => {
    t = await createTestApp(dialect);
    base = await t.listen();
    t.app.log.error = ((o: unknown) => {
      const err = (o as { err?: { code?: string; message?: string } } | undefined)?.err;
      serverErrors.push(err ? `${err.code ?? ''} ${err.message ?? ''}`.trim() : String(o));
    }) as typeof t.app.log.error;
    su = await t.superuserToken();
    const pw = { password: 'password123', passwordConfirm: 'password123' };
    ids.alice = String((await t.seed('users', { email: 'alice@example.com', name: 'Alice', ...pw }))['id']);
    ids.bob = String((await t.seed('users', { email: 'bob@example.com', name: 'Bob', ...pw }))['id']);
    for (const name of ['news', 'howto', 'release']) ids.tags.push(String((await t.seed('tags', { name }))['id']));
    ids.post = String((await t.seed('posts', { title: 'Commented', slug: 'commented', author: ids.alice, status: 'published' }))['id']);
  });
  afterAll(async () => t?.close());

  // ---- (a) If-Match -----------------------------------------------------------

  it('answers exactly one 200 and one 412 to two concurrent PATCHes with the same If-Match (10 fresh records)', async () => {
    for (let i = 0; i < 10; i++) {
      const created = await newPost();
      const id = String(obj(created.body)['id']);
      const etag = created.headers.get('etag');
      expect(etag, 'create answers an ETag').toBeTruthy();
      const [a, b] = await Promise.all([
        call('PATCH', `/api/collections/posts/records/${id}`, { body: { title: 'Winner A', views: 1 }, headers: { 'If-Match': etag! } }),
        call('PATCH', `/api/collections/posts/records/${id}`, { body: { title: 'Winner B', views: 2 }, headers: { 'If-Match': etag! } }),
      ]);
      expect([a.status, b.status].sort(), `round ${i}: ${describeRes(a)} | ${describeRes(b)}`).toEqual([200, 412]);
      const [winner, loser] = a.status === 200 ? [a, b] : [b, a];
      expect(obj(loser.body)).toMatchObject({ status: 412, code: 'precondition_failed', data: {} });
      expect(winner.headers.get('etag')).toBeTruthy();
      expect(winner.headers.get('etag')).not.toBe(etag);
      const stored = await call('GET', `/api/collections/posts/records/${id}`);
      expect(obj(stored.body)['title'], `round ${i}: the stored record is the winner's`).toBe(obj(winner.body)['title']);
      expect(obj(stored.body)['views']).toBe(obj(winner.body)['views']);
      expect(stored.headers.get('etag')).toBe(winner.headers.get('etag'));
    }
  });

  it('lets only one of a concurrent PATCH and DELETE with the same If-Match succeed (5 fresh records)', async () => {
    for (let i = 0; i < 5; i++) {
      const created = await newPost();
      const id = String(obj(created.body)['id']);
      const etag = created.headers.get('etag')!;
      const [patch, del] = await Promise.all([
        call('PATCH', `/api/collections/posts/records/${id}`, { body: { views: 9 }, headers: { 'If-Match': etag } }),
        call('DELETE', `/api/collections/posts/records/${id}`, { headers: { 'If-Match': etag } }),
      ]);
      const outcome = `${patch.status}/${del.status}`;
      // PATCH first: the DELETE sees a new version (412). DELETE first: the PATCH finds nothing (404).
      expect(['200/412', '404/204'], `round ${i}: ${describeRes(patch)} | ${describeRes(del)}`).toContain(outcome);
      expect(await count('posts', { id })).toBe(outcome === '200/412' ? 1 : 0);
    }
  });

  // ---- (b) Idempotency-Key ----------------------------------------------------------

  it('replays a sequentially repeated POST with the same Idempotency-Key and creates one row', async () => {
    const key = uniq('seq-');
    const body = { post: ids.post, author: ids.alice, body: `idempotent ${key}` };
    const first = await call('POST', '/api/collections/comments/records', { body, headers: { 'Idempotency-Key': key } });
    expect(first.status, describeRes(first)).toBe(200);
    expect(first.headers.get('idempotency-replayed')).toBeNull();
    const second = await call('POST', '/api/collections/comments/records', { body, headers: { 'Idempotency-Key': key } });
    expect(second.status, describeRes(second)).toBe(200);
    expect(second.headers.get('idempotency-replayed')).toBe('true');
    expect(obj(second.body)['id']).toBe(obj(first.body)['id']);
    expect(second.body).toEqual(first.body);
    expect(await count('comments', { body: body.body })).toBe(1);
  });

  it('creates exactly one record from 5 concurrent POSTs with the same Idempotency-Key', async () => {
    for (let round = 0; round < 3; round++) {
      const key = uniq('par-');
      const body = { post: ids.post, author: ids.alice, body: `concurrent ${key}` };
      const all = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/api/collections/comments/records', { body, headers: { 'Idempotency-Key': key } })));
      const summary = all.map(describeRes).join(' | ');
      // The key is claimed in the write's own transaction: the others wait for it, then replay its reply.
      for (const r of all) expect(r.status, summary).toBe(200);
      expect(all.filter((r) => r.headers.get('idempotency-replayed') === 'true'), summary).toHaveLength(4);
      const originals = all.filter((r) => r.status === 200 && r.headers.get('idempotency-replayed') === null);
      expect(originals.length, `exactly one response is the original: ${summary}`).toBe(1);
      const id = obj(originals[0]!.body)['id'];
      for (const r of all.filter((x) => x.status === 200)) expect(obj(r.body)['id'], summary).toBe(id);
      expect(await count('comments', { body: body.body })).toBe(1);
      // Once settled, a retry is a replay of the original.
      const retry = await call('POST', '/api/collections/comments/records', { body, headers: { 'Idempotency-Key': key } });
      expect(retry.status, describeRes(retry)).toBe(200);
      expect(retry.headers.get('idempotency-replayed')).toBe('true');
      expect(obj(retry.body)['id']).toBe(id);
    }
  });

  it('answers 409 to the same Idempotency-Key with a different body, and writes nothing', async () => {
    const key = uniq('diff-');
    const first = await call('POST', '/api/collections/comments/records', { body: { post: ids.post, author: ids.alice, body: `first ${key}` }, headers: { 'Idempotency-Key': key } });
    expect(first.status, describeRes(first)).toBe(200);
    const other = await call('POST', '/api/collections/comments/records', { body: { post: ids.post, author: ids.alice, body: `second ${key}` }, headers: { 'Idempotency-Key': key } });
    expect(other.status, describeRes(other)).toBe(409);
    expect(obj(other.body)).toMatchObject({ status: 409, code: 'idempotency_conflict', data: {} });
    expect(await count('comments', { body: `second ${key}` })).toBe(0);
    expect(await count('comments', { body: `first ${key}` })).toBe(1);
  });

  it('applies an idempotent PATCH (views+) once', async () => {
    const created = await newPost({ views: 10 });
    const id = String(obj(created.body)['id']);
    const key = uniq('patch-');
    const first = await call('PATCH', `/api/collections/posts/records/${id}`, { body: { 'views+': 5 }, headers: { 'Idempotency-Key': key } });
    const second = await call('PATCH', `/api/collections/posts/records/${id}`, { body: { 'views+': 5 }, headers: { 'Idempotency-Key': key } });
    expect(first.status, describeRes(first)).toBe(200);
    expect(second.status, describeRes(second)).toBe(200);
    expect(second.headers.get('idempotency-replayed')).toBe('true');
    expect(obj((await call('GET', `/api/collections/posts/records/${id}`)).body)['views']).toBe(15);
  });

  it('replays an idempotent batch instead of running it twice', async () => {
    const key = uniq('batch-');
    const requests = [{ method: 'POST', url: '/api/collections/comments/records', body: { post: ids.post, author: ids.bob, body: `batch ${key}` } }];
    const first = await call('POST', '/api/batch', { body: { requests }, headers: { 'Idempotency-Key': key } });
    const second = await call('POST', '/api/batch', { body: { requests }, headers: { 'Idempotency-Key': key } });
    expect(first.status, describeRes(first)).toBe(200);
    expect(second.status, describeRes(second)).toBe(200);
    expect(second.headers.get('idempotency-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await count('comments', { body: `batch ${key}` })).toBe(1);
  });

  // ---- (c) batch atomicity ------------------------------------------------------------

  it('rolls a batch back entirely when a request in the middle fails, and persists it all without that request', async () => {
    const p0 = String(obj((await newPost({ tags: [ids.tags[0], ids.tags[1]] })).body)['id']);
    const p1 = String(obj((await newPost()).body)['id']);
    const c0 = String(obj((await call('POST', '/api/collections/comments/records', { body: { post: p0, author: ids.bob, body: 'to be deleted' } })).body)['id']);
    const suffix = Date.now().toString(36).slice(-6).padStart(6, '0');
    const newTag = `batchtag${suffix}0`.slice(0, 15);
    const newPostId = `batchpst${suffix}0`.slice(0, 15);
    const good = [
      { method: 'POST', url: '/api/collections/tags/records', body: { id: newTag, name: `batch-${suffix}` } },
      { method: 'POST', url: '/api/collections/posts/records', body: { id: newPostId, title: 'Batch post', slug: `batch-${suffix}`, author: ids.alice, status: 'published', tags: [newTag, ids.tags[0]] } },
      { method: 'PATCH', url: `/api/collections/posts/records/${p0}`, body: { tags: [ids.tags[1], newTag], 'views+': 3 } },
      { method: 'POST', url: '/api/collections/comments/records', body: { post: newPostId, author: ids.alice, body: `batch comment ${suffix}` } },
      { method: 'DELETE', url: `/api/collections/comments/records/${c0}` },
      { method: 'PUT', url: '/api/collections/posts/records', body: { id: p1, title: 'Upserted title' } },
    ];
    const failures: [string, Json, number][] = [
      ['validation error', { method: 'POST', url: '/api/collections/posts/records', body: { title: 'x' } }, 400],
      ['unique violation in the database', { method: 'POST', url: '/api/collections/tags/records', body: { name: 'NEWS' } }, 400],
      ['missing record', { method: 'PATCH', url: '/api/collections/posts/records/doesnotexist123', body: { title: 'nope' } }, 404],
      ['missing relation', { method: 'PATCH', url: `/api/collections/posts/records/${p1}`, body: { tags: ['nosuchtag000000'] } }, 400],
    ];
    const before = await snapshot();
    for (const [label, failing, status] of failures) {
      const requests = [...good.slice(0, 3), failing, ...good.slice(3)];
      const res = await call('POST', '/api/batch', { body: { requests } });
      expect(res.status, `${label}: ${describeRes(res)}`).toBe(400);
      expect(obj(res.body), label).toMatchObject({ status: 400, code: 'batch_failed' });
      const failed = obj(obj(obj(res.body)['data'])['requests']);
      expect(Object.keys(failed), `${label}: the failing index is reported`).toEqual(['3']);
      expect(obj(obj(failed['3'])['response'])['status'], label).toBe(status);
      const after = await snapshot();
      for (const table of Object.keys(before)) expect(after[table], `${label}: ${table} unchanged`).toEqual(before[table]);
    }

    const counts = { posts: await count('posts'), tags: await count('tags'), comments: await count('comments'), junction: await count(JUNCTION) };
    const res = await call('POST', '/api/batch', { body: { requests: good } });
    expect(res.status, describeRes(res)).toBe(200);
    expect((res.body as { status: number }[]).map((r) => r.status)).toEqual([200, 200, 200, 200, 204, 200]);
    expect(await count('posts')).toBe(counts.posts + 1);
    expect(await count('tags')).toBe(counts.tags + 1);
    expect(await count('comments')).toBe(counts.comments); // one created, one deleted
    expect(await count(JUNCTION)).toBe(counts.junction + 2); // the new post's two tags; p0 keeps two
    const junction = async (owner: string) => ((await t.app.db.knex(JUNCTION).where({ owner_id: owner }).orderBy('position')) as { target_id: string }[]).map((r) => r.target_id);
    expect(await junction(newPostId)).toEqual([newTag, ids.tags[0]]);
    expect(await junction(p0)).toEqual([ids.tags[1], newTag]);
    const stored = obj((await call('GET', `/api/collections/posts/records/${p0}`)).body);
    expect(stored).toMatchObject({ views: 3, tags: [ids.tags[1], newTag] });
    expect(obj((await call('GET', `/api/collections/posts/records/${p1}`)).body)['title']).toBe('Upserted title');
    expect(await count('comments', { id: c0 })).toBe(0);
  });

  // ---- (d) no deadlocks --------------------------------------------------------------------

  it('completes two concurrent batches that update the same two records in opposite order (no 5xx), 5 rounds', async () => {
    for (let round = 0; round < 5; round++) {
      const a = String(obj((await newPost()).body)['id']);
      const b = String(obj((await newPost()).body)['id']);
      const inc = (id: string) => ({ method: 'PATCH', url: `/api/collections/posts/records/${id}`, body: { 'views+': 1 } });
      serverErrors.length = 0;
      const [ab, ba] = await Promise.all([
        call('POST', '/api/batch', { body: { requests: [inc(a), inc(b)] } }),
        call('POST', '/api/batch', { body: { requests: [inc(b), inc(a)] } }),
      ]);
      const summary = `round ${round}: a→b ${describeRes(ab)} | b→a ${describeRes(ba)}${serverErrors.length ? ` | server errors: ${serverErrors.join(' | ')}` : ''}`;
      expect(ab.status, summary).toBeLessThan(500);
      expect(ba.status, summary).toBeLessThan(500);
      const ok = [ab, ba].filter((r) => r.status === 200).length;
      for (const id of [a, b]) expect(obj((await call('GET', `/api/collections/posts/records/${id}`)).body)['views'], summary).toBe(ok);
    }
  });

  it('completes 20 concurrent mixed batches and single writes with 2xx/4xx (no deadlock, no 5xx), 3 rounds', async () => {
    for (let round = 0; round < 3; round++) {
      const a = String(obj((await newPost()).body)['id']);
      const b = String(obj((await newPost()).body)['id']);
      const doomed = await Promise.all(Array.from({ length: 2 }, async (_, i) => String(obj((await call('POST', '/api/collections/comments/records', { body: { post: a, author: ids.bob, body: `doomed ${round} ${i}` } })).body)['id'])));
      const inc = (id: string) => ({ method: 'PATCH', url: `/api/collections/posts/records/${id}`, body: { 'views+': 1 } });
      const comment = (post: string, text: string) => ({ method: 'POST', url: '/api/collections/comments/records', body: { post, author: ids.alice, body: text } });
      /** Each request, and how many times it increments a's views if it succeeds. */
      const ops: { label: string; run: () => Promise<Res>; incA: number }[] = [];
      for (let i = 0; i < 3; i++) {
        // Two batches lock a then b, one locks b then a: on PostgreSQL they contend on the same rows in opposite order.
        const order = i === 2 ? [inc(b), inc(a)] : [inc(a), inc(b)];
        ops.push({ label: `batch ${i}`, incA: 1, run: () => call('POST', '/api/batch', { body: { requests: [comment(a, `batch ${round} ${i}`), ...order, comment(b, `batch ${round} ${i}b`)] } }) });
      }
      ops.push({ label: 'batch b→a', incA: 1, run: () => call('POST', '/api/batch', { body: { requests: [inc(b), comment(a, `rev ${round}`), inc(a)] } }) });
      ops.push({ label: 'failing batch', incA: 0, run: () => call('POST', '/api/batch', { body: { requests: [inc(a), comment(a, `never ${round}`), { method: 'POST', url: '/api/collections/posts/records', body: {} }] } }) });
      for (let i = 0; i < 4; i++) ops.push({ label: `comment ${i}`, incA: 0, run: () => call('POST', '/api/collections/comments/records', { body: { post: i % 2 ? a : b, author: ids.bob, body: `single ${round} ${i}` } }) });
      for (let i = 0; i < 4; i++) ops.push({ label: `views+ ${i}`, incA: i % 2 ? 0 : 1, run: () => call('PATCH', `/api/collections/posts/records/${i % 2 ? b : a}`, { body: { 'views+': 1 } }) });
      for (const id of doomed) ops.push({ label: `delete ${id}`, incA: 0, run: () => call('DELETE', `/api/collections/comments/records/${id}`) });
      ops.push({ label: 'delete post b', incA: 0, run: () => call('DELETE', `/api/collections/posts/records/${b}`) });
      for (let i = 0; i < 3; i++) ops.push({ label: `list ${i}`, incA: 0, run: () => call('GET', `/api/collections/comments/records?filter=${encodeURIComponent(`post = "${a}" || post.views > 0`)}&expand=post,author&perPage=100`) });
      ops.push({ label: 'guest list', incA: 0, run: () => call('GET', '/api/collections/posts/records?sort=-views&expand=comments_via_post', { token: null }) });
      expect(ops.length).toBe(20);

      serverErrors.length = 0;
      const results = await Promise.allSettled(ops.map((op) => op.run()));
      const lines = results.map((r, i) => `${ops[i]!.label}: ${r.status === 'fulfilled' ? describeRes(r.value) : `no answer (${String(r.reason)})`}`);
      if (serverErrors.length) lines.unshift(`server errors: ${serverErrors.join(' | ')}`);
      for (const [i, r] of results.entries()) {
        expect(r.status, lines.join('\n')).toBe('fulfilled');
        const status = (r as PromiseFulfilledResult<Res>).value.status;
        expect(status >= 200 && status < 500, `${lines[i]}\n\nall:\n${lines.join('\n')}`).toBe(true);
      }
      // Every successful increment of a, and only those, is in the stored count.
      const expected = results.reduce((sum, r, i) => sum + (r.status === 'fulfilled' && r.value.status < 300 ? ops[i]!.incA : 0), 0);
      const stored = obj((await call('GET', `/api/collections/posts/records/${a}`)).body);
      expect(stored['views'], lines.join('\n')).toBe(expected);
      expect(await count('comments', { body: `never ${round}` })).toBe(0);
    }
  });
});
