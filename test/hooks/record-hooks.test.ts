/**
 * Record hooks in the write pipeline (issue 14, item 3–4, 7): the order of calls relative to
 * validation, the rule, the write and the commit (a trace the hooks write), changes to the
 * record, ApiError and plain errors, rollback of what a hook wrote, batch all-or-nothing,
 * cascades, the data API inside the transaction, the nesting limit, onMailSend, onRecordAuth.
 * The hooks are test/hooks/fixtures/pipeline/*.hooks.{ts,js}.
 */
import { resolve } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

type Json = Record<string, unknown>;
const HOOKS = resolve(import.meta.dirname, 'fixtures/pipeline');
const trace = () => (globalThis as unknown as { hookTrace: string[] }).hookTrace;

const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
export const PIPELINE_COLLECTIONS: Json[] = [
  { name: 'notes', type: 'base', ...open, fields: [{ name: 'text', type: 'text', max: 20 }, { name: 'count', type: 'number' }] },
  { name: 'guarded', type: 'base', ...open, createRule: '@request.auth.id != ""', fields: [{ name: 'text', type: 'text', required: true }] },
  { name: 'logs', type: 'base', ...open, fields: [{ name: 'message', type: 'text' }] },
  { name: 'parents', type: 'base', ...open, fields: [{ name: 'name', type: 'text' }] },
  { name: 'children', type: 'base', ...open, fields: [{ name: 'name', type: 'text' }, { name: 'parent', type: 'relation', collection: 'parents', maxSelect: 1, cascadeDelete: true }] },
  { name: 'loops', type: 'base', ...open, fields: [{ name: 'n', type: 'number' }] },
  { name: 'stock', type: 'base', ...open, fields: [{ name: 'item', type: 'text' }, { name: 'count', type: 'number' }] },
  { name: 'orders', type: 'base', ...open, fields: [{ name: 'item', type: 'text' }, { name: 'qty', type: 'number' }] },
  { name: 'members', type: 'auth', ...open, fields: [{ name: 'name', type: 'text' }] },
];

describe.each(DIALECTS)('record hooks (%s)', (dialect) => {
  let t: TestApp;
  let base = '';
  let su = '';
  const logged: Json[] = [];

  beforeAll(async () => {
    const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line) as Json) });
    t = await createTestApp(dialect, PIPELINE_COLLECTIONS, { hooksDir: HOOKS, log });
    base = await t.listen();
    su = await t.superuserToken();
  });
  afterAll(async () => t?.close());
  beforeEach(() => {
    trace().length = 0;
    logged.length = 0;
  });

  async function call(method: string, path: string, body?: unknown, token: string | null = su): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = {};
    if (token) headers['Authorization'] = token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
  }
  const count = async (table: string, where = '1 = 1', values: unknown[] = []) => Number((await t.app.db.runner().all(`SELECT COUNT(*) AS "n" FROM "${table}" WHERE ${where}`, values))[0]!['n']);

  it('loads TypeScript and JavaScript hooks files in file-name order', async () => {
    // The load happened in beforeAll; the registration order shows in the chain below.
    const res = await call('POST', '/api/collections/notes/records', { text: 'hello' });
    expect(res.status).toBe(200);
    expect(trace()).toEqual(['before-create:hello:stored=0:auth=superuser', 'second-before-create:hello', 'before-create-after-next:hello:stored=1', 'after-create:hello']);
  });

  it('runs after validation and the rule: refused and invalid requests never reach the hook', async () => {
    expect((await call('POST', '/api/collections/guarded/records', { text: 'guest' }, null)).status).toBe(400);
    expect((await call('POST', '/api/collections/guarded/records', {})).status).toBe(400);
    expect((await call('POST', '/api/collections/notes/records', { text: 'x'.repeat(30) })).status).toBe(400);
    expect(trace()).toEqual([]);
    expect((await call('POST', '/api/collections/guarded/records', { text: 'allowed' })).status).toBe(200);
    expect(trace()).toEqual(['before-create-guarded:allowed']);
  });

  it('may change the record; what it stores is validated too', async () => {
    const res = await call('POST', '/api/collections/notes/records', { text: 'shout' });
    expect(res.body['text']).toBe('SHOUT');
    const bad = await call('POST', '/api/collections/notes/records', { text: 'invalid-change' });
    expect(bad.status).toBe(400);
    expect(bad.body['data']).toMatchObject({ count: { code: 'validation_unsupported_value_type' } });
    expect(await count('notes', '"text" = ?', ['invalid-change'])).toBe(0);
  });

  it('an ApiError becomes the response and rolls the write back; a plain error is a logged 500', async () => {
    const refused = await call('POST', '/api/collections/notes/records', { text: 'api-error' });
    expect(refused).toEqual({ status: 409, body: { status: 409, code: 'hook_error', message: 'Refused by a hook.', data: { text: { code: 'hook_refused', message: 'No.' } } } });
    expect(await count('notes', '"text" = ?', ['api-error'])).toBe(0);
    const bug = await call('POST', '/api/collections/notes/records', { text: 'plain-error' });
    expect(bug.status).toBe(500);
    expect(bug.body).toMatchObject({ code: 'internal' });
    expect(await count('notes', '"text" = ?', ['plain-error'])).toBe(0);
    const line = logged.find((l) => l['msg'] === 'request failed');
    expect(line?.['reqId']).toEqual(expect.any(String));
    expect(JSON.stringify(line?.['err'])).toContain('a bug in a hook');
  });

  it('rolls back what the hook wrote through e.app.records when it throws after', async () => {
    const before = await count('logs');
    expect((await call('POST', '/api/collections/notes/records', { text: 'write-then-fail' })).status).toBe(400);
    expect(await count('logs')).toBe(before);
    expect((await call('POST', '/api/collections/notes/records', { text: 'with-log' })).status).toBe(200);
    expect(await count('logs')).toBe(before + 1);
  });

  it('a hook that does not call e.next() stops the write (a 500 naming the hook)', async () => {
    const res = await call('POST', '/api/collections/notes/records', { text: 'skip-next' });
    expect(res.status).toBe(500);
    expect(await count('notes', '"text" = ?', ['skip-next'])).toBe(0);
    expect(JSON.stringify(logged)).toContain('without calling next()');
  });

  it('after-hook errors are logged and never change the response', async () => {
    const res = await call('POST', '/api/collections/notes/records', { text: 'after-fails' });
    expect(res.status).toBe(200);
    expect(logged.some((l) => String(l['msg']).includes('failed after the commit'))).toBe(true);
  });

  it('update hooks see the stored record and may change more fields', async () => {
    const id = String((await call('POST', '/api/collections/notes/records', { text: 'old', count: 1 })).body['id']);
    trace().length = 0;
    const res = await call('PATCH', `/api/collections/notes/records/${id}`, { text: 'bump' });
    expect(res.body['count']).toBe(101);
    expect(trace()).toEqual(['before-update:old->bump', 'after-update:bump']);
  });

  it('a batch is all-or-nothing: a hook refusing request 3 rolls back 1 and 2', async () => {
    const before = await count('notes');
    const res = await call('POST', '/api/batch', {
      requests: [
        { method: 'POST', url: '/api/collections/notes/records', body: { text: 'b1' } },
        { method: 'POST', url: '/api/collections/notes/records', body: { text: 'b2' } },
        { method: 'POST', url: '/api/collections/notes/records', body: { text: 'api-error' } },
      ],
    });
    expect(res.status).toBe(400);
    expect(((res.body['data'] as Json)['requests'] as Json)['2']).toMatchObject({ response: { status: 409, message: 'Refused by a hook.' } });
    expect(await count('notes')).toBe(before);
    // After-hooks ran for nothing: the writes never committed.
    expect(trace().filter((l) => l.startsWith('after-'))).toEqual([]);
  });

  it('cascades run the hooks of each record they delete', async () => {
    const parent = String((await call('POST', '/api/collections/parents/records', { name: 'p' })).body['id']);
    await call('POST', '/api/collections/children/records', { name: 'c', parent });
    trace().length = 0;
    expect((await call('DELETE', `/api/collections/parents/records/${parent}`)).status).toBe(204);
    expect(trace()).toEqual(['before-delete:parents:p', 'before-delete:children:c', 'after-delete:children:c', 'after-delete:parents:p']);
  });

  it('a hook updates another collection in the same commit, or refuses both (data API in the transaction)', async () => {
    const item = String((await call('POST', '/api/collections/stock/records', { item: 'widget', count: 3 })).body['id']);
    expect((await call('POST', '/api/collections/orders/records', { item: 'widget', qty: 2 })).status).toBe(200);
    const refused = await call('POST', '/api/collections/orders/records', { item: 'widget', qty: 2 });
    expect(refused.status).toBe(400);
    expect(refused.body['data']).toEqual({ qty: { code: 'out_of_stock', message: 'Not enough in stock.' } });
    expect((await call('GET', `/api/collections/stock/records/${item}`)).body['count']).toBe(1);
    expect(await count('orders')).toBe(1);
  });

  it('stops hooks that keep writing records that run them again (nesting limit)', async () => {
    const res = await call('POST', '/api/collections/loops/records', { n: 0 });
    expect(res.status).toBe(500);
    expect(await count('loops')).toBe(0);
    expect(JSON.stringify(logged)).toContain('hooks nested more than 16 deep');
  });

  it('onMailSend may change a message or cancel it; onRecordAuth may refuse a sign-in', async () => {
    const pw = { password: 'password123', passwordConfirm: 'password123' };
    await call('POST', '/api/collections/members/records', { email: 'ok@example.com', ...pw });
    await call('POST', '/api/collections/members/records', { email: 'x@blocked.example', ...pw });
    await call('POST', '/api/collections/members/records', { email: 'banned@example.com', ...pw });
    expect((await call('POST', '/api/collections/members/request-verification', { email: 'ok@example.com' }, null)).status).toBe(204);
    expect((await call('POST', '/api/collections/members/request-verification', { email: 'x@blocked.example' }, null)).status).toBe(204);
    // Mail goes out after the answer: wait for both to pass the hook.
    const deadline = Date.now() + 20_000;
    while (trace().filter((l) => l.startsWith('mail:')).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(trace().filter((l) => l.startsWith('mail:')).sort()).toEqual(['mail:ok@example.com', 'mail:x@blocked.example']);
    const sent = logged.filter((l) => String(l['msg']).startsWith('email')).map((l) => l['mail'] as Json);
    expect(sent.map((m) => m['to'])).toEqual(['ok@example.com']);
    expect(String(sent[0]!['subject'])).toMatch(/^\[hooked\] /);

    const ok = await call('POST', '/api/collections/members/auth-with-password', { identity: 'ok@example.com', password: 'password123' }, null);
    expect(ok.status).toBe(200);
    const banned = await call('POST', '/api/collections/members/auth-with-password', { identity: 'banned@example.com', password: 'password123' }, null);
    expect(banned).toMatchObject({ status: 403, body: { code: 'hook_error', message: 'Banned by a hook.' } });
    expect(trace()).toContain('auth:ok@example.com:password');
  });
});
