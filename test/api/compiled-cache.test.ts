/**
 * Compiled rules, filters and sorts are cached per collection and text when their SQL cannot depend
 * on the request (issue 11). What must never happen: one requester's compilation answering
 * another's (a hidden field a superuser may filter by, an `@request.auth` rule), or one
 * collection's SQL answering another's same text.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
const COLLECTIONS = [
  { name: 'members', type: 'auth', ...open, fields: [] },
  { name: 'notes', type: 'base', ...open, fields: [{ name: 'label', type: 'text' }, { name: 'secret', type: 'text', hidden: true }] },
  { name: 'labels', type: 'base', ...open, fields: [{ name: 'label', type: 'text' }] },
  {
    name: 'diaries',
    type: 'base',
    ...open,
    listRule: '@request.auth.id != "" && owner = @request.auth.id',
    fields: [{ name: 'owner', type: 'relation', collectionId: 'members', maxSelect: 1 }, { name: 'label', type: 'text' }],
  },
  { name: 'pages', type: 'base', ...open, fields: [{ name: 'diary', type: 'relation', collectionId: 'diaries', maxSelect: 1 }] },
  { name: 'drafts', type: 'base', ...open, listRule: 'label != "hidden"', fields: [{ name: 'label', type: 'text' }] },
];

describe.each(DIALECTS)('compiled SQL cache (%s)', (dialect) => {
  let t: TestApp;
  let su = '';
  const members: { id: string; token: string }[] = [];

  const list = (path: string, token?: string) => {
    const req = request(t.http).get(path);
    return token ? req.set('Authorization', token) : req;
  };

  beforeAll(async () => {
    t = await createTestApp(dialect, COLLECTIONS);
    su = await t.superuserToken();
    for (const email of ['a@example.com', 'b@example.com']) {
      const m = await t.seed('members', { email, password: 'password123', passwordConfirm: 'password123' });
      const res = await request(t.http).post('/api/collections/members/auth-with-password').send({ identity: email, password: 'password123' }).expect(200);
      members.push({ id: String(m['id']), token: res.body.token });
    }
    for (const label of ['x', 'y']) {
      await t.seed('notes', { label, secret: `s-${label}` });
      await t.seed('labels', { label });
    }
    await t.seed('labels', { label: 'x' });
    for (const m of members) await t.seed('diaries', { owner: m.id, label: `of ${m.id}` });
    for (const label of ['shown', 'hidden']) await t.seed('drafts', { label });
    const diaries = (await list('/api/collections/diaries/records', su).expect(200)).body.items as { id: string; owner: string }[];
    for (const d of diaries) await t.seed('pages', { diary: d.id });
  });
  afterAll(async () => t?.close());


  it('a hidden-field filter compiled for a superuser is still refused to a guest, in either order', async () => {
    const path = `/api/collections/notes/records?filter=${encodeURIComponent('secret = "s-x"')}`;
    for (let round = 0; round < 2; round++) {
      expect((await list(path, su).expect(200)).body.totalItems).toBe(1);
      expect((await list(path).expect(400)).body).toMatchObject({ code: 'invalid_filter' });
    }
    const sorted = '/api/collections/notes/records?sort=-secret';
    expect((await list(sorted, su).expect(200)).body.items.map((n: { label: string }) => n.label)).toEqual(['y', 'x']);
    expect((await list(sorted).expect(400)).body).toMatchObject({ code: 'invalid_sort' });
  });

  it('the same filter and sort text on two collections reads each its own table', async () => {
    const query = `?filter=${encodeURIComponent('label = "x"')}&sort=label`;
    for (let round = 0; round < 2; round++) {
      expect((await list(`/api/collections/notes/records${query}`).expect(200)).body.totalItems).toBe(1);
      expect((await list(`/api/collections/labels/records${query}`).expect(200)).body.totalItems).toBe(2);
    }
  });

  it('a rule reading @request.auth is compiled for each requester', async () => {
    for (let round = 0; round < 2; round++) {
      for (const m of members) {
        const items = (await list('/api/collections/diaries/records', m.token).expect(200)).body.items;
        expect(items.map((d: { owner: string }) => d.owner)).toEqual([m.id]);
      }
      expect((await list('/api/collections/diaries/records').expect(200)).body.totalItems).toBe(0);
    }
  });

  it('a filter without @ that reaches a related collection through its @request.auth rule is compiled per requester', async () => {
    const path = `/api/collections/pages/records?filter=${encodeURIComponent('diary.label != ""')}`;
    for (let round = 0; round < 2; round++) {
      expect((await list(path).expect(200)).body.totalItems).toBe(0);
      for (const m of members) expect((await list(path, m.token).expect(200)).body.totalItems).toBe(1);
      expect((await list(path, su).expect(200)).body.totalItems).toBe(2);
    }
  });

  it('a rule without @ is compiled once and still applied to every requester', async () => {
    for (const token of [undefined, members[0]!.token, undefined]) {
      expect((await list('/api/collections/drafts/records', token).expect(200)).body.items.map((d: { label: string }) => d.label)).toEqual(['shown']);
    }
    expect((await list('/api/collections/drafts/records', su).expect(200)).body.totalItems).toBe(2);
  });

  it('keeps no text that can depend on the request or the clock', async () => {
    await list(`/api/collections/labels/records?filter=${encodeURIComponent('label != @now')}`).expect(200);
    const keys = [...t.app.records.compiled.keys()];
    expect(keys.length).toBeGreaterThan(0);
    // Only a guest's compilation of an @request.auth rule is shared (every guest's auth is empty).
    const withAt = keys.filter((k) => k.includes('@'));
    expect(withAt.length).toBeGreaterThan(0);
    for (const key of withAt) expect(key.split('\0')).toContain('guest');
    expect(keys.filter((k) => /@(?!request\.auth\.)/.test(k))).toEqual([]);
  });
});
