/**
 * The example app's hooks (collections/posts.hooks.ts, issue 14 item 8) through the REST API and
 * the unmodified pocketbase SDK: a slug from the title, publishedAt stamped when a post becomes
 * published, a published post without a body refused with a field error, GET /api/posts/stats.
 */
import PocketBase from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, EXAMPLE_COLLECTIONS, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { sdkError } from '../helpers/sdk.js';

type Json = Record<string, unknown>;

describe.each(DIALECTS)('example app hooks (%s)', (dialect) => {
  let t: TestApp;
  let pb: PocketBase;
  let author = '';

  beforeAll(async () => {
    t = await createTestApp(dialect, undefined, { hooksDir: EXAMPLE_COLLECTIONS });
    const base = await t.listen();
    pb = new PocketBase(base);
    author = String((await t.seed('users', { email: 'writer@example.com', name: 'Writer', password: 'password123', passwordConfirm: 'password123' }))['id']);
    await pb.collection('users').authWithPassword('writer@example.com', 'password123');
  });
  afterAll(async () => t?.close());

  it('derives the slug from the title when none is sent, and keeps a given one', async () => {
    const made = await pb.collection('posts').create<Json>({ title: 'Héllo, Wörld! 2026', author, status: 'draft' });
    expect(made['slug']).toBe('hello-world-2026');
    const own = await pb.collection('posts').create<Json>({ title: 'Another title', slug: 'my-own', author, status: 'draft' });
    expect(own['slug']).toBe('my-own');
  });

  it('stamps publishedAt when a post becomes published, once', async () => {
    const draft = await pb.collection('posts').create<Json>({ title: 'Draft first', author, status: 'draft', body: '<p>Text</p>' });
    expect(draft['publishedAt']).toBe('');
    const published = await pb.collection('posts').update<Json>(String(draft['id']), { status: 'published' });
    expect(published['publishedAt']).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const edited = await pb.collection('posts').update<Json>(String(draft['id']), { title: 'Draft first, edited' });
    expect(edited['publishedAt']).toBe(published['publishedAt']);
  });

  it('refuses a published post without a body with a field error (nothing stored)', async () => {
    const err = await sdkError(() => pb.collection('posts').create({ title: 'Empty post', author, status: 'published', body: '<p> </p>' }));
    expect(err.status).toBe(400);
    expect(err.response['data']).toEqual({ body: { code: 'validation_required', message: 'A published post needs a body.' } });
    expect((await pb.collection('posts').getList(1, 1, { filter: 'title = "Empty post"' })).totalItems).toBe(0);
    const draft = await pb.collection('posts').create<Json>({ title: 'Will be empty', author, status: 'draft' });
    const update = await sdkError(() => pb.collection('posts').update(String(draft['id']), { status: 'published' }));
    expect(update.message).toBe('Failed to update record.');
  });

  it('GET /api/posts/stats counts posts per status for anyone', async () => {
    const res = await fetch(`${pb.baseURL}/api/posts/stats`);
    expect(res.status).toBe(200);
    const stats = (await res.json()) as { total: number; byStatus: Record<string, number> };
    const all = await t.app.db.runner().all('SELECT "status", COUNT(*) AS "n" FROM "posts" GROUP BY "status"', []);
    const expected = { draft: 0, published: 0, archived: 0, ...Object.fromEntries(all.map((r) => [String(r['status']), Number(r['n'])])) };
    expect(stats).toEqual({ total: Object.values(expected).reduce((a, b) => a + b, 0), byStatus: expected });
    expect(stats.byStatus['draft']).toBeGreaterThan(0);
  });
});
