/**
 * The unmodified `pocketbase` npm SDK (0.28) against a listening Galley: list/full list/first item,
 * view, create (JSON and the FormData + @jsonPayload path), update, delete, batch, and how the SDK
 * parses Galley's errors into ClientResponseError.
 *
 * Auth endpoints do not exist yet: the SDK is authenticated with `pb.authStore.save(token, null)`.
 */
import PocketBase, { type RecordModel } from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { sdkError } from '../helpers/sdk.js';
import { recordToken } from '../helpers/scenario.js';

interface Sent {
  method: string;
  /** The URL as fetched (query string included). */
  url: URL;
  /** The body as the SDK built it, before JSON serialization (FormData when it went multipart). */
  body: unknown;
}

/** A client that records every request it sends (method, body, final URL) for assertions on the wire format. */
function client(baseURL: string, token?: string): { pb: PocketBase; sent: Sent[] } {
  const pb = new PocketBase(baseURL);
  pb.autoCancellation(false);
  const sent: Sent[] = [];
  pb.beforeSend = (url, options) => {
    sent.push({ method: String(options.method ?? 'GET'), url: new URL(url), body: options.body });
    return { url, options };
  };
  pb.afterSend = (response, data) => {
    sent.at(-1)!.url = new URL(response.url);
    return data;
  };
  if (token) pb.authStore.save(token, null);
  return { pb, sent };
}


describe.each(DIALECTS)('pocketbase SDK against Galley (%s)', (dialect) => {
  let t: TestApp;
  let baseURL: string;
  let root: string;
  let userId: string;
  let userToken: string;
  const tagIds: string[] = [];

  beforeAll(async () => {
    t = await createTestApp(dialect);
    baseURL = await t.listen();
    root = await t.superuserToken();
    const user = await t.seed('users', { email: 'ann@example.com', password: 'password123', passwordConfirm: 'password123', name: 'Ann' });
    userId = String(user['id']);
    userToken = await recordToken(t, 'users', userId);
    for (const name of ['alpha', 'bravo', 'charlie', 'delta', 'echo']) tagIds.push(String((await t.seed('tags', { name }))['id']));
    await t.seed('posts', { title: 'Published', slug: 'published', author: userId, status: 'published', tags: [tagIds[0], tagIds[1]] });
    await t.seed('posts', { title: 'Draft', slug: 'draft', author: userId, status: 'draft' });
  });
  afterAll(async () => t?.close());

  it('health check', async () => {
    const { pb } = client(baseURL);
    const health = await pb.health.check();
    expect(health.code).toBe(200);
    expect(health.message).toBe('API is healthy.');
  });

  it('getList: pagination, sort, filter with pb.filter, fields', async () => {
    const { pb, sent } = client(baseURL);
    const page = await pb.collection('tags').getList(2, 2, { sort: 'name' });
    expect(page).toMatchObject({ page: 2, perPage: 2, totalItems: 5, totalPages: 3 });
    expect(page.items.map((i) => i['name'])).toEqual(['charlie', 'delta']);
    expect(page.items[0]).toMatchObject({ collectionName: 'tags', collectionId: expect.stringMatching(/^pbc_/) });
    expect(sent[0]!.url.searchParams.get('page')).toBe('2');
    expect(sent[0]!.url.searchParams.get('perPage')).toBe('2');

    const filtered = await pb.collection('tags').getList(1, 30, { filter: pb.filter('name = {:n} || name ~ {:p}', { n: 'alpha', p: 'ech' }), sort: '-name', fields: 'id,name' });
    expect(filtered.items).toEqual([
      { id: tagIds[4], name: 'echo' },
      { id: tagIds[0], name: 'alpha' },
    ]);

    const skipped = await pb.collection('tags').getList(1, 1, { skipTotal: true });
    expect(skipped.totalItems).toBe(-1);
    expect(skipped.totalPages).toBe(-1);
  });

  it('getList honours rules: the guest sees published posts, the author also drafts', async () => {
    const guest = await client(baseURL).pb.collection('posts').getList();
    expect(guest.items.map((p) => p['title'])).toEqual(['Published']);
    const author = await client(baseURL, userToken).pb.collection('posts').getList(1, 30, { sort: 'title' });
    expect(author.items.map((p) => p['title'])).toEqual(['Draft', 'Published']);
  });

  it('getFullList with batch 2 over 5 records pages with perPage=2&skipTotal=1 until a short page', async () => {
    const { pb, sent } = client(baseURL);
    const all = await pb.collection('tags').getFullList({ batch: 2, sort: 'name' });
    expect(all.map((r) => r['name'])).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
    expect(sent.map((s) => [s.url.searchParams.get('page'), s.url.searchParams.get('perPage'), s.url.searchParams.get('skipTotal')])).toEqual([
      ['1', '2', '1'],
      ['2', '2', '1'],
      ['3', '2', '1'],
    ]);
  });

  it('getFullList with the default batch (1000) takes one request', async () => {
    const { pb, sent } = client(baseURL);
    expect(await pb.collection('tags').getFullList()).toHaveLength(5);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url.searchParams.get('perPage')).toBe('1000');
  });

  it('getFirstListItem, and its 404 when nothing matches', async () => {
    const { pb } = client(baseURL);
    const first = await pb.collection('tags').getFirstListItem(pb.filter('name = {:n}', { n: 'delta' }));
    expect(first.id).toBe(tagIds[3]);
    const err = await sdkError(() => pb.collection('tags').getFirstListItem('name = "nope"'));
    expect(err.status).toBe(404);
    // a server-side rejection (bad filter) surfaces as a 400 with the server's body
    const bad = await sdkError(() => pb.collection('tags').getFirstListItem('name = '));
    expect(bad.status).toBe(400);
    expect(bad.response['data']).toEqual({});
  });

  it('getOne with expand; 404 as ClientResponseError', async () => {
    const { pb } = client(baseURL, root);
    const post = await pb.collection('posts').getFirstListItem('slug = "published"', { expand: 'author,tags' });
    const one = await pb.collection('posts').getOne<RecordModel & { expand: { author: RecordModel; tags: RecordModel[] } }>(post.id, { expand: 'author,tags' });
    expect(one.expand.author['name']).toBe('Ann');
    expect(one.expand.tags.map((x) => x['name'])).toEqual(['alpha', 'bravo']);
    expect(one['created']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);

    const err = await sdkError(() => client(baseURL).pb.collection('posts').getOne('missing00000000'));
    expect(err.status).toBe(404);
    expect(err.response['message']).toBe("The requested resource wasn't found.");
    expect(err.response['code']).toBe('not_found');
    expect(err.message).toBe("The requested resource wasn't found.");
  });

  it('create (JSON), update with modifiers, delete', async () => {
    const { pb, sent } = client(baseURL, root);
    const created = await pb.collection('posts').create({
      title: 'From the SDK',
      slug: 'from-sdk',
      author: userId,
      status: 'draft',
      tags: [tagIds[2], tagIds[3]],
      categories: ['news', 'howto'],
      metadata: { nested: { list: [1, 2, 3] }, ok: true },
      views: 3,
      featured: true,
    });
    expect(sent.at(-1)!.body).not.toBeInstanceOf(FormData); // JSON
    expect(created).toMatchObject({ title: 'From the SDK', tags: [tagIds[2], tagIds[3]], categories: ['news', 'howto'], metadata: { nested: { list: [1, 2, 3] }, ok: true }, views: 3, featured: true });

    const updated = await pb.collection('posts').update(created.id, { 'views+': 2, 'tags-': tagIds[2], '+categories': 'release', title: 'Renamed' }, { expand: 'tags' });
    expect(updated).toMatchObject({ views: 5, tags: [tagIds[3]], categories: ['release', 'news', 'howto'], title: 'Renamed' });
    expect((updated['expand'] as { tags: RecordModel[] }).tags.map((x) => x['name'])).toEqual(['delta']);

    expect(await pb.collection('posts').delete(created.id)).toBe(true);
    const gone = await sdkError(() => pb.collection('posts').getOne(created.id));
    expect(gone.status).toBe(404);
  });

  it('create with a Blob: the file part is refused by name (never accepted and dropped), nothing is created', async () => {
    // Uploads are not stored yet (galley.md §10): a file part is a 400 naming it, not a silent drop.
    const { pb, sent } = client(baseURL, root);
    const err = await sdkError(() =>
      pb.collection('posts').create({
        title: 'Multipart post',
        slug: 'multipart-post',
        author: userId,
        status: 'published',
        metadata: { deep: { a: [1, 'x'] } },
        attachment: new Blob(['hello'], { type: 'text/plain' }),
      }),
    );
    const body = sent.at(-1)!.body;
    expect(body).toBeInstanceOf(FormData);
    expect((body as FormData).getAll('@jsonPayload')).toHaveLength(1);
    expect(err.status).toBe(400);
    expect(Object.keys(err.response['data'] as object)).toEqual(['attachment']);
    expect((await pb.collection('posts').getList(1, 1, { filter: 'slug = "multipart-post"' })).totalItems).toBe(0);
  });

  it('ClientResponseError carries status and per-field codes', async () => {
    const { pb } = client(baseURL, root);
    const err = await sdkError(() => pb.collection('posts').create({ title: 'ab', slug: 'Bad Slug', status: 'nope' }));
    expect(err.status).toBe(400);
    expect(err.message).toBe('Failed to create record.');
    expect(err.response['code']).toBe('create_failed');
    const data = err.response['data'] as Record<string, { code: string; message: string; params?: unknown }>;
    expect(data['title']).toEqual({ code: 'validation_min_text_constraint', message: 'Must be at least 3 character(s).', params: { min: 3 } });
    expect(data['slug']!.code).toBe('validation_invalid_format');
    expect(data['author']!.code).toBe('validation_required');
    expect(data['status']!.code).toBe('validation_invalid_value');
    expect(err.data).toBe(err.response); // the SDK's alias

    // a rule failure: guest create → 400 with empty data; null rule → 403
    const guest = client(baseURL).pb;
    const ruled = await sdkError(() => guest.collection('tags').create({ name: 'guest-tag' }));
    expect(ruled.status).toBe(400);
    expect(ruled.response['data']).toEqual({});
    const locked = await sdkError(() => guest.collection('tags').update(tagIds[0]!, { name: 'x' }));
    expect(locked.status).toBe(403);
    expect(locked.message).toBe('Only superusers can perform this action.');
    const unknown = await sdkError(() => guest.collection('nope').getList());
    expect(unknown.status).toBe(404);
    expect(unknown.message).toBe('Missing collection context.');
  });

  it('createBatch: create, update, upsert (update and create), delete in one transaction', async () => {
    const { pb, sent } = client(baseURL, root);
    const victim = await pb.collection('tags').create({ name: 'batch-victim' });
    const target = await pb.collection('tags').create({ name: 'batch-target' });
    const newId = 'batchupsert0001';

    const batch = pb.createBatch();
    batch.collection('tags').create({ name: 'batch-new' }, { fields: 'id,name' });
    batch.collection('tags').update(target.id, { name: 'batch-renamed', color: '#00ff00' });
    batch.collection('tags').upsert({ id: target.id, color: '#0000ff' });
    batch.collection('tags').upsert({ id: newId, name: 'batch-upserted' });
    batch.collection('tags').delete(victim.id);
    const results = await batch.send();

    expect(sent.at(-1)!.body).toBeInstanceOf(FormData); // the SDK always sends batches as multipart
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 204]);
    expect(Object.keys(results[0]!.body as object)).toEqual(['id', 'name']);
    expect(results[0]!.body).toMatchObject({ name: 'batch-new' });
    expect(results[1]!.body).toMatchObject({ id: target.id, name: 'batch-renamed', color: '#00ff00' });
    expect(results[2]!.body).toMatchObject({ id: target.id, name: 'batch-renamed', color: '#0000ff' });
    expect(results[3]!.body).toMatchObject({ id: newId, name: 'batch-upserted' });
    expect(results[4]!.body).toBeNull();

    expect((await pb.collection('tags').getOne(newId))['name']).toBe('batch-upserted');
    expect((await sdkError(() => pb.collection('tags').getOne(victim.id))).status).toBe(404);
  });

  it('createBatch failure: ClientResponseError with data.requests.<i>, nothing persisted', async () => {
    const { pb } = client(baseURL, root);
    const batch = pb.createBatch();
    batch.collection('tags').create({ name: 'batch-rolled-back' });
    batch.collection('tags').create({ color: 'not-a-color' });
    const err = await sdkError(() => batch.send());
    expect(err.status).toBe(400);
    expect(err.message).toBe('Batch transaction failed.');
    const failed = (err.response['data'] as { requests: Record<string, { code: string; response: { status: number; data: Record<string, { code: string }> } }> }).requests;
    expect(Object.keys(failed)).toEqual(['1']);
    expect(failed['1']!.code).toBe('batch_request_failed');
    expect(failed['1']!.response.status).toBe(400);
    expect(failed['1']!.response.data['name']!.code).toBe('validation_required');
    expect(failed['1']!.response.data['color']!.code).toBe('validation_invalid_format');
    const leftovers = await pb.collection('tags').getList(1, 1, { filter: 'name = "batch-rolled-back"' });
    expect(leftovers.totalItems).toBe(0);
  });

  it('collections API through pb.collections (superuser only)', async () => {
    const { pb } = client(baseURL, root);
    const posts = await pb.collections.getOne('posts');
    expect(posts.name).toBe('posts');
    expect(posts.type).toBe('base');
    expect(posts.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['id', 'title', 'author', 'created']));
    const all = await pb.collections.getFullList();
    expect(all.map((c) => c.name)).toEqual(expect.arrayContaining(['_superusers', 'users', 'posts', 'comments', 'tags']));
    const err = await sdkError(() => client(baseURL).pb.collections.getList());
    expect(err.status).toBe(401);
  });
});
