/**
 * Custom routes (`routerAdd`, issue 14 item 5): Express-style params, the body read with Galley's
 * limits, `options.auth` with PocketBase's 401/403, errors through the one error handler, the data
 * API as superuser or as a guest. Shadowing Galley's own routes is refused at load (loading.test.ts).
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

type Json = Record<string, unknown>;
const HOOKS = resolve(import.meta.dirname, 'fixtures/routes');
const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
const COLLECTIONS: Json[] = [
  { name: 'notes', type: 'base', ...open, listRule: '@request.auth.id != ""', fields: [{ name: 'text', type: 'text' }] },
  { name: 'members', type: 'auth', ...open, fields: [] },
];

describe.each(DIALECTS)('custom routes (%s)', (dialect) => {
  let t: TestApp;
  let base = '';
  let su = '';
  let member = '';

  beforeAll(async () => {
    t = await createTestApp(dialect, COLLECTIONS, { hooksDir: HOOKS });
    base = await t.listen();
    su = await t.superuserToken();
    const m = await t.seed('members', { email: 'm@example.com', password: 'password123', passwordConfirm: 'password123' });
    const rows = await t.app.db.runner().all('SELECT "tokenKey" FROM "members" WHERE "id" = ?', [m['id']]);
    member = await t.tokens.sign(t.app.records.find('members')!, { ...m, tokenKey: rows[0]!['tokenKey'] });
    await t.seed('notes', { text: 'one' });
  });
  afterAll(async () => t?.close());

  async function call(method: string, path: string, opts: { body?: string; type?: string; token?: string } = {}) {
    const headers: Record<string, string> = {};
    if (opts.token) headers['Authorization'] = opts.token;
    if (opts.type) headers['Content-Type'] = opts.type;
    const res = await fetch(base + path, { method, headers, ...(opts.body !== undefined ? { body: opts.body } : {}) });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', text, body: (text.startsWith('{') ? JSON.parse(text) : null) as Json | null };
  }

  it('passes params and query, answers JSON', async () => {
    expect(await call('GET', '/api/hello/ada?q=1')).toMatchObject({ status: 200, body: { hello: 'ada', q: '1' } });
  });

  it('reads JSON, urlencoded and multipart bodies, with the body limit', async () => {
    expect((await call('POST', '/api/echo', { body: '{"a":1}', type: 'application/json' })).body).toEqual({ body: { a: 1 }, contentType: 'application/json' });
    expect((await call('POST', '/api/echo', { body: 'a=1&b=x', type: 'application/x-www-form-urlencoded' })).body).toMatchObject({ body: { a: 1, b: 'x' } });
    expect(await call('POST', '/api/echo', { body: '{"a":', type: 'application/json' })).toMatchObject({ status: 400, body: { code: 'invalid_body' } });
    const big = await call('POST', '/api/echo', { body: JSON.stringify({ x: 'y'.repeat(33 * 1024 * 1024) }), type: 'application/json' });
    expect(big).toMatchObject({ status: 413, body: { code: 'request_too_large' } });
  });

  it('answers text and 204', async () => {
    expect(await call('GET', '/api/text')).toMatchObject({ status: 200, text: 'plain words', type: 'text/plain; charset=utf-8' });
    expect(await call('DELETE', '/api/nothing')).toMatchObject({ status: 204, text: '' });
  });

  it('options.auth: 401 for a guest, 403 for another collection, the record without secrets otherwise', async () => {
    expect(await call('GET', '/api/me')).toMatchObject({ status: 401, body: { code: 'unauthorized', message: 'The request requires valid record authorization token.' } });
    const me = await call('GET', '/api/me', { token: member });
    expect(me).toMatchObject({ status: 200, body: { hasPassword: false } });
    expect(me.body!['id']).toEqual(expect.any(String));
    expect(await call('GET', '/api/members-only', { token: su })).toMatchObject({ status: 403, body: { code: 'auth_other_collection' } });
    expect(await call('GET', '/api/members-only', { token: member })).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('maps an ApiError to its status and body; anything else is a 500 in the error shape', async () => {
    expect(await call('GET', '/api/refuse')).toMatchObject({ status: 418, body: { status: 418, code: 'hook_error', message: "I'm a teapot.", data: { why: { code: 'teapot', message: 'Short and stout.' } } } });
    expect(await call('GET', '/api/bug')).toMatchObject({ status: 500, body: { code: 'internal' } });
    expect(await call('GET', '/api/bad-return')).toMatchObject({ status: 500, body: { code: 'internal' } });
  });

  it('reads records as a superuser by default, or with the rules of `as`', async () => {
    expect((await call('GET', '/api/notes-count')).body).toEqual({ n: 1 });
    // The listRule filters what a guest sees, as on the REST API.
    expect((await call('GET', '/api/notes-as-guest')).body).toEqual({ n: 0 });
  });

  it('unknown paths are still the JSON 404', async () => {
    expect(await call('GET', '/api/hello/ada/more')).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });

  it('a route that could match Galley URLs never shadows them, and the first route registered answers', async () => {
    for (const path of ['/api/health', '/API/Health', '/api/realtime']) {
      const res = await call(path === '/api/realtime' ? 'POST' : 'GET', path);
      expect(res.body, path).not.toHaveProperty('word');
    }
    expect((await call('GET', '/api/health')).body).toMatchObject({ code: 200 });
    expect((await call('GET', '/api/anything')).body).toEqual({ word: 'anything' });
    expect((await call('GET', '/api/later')).body).toEqual({ word: 'later' });
    expect((await call('GET', '/api/text')).text).toBe('plain words');
  });
});
