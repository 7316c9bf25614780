/**
 * Requests without a cost bound (issue 9, items 12–14): what a guest could use to stall or crash
 * the server now meets a bound — a clear 400 before any work (filter and sort cost model, expand
 * budget), a 503 at the query deadline, a fast 503 past the in-flight limit — and health checks
 * answer all the while. No timing thresholds: each test asserts the bound and its error shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WritePlugin } from '../../src/records/plugins.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

type Json = Record<string, unknown>;

const QUERY_TIMEOUT_MS = 3000;

describe.each(DIALECTS)('cost bounds (%s)', (dialect) => {
  let t: TestApp;
  let base = '';
  let postId = '';
  let gateArrivals = 0;
  let releaseGate!: () => void;
  const gate = new Promise<void>((resolve) => (releaseGate = resolve));

  /** Holds creates of `tags` named "hold…" in the write pipeline until released (requests that stay in flight). */
  const holdPlugin: WritePlugin = {
    name: 'test-hold',
    handlersFor: (collection, action) =>
      collection.name === 'tags' && action === 'create'
        ? {
            prepare: async (w) => {
              if (!String(w.record['name']).startsWith('hold')) return;
              gateArrivals++;
              await gate;
            },
          }
        : null,
  };

  beforeAll(async () => {
    t = await createTestApp(dialect, undefined, { plugins: [holdPlugin], connect: { queryTimeoutMs: QUERY_TIMEOUT_MS }, maxInFlight: 3 });
    base = await t.listen();
    const pw = { password: 'password123', passwordConfirm: 'password123' };
    const author = String((await t.seed('users', { email: 'cost@example.com', ...pw }))['id']);
    const tags = [];
    for (const name of ['a', 'b', 'c']) tags.push(String((await t.seed('tags', { name }))['id']));
    for (let i = 0; i < 60; i++) {
      const post = await t.seed('posts', { title: `Post ${i}`, slug: `post-${i}`, author, status: 'published', tags });
      if (i === 0) postId = String(post['id']);
    }
  });
  afterAll(async () => {
    releaseGate();
    await t?.close();
  });

  const get = async (path: string) => {
    const res = await fetch(base + path);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Json };
  };
  const q = (s: string) => encodeURIComponent(s);

  describe('filter and sort cost model', () => {
    const threeBack = 'comments_via_post.post.comments_via_post.post.comments_via_post.body != "zz"';
    it.each([
      ['three back-relations in one path', `id = "${'x'.repeat(15)}" && ${threeBack}`],
      ['45 &&-joined 5-hop comparisons', Array.from({ length: 45 }, (_, i) => `tags.posts_via_tags.tags.posts_via_tags.title != "${i}"`).join(' && ')],
    ])('refuses %s with a 400 naming the cost', async (_name, filter) => {
      const res = await get(`/api/collections/posts/records?filter=${q(filter)}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_filter', message: expect.stringContaining('too expensive') });
    });

    it('answers cheaper paths of the same shape', async () => {
      for (const filter of ['comments_via_post.body != "zz"', 'tags.posts_via_tags.title ?= "Post 1"', 'comments_via_post.post.comments_via_post.body ?= "zz"']) {
        expect((await get(`/api/collections/posts/records?filter=${q(filter)}`)).status, filter).toBe(200);
      }
    });

    it('refuses a sort through two back-relations (400 invalid_sort); one back-relation sorts', async () => {
      const refused = await get(`/api/collections/posts/records?sort=${q('comments_via_post.post.comments_via_post.body')}`);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'invalid_sort', message: expect.stringContaining('too expensive') });
      expect((await get(`/api/collections/posts/records?sort=${q('-comments_via_post.body')}`)).status).toBe(200);
    });
  });

  describe('expand budget', () => {
    it('refuses a fan-out that would present more than the budget of expanded records (400)', async () => {
      // 60 posts × 3 tags × 60 posts × 3 tags × 60 posts × 3 tags… : millions of nested copies.
      const res = await get(`/api/collections/posts/records?perPage=100&expand=${q('tags.posts_via_tags.tags.posts_via_tags.tags.posts_via_tags')}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_expand', message: expect.stringContaining('more than 100000 expanded records') });
    });

    it('answers the same expand two levels deep', async () => {
      const res = await get(`/api/collections/posts/records?perPage=100&expand=${q('tags.posts_via_tags')}`);
      expect(res.status).toBe(200);
      const first = (res.body['items'] as Json[])[0]!;
      const tags = (first['expand'] as Json)['tags'] as Json[];
      expect(((tags[0]!['expand'] as Json)['posts_via_tags'] as unknown[]).length).toBe(60);
    });
  });

  describe('query deadline', () => {
    // A read that would run for many seconds: on SQLite a reader thread counts, on PostgreSQL it sleeps.
    const slowRead = dialect === 'postgres' ? 'SELECT pg_sleep(30) AS "x"' : 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 400000000) SELECT COUNT(*) AS "x" FROM c';

    it('cuts a long read off with 503 query_timeout while health and single-record reads keep answering', async () => {
      let settled = false;
      const slow = t.app.db
        .runner()
        .read(slowRead, [])
        .then(
          () => 'finished',
          (err: unknown) => err,
        )
        .finally(() => (settled = true));
      const health = await get('/api/health');
      const one = await get(`/api/collections/posts/records/${postId}`);
      expect(health.status).toBe(200);
      expect(one.status).toBe(200);
      expect(settled, 'the event loop answered while the slow read was still running').toBe(false);
      const outcome = await slow;
      expect(outcome).toMatchObject({ code: 'query_timeout', status: 503 });
    });

  });

  describe('in-flight limit (GALLEY_MAX_IN_FLIGHT = 3)', () => {
    it('answers a fast 503 past the limit; health still answers; capacity comes back', async () => {
      const su = await t.superuserToken();
      const held = Array.from({ length: 3 }, (_, i) =>
        fetch(`${base}/api/collections/tags/records`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: su }, body: JSON.stringify({ name: `hold${i}` }) }),
      );
      // On SQLite the first held write keeps the write lock: the others wait in the pool's queue,
      // in flight all the same. Wait until the first is inside the pipeline.
      const deadline = Date.now() + 20_000;
      while (gateArrivals === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(gateArrivals).toBeGreaterThan(0);
      let shed: Awaited<ReturnType<typeof get>> | null = null;
      // The three held requests are in flight once the server has read them; poll until the fourth is shed.
      while (Date.now() < deadline) {
        shed = await get('/api/collections/tags/records');
        if (shed.status === 503) break;
      }
      expect(shed!.status).toBe(503);
      expect(shed!.body).toMatchObject({ status: 503, code: 'overloaded' });
      expect(shed!.headers.get('retry-after')).toBe('1');
      expect((await get('/api/health')).status).toBe(200);
      releaseGate();
      const results = await Promise.all(held);
      expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
      expect((await get('/api/collections/tags/records')).status).toBe(200);
    });
  });
});
