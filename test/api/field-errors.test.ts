/**
 * Every field's error in one 400 (issue 10, item 1), as PocketBase validates all fields together:
 * relation ids that point at nothing are reported next to the other fields' problems, on create
 * and on update, through REST and batch. (Form-level auth problems — a password confirmation that
 * does not match, an email change without manage access — still come alone first, as in PocketBase.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

type Json = Record<string, unknown>;
const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
const COLLECTIONS: Json[] = [
  { name: 'teams', type: 'base', ...open, fields: [{ name: 'name', type: 'text' }] },
  {
    name: 'members',
    type: 'auth',
    ...open,
    fields: [
      { name: 'team', type: 'relation', collection: 'teams', maxSelect: 1 },
      { name: 'nick', type: 'text', min: 3 },
    ],
  },
];

describe.each(DIALECTS)('all field errors at once (%s)', (dialect) => {
  let t: TestApp;
  let base = '';
  let su = '';
  beforeAll(async () => {
    t = await createTestApp(dialect, COLLECTIONS);
    base = await t.listen();
    su = await t.superuserToken();
  });
  afterAll(async () => t?.close());

  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(base + path, { method, headers: { 'Content-Type': 'application/json', Authorization: su }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Json };
  };

  it('create: a short password, a missing relation id and a short text come back together', async () => {
    const res = await call('POST', '/api/collections/members/records', { email: 'a@example.com', password: 'short', passwordConfirm: 'short', team: 'missing00000000', nick: 'x' });
    expect(res.status).toBe(400);
    expect(res.body['message']).toBe('Failed to create record.');
    const data = res.body['data'] as Json;
    expect(Object.keys(data).sort()).toEqual(['nick', 'password', 'team']);
    expect(data['team']).toMatchObject({ code: 'validation_missing_rel_records' });
    expect(data['password']).toMatchObject({ code: 'validation_min_text_constraint' });
  });

  it('update: a missing relation id and a short text come back together', async () => {
    const team = (await call('POST', '/api/collections/teams/records', { name: 't' })).body['id'];
    const made = await call('POST', '/api/collections/members/records', { email: 'b@example.com', password: 'password123', passwordConfirm: 'password123', team, nick: 'bob' });
    expect(made.status).toBe(200);
    const res = await call('PATCH', `/api/collections/members/records/${String(made.body['id'])}`, { team: 'missing00000000', nick: 'x' });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body['data'] as Json).sort()).toEqual(['nick', 'team']);
  });

  it('batch: the failing request carries every field error', async () => {
    const res = await call('POST', '/api/batch', { requests: [{ method: 'POST', url: '/api/collections/members/records', body: { email: 'c@example.com', password: 'short', passwordConfirm: 'short', team: 'missing00000000' } }] });
    expect(res.status).toBe(400);
    const response = (((res.body['data'] as Json)['requests'] as Json)['0'] as Json)['response'] as Json;
    expect(Object.keys(response['data'] as Json).sort()).toEqual(['password', 'team']);
  });

  it('a password confirmation mismatch still comes alone first (form-level, as PocketBase)', async () => {
    const res = await call('POST', '/api/collections/members/records', { email: 'd@example.com', password: 'short', passwordConfirm: 'other', team: 'missing00000000' });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body['data'] as Json)).toEqual(['passwordConfirm']);
  });
});
