import { existsSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENCE_ASSETS } from '../../src/http/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { SseStream } from '../helpers/sse.js';
import { DIALECTS } from '../helpers/dialects.js';
import { ContractChecker } from './contract.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Documented operations this branch does not serve yet (built on other branches from the same
 * reference): the contract test leaves them out and says why. Remove an entry once it is merged.
 */
const NOT_VALIDATED: Record<string, string> = {
  'realtime.connect': 'realtime: an SSE stream never ends, so it is not validated here (test/realtime/protocol.test.ts checks it)',
};
const DOCS_BUILT = existsSync(join(REFERENCE_ASSETS, 'redoc.standalone.js'));

describe.each(DIALECTS)('every documented operation of the example app answers as documented (%s)', (dialect) => {
  let t: TestApp;
  let checker: ContractChecker;
  let su: string;
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};

  /** Sends a request to operation `id` and checks the exchange against the document. */
  async function call(id: string, path: string, options: { token?: string; body?: Json; headers?: Record<string, string>; status?: number; badInput?: boolean } = {}): Promise<Json> {
    const op = checker.operations.get(id);
    expect(op, `${id} is documented`).toBeDefined();
    let req = request(t.http)[op!.method.toLowerCase() as 'get'](path);
    if (options.token) req = req.set('Authorization', options.token);
    for (const [k, v] of Object.entries(options.headers ?? {})) req = req.set(k, v);
    if (options.body !== undefined) req = req.send(options.body);
    // A deliberately bad body is not held to the request schema; the error it gets is checked.
    const res = checker.check(id, path, await req, options.badInput ? undefined : options.body);
    if (options.status !== undefined) expect(res.status, `${id} ${path}: ${JSON.stringify(res.body).slice(0, 300)}`).toBe(options.status);
    return res as unknown as Json;
  }

  beforeAll(async () => {
    t = await createTestApp(dialect, undefined, { admin: true });
    // The document under test is the one the server serves.
    const served = await request(t.http).get('/api/openapi.json').expect(200);
    checker = new ContractChecker(served.body as Json);
    su = await t.superuserToken();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the document lists the operations this test walks through', () => {
    expect(checker.operations.size).toBeGreaterThan(60);
  });

  it('health, metrics, the document itself and the reference page', async () => {
    await call('health', '/api/health', { status: 200 });
    await call('metrics', '/metrics', { status: 200 });
    const doc = await call('galley.openapi', '/api/openapi.json', { status: 200 });
    await call('galley.openapi', '/api/openapi.json', { headers: { 'If-None-Match': doc['headers'].etag }, status: 304 });
    if (DOCS_BUILT) await call('galley.docs', '/api/docs', { status: 200 });
    else console.log('[contract] galley.docs: the reference page is not built (npm run build:admin); not validated');
  });

  it('users: sign-up, sign-in, view, list, update, the auth flows', async () => {
    const signUp = { email: 'ada@example.com', password: 'password123', passwordConfirm: 'password123', name: 'Ada', role: 'author', emailVisibility: true };
    ids['ada'] = (await call('users.create', '/api/collections/users/records', { body: signUp, status: 200 }))['body'].id;
    await call('users.create', '/api/collections/users/records', { body: { email: 'not-an-email', password: 'x', passwordConfirm: 'y' }, badInput: true, status: 400 });
    await call('users.authMethods', '/api/collections/users/auth-methods', { status: 200 });
    const signedIn = await call('users.authWithPassword', '/api/collections/users/auth-with-password', { body: { identity: 'ada@example.com', password: 'password123' }, status: 200 });
    tokens['ada'] = signedIn['body'].token;
    await call('users.authWithPassword', '/api/collections/users/auth-with-password', { body: { identity: 'ada@example.com', password: 'wrong-password' }, status: 400 });
    await call('users.authRefresh', '/api/collections/users/auth-refresh', { token: tokens['ada'], status: 200 });
    await call('users.authRefresh', '/api/collections/users/auth-refresh', { status: 401 });
    await call('users.view', `/api/collections/users/records/${ids['ada']}`, { token: tokens['ada'], status: 200 });
    await call('users.view', `/api/collections/users/records/${ids['ada']}`, { status: 404 });
    await call('users.list', '/api/collections/users/records', { token: tokens['ada'], status: 200 });
    await call('users.update', `/api/collections/users/records/${ids['ada']}`, { token: tokens['ada'], body: { name: 'Ada L.' }, status: 200 });
    await call('users.requestVerification', '/api/collections/users/request-verification', { body: { email: 'ada@example.com' }, status: 204 });
    await call('users.confirmVerification', '/api/collections/users/confirm-verification', { body: { token: 'not-a-token' }, status: 400 });
    await call('users.requestPasswordReset', '/api/collections/users/request-password-reset', { body: { email: 'ada@example.com' }, status: 204 });
    await call('users.confirmPasswordReset', '/api/collections/users/confirm-password-reset', { body: { token: 'x', password: 'password456', passwordConfirm: 'password456' }, status: 400 });
    await call('users.requestEmailChange', '/api/collections/users/request-email-change', { token: tokens['ada'], body: { newEmail: 'ada2@example.com' }, status: 204 });
    await call('users.confirmEmailChange', '/api/collections/users/confirm-email-change', { body: { token: 'x', password: 'password123' }, status: 400 });
    await call('users.impersonate', `/api/collections/users/impersonate/${ids['ada']}`, { token: su, body: { duration: 60 }, status: 200 });
    await call('users.impersonate', `/api/collections/users/impersonate/${ids['ada']}`, { token: tokens['ada'], body: {}, status: 403 });
  });

  it('tags: create, view with ETag and If-None-Match, list, update with If-Match, delete; locked rules answer 403', async () => {
    const created = await call('tags.create', '/api/collections/tags/records', { token: tokens['ada'], body: { name: 'News', color: '#ff0000' }, status: 200 });
    ids['tag'] = created['body'].id;
    const view = await call('tags.view', `/api/collections/tags/records/${ids['tag']}`, { status: 200 });
    await call('tags.view', `/api/collections/tags/records/${ids['tag']}`, { headers: { 'If-None-Match': view['headers'].etag }, status: 304 });
    await call('tags.list', '/api/collections/tags/records?sort=-created&perPage=5', { status: 200 });
    await call('tags.list', '/api/collections/tags/records?filter=nme%3D1', { status: 400 });
    await call('tags.update', `/api/collections/tags/records/${ids['tag']}`, { token: tokens['ada'], body: { color: '#00ff00' }, status: 403 });
    const updated = await call('tags.update', `/api/collections/tags/records/${ids['tag']}`, { token: su, headers: { 'If-Match': view['headers'].etag }, body: { color: '#00ff00' }, status: 200 });
    await call('tags.update', `/api/collections/tags/records/${ids['tag']}`, { token: su, headers: { 'If-Match': view['headers'].etag }, body: { color: '#0000ff' }, status: 412 });
    const spare = await call('tags.create', '/api/collections/tags/records', { token: su, body: { name: 'Spare' }, status: 200 });
    await call('tags.delete', `/api/collections/tags/records/${spare['body'].id}`, { token: tokens['ada'], status: 403 });
    await call('tags.delete', `/api/collections/tags/records/${spare['body'].id}`, { token: su, headers: { 'If-Match': '"stale"' }, status: 412 });
    await call('tags.delete', `/api/collections/tags/records/${spare['body'].id}`, { token: su, status: 204 });
    expect(updated['headers'].etag).not.toBe(view['headers'].etag);
  });

  it('posts: create (idempotent), list and view with every expand, update with modifiers, errors', async () => {
    const post = {
      title: 'Hello world',
      slug: 'hello-world',
      body: '<p>Hi</p>',
      author: ids['ada']!,
      tags: [ids['tag']!],
      status: 'published',
      categories: ['news', 'howto'],
      metadata: { a: [1, 2] },
      views: 3,
      featured: true,
      publishedAt: '2024-01-02 03:04:05.678Z',
    };
    const first = await call('posts.create', '/api/collections/posts/records?expand=author', { token: tokens['ada'], headers: { 'Idempotency-Key': 'k1' }, body: post, status: 200 });
    const replay = await call('posts.create', '/api/collections/posts/records?expand=author', { token: tokens['ada'], headers: { 'Idempotency-Key': 'k1' }, body: post, status: 200 });
    expect(replay['headers']['idempotency-replayed']).toBe('true');
    await call('posts.create', '/api/collections/posts/records?expand=author', { token: tokens['ada'], headers: { 'Idempotency-Key': 'k1' }, body: { ...post, title: 'Other' }, status: 409 });
    await call('posts.create', '/api/collections/posts/records', { token: tokens['ada'], body: { ...post, slug: 'second', title: 'x' }, badInput: true, status: 400 });
    ids['post'] = first['body'].id;
    const draft = await call('posts.create', '/api/collections/posts/records', { token: tokens['ada'], body: { title: 'Draft', slug: 'draft', author: ids['ada']!, status: 'draft' }, status: 200 });
    ids['draft'] = draft['body'].id;
    await call('posts.list', '/api/collections/posts/records?expand=author,tags,comments_via_post&sort=-created', { token: tokens['ada'], status: 200 });
    await call('posts.list', '/api/collections/posts/records?skipTotal=1&perPage=1', { status: 200 });
    await call('posts.list', '/api/collections/posts/records?filter=%40request.auth.id%3D%22x%22', { status: 403 });
    await call('posts.view', `/api/collections/posts/records/${ids['post']}?expand=author,tags`, { status: 200 });
    await call('posts.view', '/api/collections/posts/records/nosuchrecord000', { status: 404 });
    await call('posts.view', `/api/collections/posts/records/${ids['post']}?expand=a.b.c.d.e.f.g`, { status: 400 });
    await call('posts.update', `/api/collections/posts/records/${ids['post']}`, { token: tokens['ada'], body: { 'views+': 2, 'categories-': 'howto', 'tags-': ids['tag']! }, status: 200 });
    await call('posts.update', `/api/collections/posts/records/${ids['post']}`, { token: tokens['ada'], body: { status: 'unknown' }, badInput: true, status: 400 });
    await call('posts.update', '/api/collections/posts/records/nosuchrecord000', { token: tokens['ada'], body: { title: 'Nope' }, status: 404 });
  });

  it('comments: create, list, view with nested expand, update, delete', async () => {
    const created = await call('comments.create', '/api/collections/comments/records', { token: tokens['ada'], body: { post: ids['post']!, author: ids['ada']!, body: 'First!' }, status: 200 });
    await call('comments.list', '/api/collections/comments/records?expand=post.author', { status: 200 });
    await call('comments.view', `/api/collections/comments/records/${created['body'].id}?expand=post.tags,author`, { token: tokens['ada'], status: 200 });
    await call('comments.update', `/api/collections/comments/records/${created['body'].id}`, { token: tokens['ada'], body: { body: 'Edited' }, status: 200 });
    await call('comments.delete', `/api/collections/comments/records/${created['body'].id}`, { token: tokens['ada'], status: 204 });
    await call('comments.delete', `/api/collections/comments/records/${created['body'].id}`, { token: tokens['ada'], status: 404 });
  });

  it('moderators and superusers: superuser-only collections, their sign-in', async () => {
    const mod = { email: 'mod@example.com', password: 'moderator-pass', passwordConfirm: 'moderator-pass', name: 'Mo', verified: true };
    await call('moderators.create', '/api/collections/moderators/records', { body: mod, status: 403 });
    ids['mod'] = (await call('moderators.create', '/api/collections/moderators/records', { token: su, body: mod, status: 200 }))['body'].id;
    tokens['mod'] = (await call('moderators.authWithPassword', '/api/collections/moderators/auth-with-password', { body: { identity: 'mod@example.com', password: 'moderator-pass' }, status: 200 }))['body'].token;
    await call('moderators.authMethods', '/api/collections/moderators/auth-methods', { status: 200 });
    await call('moderators.authRefresh', '/api/collections/moderators/auth-refresh', { token: tokens['mod'], status: 200 });
    await call('moderators.list', '/api/collections/moderators/records', { token: tokens['mod'], status: 200 });
    await call('moderators.view', `/api/collections/moderators/records/${ids['mod']}`, { token: tokens['mod'], status: 200 });
    await call('moderators.update', `/api/collections/moderators/records/${ids['mod']}`, { token: tokens['mod'], body: { name: 'Moe' }, status: 200 });
    await call('moderators.requestVerification', '/api/collections/moderators/request-verification', { body: { email: 'mod@example.com' }, status: 204 });
    await call('moderators.confirmVerification', '/api/collections/moderators/confirm-verification', { body: { token: 'x' }, status: 400 });
    await call('moderators.requestPasswordReset', '/api/collections/moderators/request-password-reset', { body: { email: 'mod@example.com' }, status: 204 });
    await call('moderators.confirmPasswordReset', '/api/collections/moderators/confirm-password-reset', { body: { token: 'x', password: 'new-password-1', passwordConfirm: 'new-password-1' }, status: 400 });
    await call('moderators.requestEmailChange', '/api/collections/moderators/request-email-change', { token: tokens['mod'], body: { newEmail: 'mo@example.com' }, status: 204 });
    await call('moderators.confirmEmailChange', '/api/collections/moderators/confirm-email-change', { body: { token: 'x', password: 'moderator-pass' }, status: 400 });
    await call('moderators.impersonate', `/api/collections/moderators/impersonate/${ids['mod']}`, { token: su, status: 200 });
    // A moderator may see the users' emails (manageRule) and delete comments.
    await call('users.view', `/api/collections/users/records/${ids['ada']}`, { token: tokens['mod'], status: 200 });
    await call('moderators.delete', `/api/collections/moderators/records/${ids['mod']}`, { token: su, status: 204 });

    const admin = { email: 'root2@example.com', password: 'password123', passwordConfirm: 'password123' };
    const created = await call('_superusers.create', '/api/collections/_superusers/records', { token: su, body: admin, status: 200 });
    await call('_superusers.list', '/api/collections/_superusers/records', { token: su, status: 200 });
    await call('_superusers.list', '/api/collections/_superusers/records', { status: 403 });
    await call('_superusers.view', `/api/collections/_superusers/records/${created['body'].id}`, { token: su, status: 200 });
    await call('_superusers.update', `/api/collections/_superusers/records/${created['body'].id}`, { token: su, body: { emailVisibility: true }, status: 200 });
    await call('_superusers.authMethods', '/api/collections/_superusers/auth-methods', { status: 200 });
    const root = await call('_superusers.authWithPassword', '/api/collections/_superusers/auth-with-password', { body: { identity: 'root2@example.com', password: 'password123' }, status: 200 });
    await call('_superusers.authRefresh', '/api/collections/_superusers/auth-refresh', { token: root['body'].token, status: 200 });
    await call('_superusers.requestPasswordReset', '/api/collections/_superusers/request-password-reset', { body: { email: 'root2@example.com' }, status: 204 });
    await call('_superusers.confirmPasswordReset', '/api/collections/_superusers/confirm-password-reset', { body: { token: 'x', password: 'password456', passwordConfirm: 'password456' }, status: 400 });
    await call('_superusers.impersonate', `/api/collections/_superusers/impersonate/${created['body'].id}`, { token: su, status: 200 });
    await call('_superusers.delete', `/api/collections/_superusers/records/${created['body'].id}`, { token: su, status: 204 });
  });

  it('realtime: set the subscriptions of a stream', async () => {
    const stream = await SseStream.connect(await t.listen());
    try {
      await call('realtime.subscribe', '/api/realtime', { token: tokens['ada'], body: { clientId: stream.clientId, subscriptions: ['posts/*', 'tags/*'] }, status: 204 });
      await call('realtime.subscribe', '/api/realtime', { body: { clientId: stream.clientId, subscriptions: [] }, status: 403 });
      await call('realtime.subscribe', '/api/realtime', { body: { clientId: 'nosuchclient', subscriptions: [] }, status: 404 });
      await call('realtime.subscribe', '/api/realtime', { body: { subscriptions: [] }, badInput: true, status: 400 });
    } finally {
      stream.close();
    }
  });

  it('batch, the collections API, the migration plan', async () => {
    const batch = { requests: [{ method: 'POST', url: '/api/collections/tags/records', body: { name: 'Batch' } }, { method: 'PATCH', url: `/api/collections/posts/records/${ids['post']}`, body: { featured: false } }] };
    await call('batch', '/api/batch', { token: tokens['ada'], body: batch, status: 200 });
    await call('batch', '/api/batch', { token: tokens['ada'], body: { requests: [{ method: 'POST', url: '/api/collections/tags/records', body: {} }] }, badInput: true, status: 400 });
    await call('collections.list', '/api/collections', { token: su, status: 200 });
    await call('collections.list', '/api/collections', { status: 401 });
    await call('collections.view', '/api/collections/posts', { token: su, status: 200 });
    await call('collections.view', '/api/collections/posts', { token: tokens['ada'], status: 403 });
    await call('galley.migrations', '/api/galley/migrations', { token: su, status: 200 });
  });

  it("PocketBase's system collections: superusers manage them, owners read their own rows, guests get nothing", async () => {
    const usersId = (await request(t.http).get('/api/collections/users').set('Authorization', su).expect(200)).body.id as string;
    const owner = { collectionRef: usersId, recordRef: ids['ada']! };
    const bodies: Record<string, Json> = {
      _mfas: { ...owner, method: 'password' },
      _otps: { ...owner, password: 'otp-secret-123' },
      _externalAuths: { ...owner, provider: 'github', providerId: '42' },
      _authOrigins: { ...owner, fingerprint: 'f'.repeat(32) },
    };
    for (const [name, body] of Object.entries(bodies)) {
      const base = `/api/collections/${name}/records`;
      const id = (await call(`${name}.create`, base, { token: su, body, status: 200 }))['body'].id as string;
      await call(`${name}.create`, base, { token: tokens['ada'], body, status: 403 });
      await call(`${name}.list`, base, { token: su, status: 200 });
      const own = await call(`${name}.list`, base, { token: tokens['ada'], status: 200 });
      expect(own['body'].items.map((r: Json) => r['id']), name).toEqual([id]);
      await call(`${name}.view`, `${base}/${id}`, { token: tokens['ada'], status: 200 });
      await call(`${name}.view`, `${base}/${id}`, { status: 404 });
      await call(`${name}.update`, `${base}/${id}`, { token: su, body: { recordRef: ids['ada']! }, status: 200 });
      await call(`${name}.update`, `${base}/${id}`, { token: tokens['ada'], body: { recordRef: 'x' }, status: 403 });
      await call(`${name}.delete`, `${base}/${id}`, { token: su, status: 204 });
    }
  });

  it('files: a file token (401 without auth), a download of a name no record holds (404)', async () => {
    const token = await call('files.token', '/api/files/token', { token: tokens['ada'], status: 200 });
    expect(typeof token['body'].token).toBe('string');
    await call('files.token', '/api/files/token', { status: 401 });
    // The example app has no file field: the 200 of a download is covered by test/files/.
    await call('files.download', `/api/files/posts/${ids['post']}/missing_abcdefghij.txt`, { status: 404 });
  });

  it('deletes clean up: a post with comments, then its author', async () => {
    await call('posts.delete', `/api/collections/posts/records/${ids['draft']}`, { token: tokens['ada'], status: 204 });
    await call('posts.delete', `/api/collections/posts/records/${ids['post']}`, { token: tokens['ada'], status: 204 });
    await call('users.delete', `/api/collections/users/records/${ids['ada']}`, { token: tokens['ada'], status: 204 });
  });

  it('every documented operation was exercised, except those this build does not serve', () => {
    const missing: string[] = [];
    for (const id of checker.operations.keys()) {
      if (checker.exercised.has(id)) continue;
      if (NOT_VALIDATED[id]) console.log(`[contract] ${id}: ${NOT_VALIDATED[id]}`);
      else if (id === 'galley.docs' && !DOCS_BUILT) continue;
      else missing.push(id);
    }
    expect(missing).toEqual([]);
  });
});
