/**
 * The records REST API, scenario by scenario (PocketBase's `tests.ApiScenario` style): every
 * endpoint, every status path of pocketbase-api.md §1.6, response shapes, body handling, field
 * modifiers and validation codes, `fields`, `expand`, and Galley's additions (ETag/If-Match,
 * Idempotency-Key, batch enabled by default, collections read API).
 *
 * One app per engine, seeded once with fixed ids; read-only groups come first, groups that write
 * seed what they change in `before`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { EXAMPLE_COLLECTIONS } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { recordToken, scenarioApp, scenarioGroup, type ScenarioResponse, type Vars } from '../helpers/scenario.js';

// ---- ids ---------------------------------------------------------------------------------------

const pad = (s: string) => s.padEnd(15, '0');
const U1 = pad('usera'); // Ann, emailVisibility false
const U2 = pad('userb'); // Bob, emailVisibility true
const TAG_NEWS = pad('tagnews');
const TAG_TECH = pad('tagtech');
const TAG_C = pad('tagc');
const TAG_D = pad('tagd');
const P_PUB1 = pad('postpub1'); // published, by U1, tags news+tech
const P_PUB2 = pad('postpub2'); // published, by U2
const P_DRAFT = pad('postdraft'); // draft, by U1
const C1 = pad('comment1'); // on P_PUB1 by U2
const C2 = pad('comment2'); // on P_PUB1 by U1
const C_DRAFT = pad('commentd'); // on P_DRAFT by U1
const L1 = pad('locked1');
const G_PUB = pad('gatedpub');
const G_PRIV = pad('gatedpriv');
const M_VIS = pad('membervis');
const M_HID = pad('memberhid');
const E1 = pad('every1');
const MISSING = pad('missing');

let counter = 0;
/** A fresh valid record id (unique within the run). */
const freshId = (prefix = 'x') => `${prefix}${String(++counter).padStart(15 - prefix.length, '0')}`;

// ---- collections -------------------------------------------------------------------------------

const example = (name: string) => JSON.parse(readFileSync(join(EXAMPLE_COLLECTIONS, `${name}.json`), 'utf8')) as Record<string, unknown>;
const OPEN = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };

const COLLECTIONS: Record<string, unknown>[] = [
  example('users'),
  example('tags'),
  example('posts'),
  example('comments'),
  { name: 'locked', listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null, fields: [{ name: 'title', type: 'text' }] },
  {
    name: 'gated',
    listRule: 'public = true',
    viewRule: 'public = true',
    createRule: 'public = true',
    updateRule: 'public = true',
    deleteRule: 'public = true',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'public', type: 'bool' },
    ],
  },
  {
    name: 'everything',
    ...OPEN,
    fields: [
      { name: 'title', type: 'text', min: 3, max: 10, pattern: '^[a-z ]+$' },
      { name: 'code', type: 'text', autogeneratePattern: 'c[0-9]{5}' },
      { name: 'qty', type: 'number', min: -5, max: 100, onlyInt: true },
      { name: 'ratio', type: 'number' },
      { name: 'flag', type: 'bool' },
      { name: 'mail', type: 'email', onlyDomains: ['example.com'] },
      { name: 'site', type: 'url', exceptDomains: ['evil.com'] },
      { name: 'html', type: 'editor', maxSize: 40 },
      { name: 'day', type: 'date', min: '2020-01-01 00:00:00.000Z', max: '2030-12-31 00:00:00.000Z' },
      { name: 'choice', type: 'select', values: ['a', 'b', 'c'], maxSelect: 1 },
      { name: 'choices', type: 'select', values: ['a', 'b', 'c'], maxSelect: 2 },
      { name: 'meta', type: 'json', maxSize: 40 },
      { name: 'tag', type: 'relation', collection: 'tags', maxSelect: 1 },
      { name: 'tagset', type: 'relation', collection: 'tags', minSelect: 2, maxSelect: 3 },
      { name: 'lockedRef', type: 'relation', collection: 'locked', maxSelect: 1 },
      { name: 'place', type: 'geoPoint' },
      { name: 'secret', type: 'text', hidden: true },
      { name: 'created', type: 'autodate', onCreate: true },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  },
  {
    name: 'strict',
    ...OPEN,
    fields: [
      { name: 'r_text', type: 'text', required: true },
      { name: 'r_num', type: 'number', required: true },
      { name: 'r_bool', type: 'bool', required: true },
      { name: 'r_mail', type: 'email', required: true },
      { name: 'r_url', type: 'url', required: true },
      { name: 'r_html', type: 'editor', required: true },
      { name: 'r_day', type: 'date', required: true },
      { name: 'r_choice', type: 'select', values: ['x', 'y'], maxSelect: 1, required: true },
      { name: 'r_choices', type: 'select', values: ['x', 'y'], maxSelect: 2, required: true },
      { name: 'r_meta', type: 'json', required: true },
      { name: 'r_tag', type: 'relation', collection: 'tags', maxSelect: 1, required: true },
      { name: 'r_place', type: 'geoPoint', required: true },
    ],
  },
  {
    name: 'members',
    type: 'auth',
    listRule: '',
    viewRule: '',
    createRule: '',
    updateRule: 'id = @request.auth.id',
    deleteRule: 'id = @request.auth.id',
    fields: [{ name: 'name', type: 'text' }],
  },
  { name: 'kiosk', type: 'auth', ...OPEN, fields: [{ name: 'name', type: 'text' }] },
  { name: 'bundles', ...OPEN, fields: [{ name: 'items', type: 'relation', collection: 'tags', required: true, maxSelect: 5 }] },
  {
    name: 'bodyrules',
    listRule: '',
    viewRule: '@request.query.key = "let-me-in"',
    createRule: '@request.body.score < 10',
    updateRule: '@request.body.score < 10',
    deleteRule: null,
    fields: [{ name: 'score', type: 'number' }],
  },
  {
    name: 'headerrules',
    listRule: '@request.headers.x_key = "let-me-in"',
    viewRule: '',
    createRule: '@request.headers.x_key = "let-me-in"',
    updateRule: '@request.context = "batch"',
    deleteRule: null,
    fields: [{ name: 'title', type: 'text' }],
  },
  {
    name: 'post_titles',
    type: 'view',
    listRule: '',
    viewRule: '',
    createRule: null,
    updateRule: null,
    deleteRule: null,
    viewQuery: 'SELECT id, title FROM posts',
    fields: [{ name: 'title', type: 'text' }],
  },
];

const PUB1_BODY = '<p>Hello <b>world</b>, this is a long body</p>';

async function fixtures(t: TestApp): Promise<void> {
  const pw = { password: 'password123', passwordConfirm: 'password123' };
  await t.seed('users', { id: U1, email: 'ann@example.com', name: 'Ann', emailVisibility: false, ...pw });
  await t.seed('users', { id: U2, email: 'bob@example.com', name: 'Bob', emailVisibility: true, ...pw });
  await t.seed('tags', { id: TAG_NEWS, name: 'news' });
  await t.seed('tags', { id: TAG_TECH, name: 'tech' });
  await t.seed('tags', { id: TAG_C, name: 'tag c' });
  await t.seed('tags', { id: TAG_D, name: 'tag d' });
  await t.seed('posts', { id: P_PUB1, title: 'First post', slug: 'first', body: PUB1_BODY, author: U1, tags: [TAG_NEWS, TAG_TECH], status: 'published', views: 5, metadata: { a: 1 } });
  await t.seed('posts', { id: P_PUB2, title: 'Second post', slug: 'second', author: U2, status: 'published', views: 1 });
  await t.seed('posts', { id: P_DRAFT, title: 'Draft post', slug: 'draft', author: U1, status: 'draft' });
  await t.seed('comments', { id: C1, post: P_PUB1, author: U2, body: 'Nice' });
  await t.seed('comments', { id: C2, post: P_PUB1, author: U1, body: 'Thanks' });
  await t.seed('comments', { id: C_DRAFT, post: P_DRAFT, author: U1, body: 'Note to self' });
  await t.seed('locked', { id: L1, title: 'locked one' });
  await t.seed('gated', { id: G_PUB, title: 'open', public: true });
  await t.seed('gated', { id: G_PRIV, title: 'closed', public: false });
  await t.seed('members', { id: M_VIS, email: 'vis@example.com', emailVisibility: true, name: 'Visible', ...pw });
  await t.seed('members', { id: M_HID, email: 'hid@example.com', emailVisibility: false, name: 'Hidden', ...pw });
  await t.seed('everything', { id: E1, title: 'first', qty: 3, secret: 'topsecret', tag: TAG_NEWS, tagset: [TAG_NEWS, TAG_TECH], lockedRef: L1 });
}

// ---- helpers -----------------------------------------------------------------------------------

const R = (collection: string, id?: string) => `/api/collections/${collection}/records${id === undefined ? '' : `/${id}`}`;
const USER1 = { collection: 'users', id: U1 } as const;
const USER2 = { collection: 'users', id: U2 } as const;

/** `"field":{"code":"<code>"` — a field error inside `data`. */
const fieldError = (field: string, code: string) => `"${field}":{"code":"${code}"`;
const status = (n: number) => `"status":${n}`;
const EMPTY_DATA = '"data":{}';
const NOT_FOUND = [status(404), '"code":"not_found"', "The requested resource wasn't found.", EMPTY_DATA];
const MISSING_COLLECTION = [status(404), '"code":"collection_not_found"', '"message":"Missing collection context."', EMPTY_DATA];
const FORBIDDEN = [status(403), '"code":"forbidden"', '"message":"Only superusers can perform this action."', EMPTY_DATA];
const CREATE_FAILED = [status(400), '"code":"create_failed"', '"message":"Failed to create record."'];
const UPDATE_FAILED = [status(400), '"code":"update_failed"', '"message":"Failed to update record."'];
const UNSUPPORTED = [status(400), '"code":"unsupported_collection_type"', '"message":"Unsupported collection type."', EMPTY_DATA];
const DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** `before` that seeds one record (as a superuser) and keeps its id in `vars.id`. */
const seeded =
  (collection: string, data: Record<string, unknown> | (() => Record<string, unknown>)) =>
  async (t: TestApp, v: Vars): Promise<void> => {
    const record = await t.seed(collection, typeof data === 'function' ? data() : data);
    v['id'] = String(record['id']);
  };

/** A stored row straight from the database (no API, no rules); null when absent. */
async function row(t: TestApp, collection: string, id: string): Promise<Record<string, unknown> | null> {
  const rows = await t.app.db.runner().all(`SELECT * FROM "${collection}" WHERE "id" = ?`, [id]);
  return rows[0] ?? null;
}

async function count(t: TestApp, collection: string, where = '1 = 1', params: unknown[] = []): Promise<number> {
  const rows = await t.app.db.runner().all(`SELECT COUNT(*) AS "n" FROM "${collection}" WHERE ${where}`, params);
  return Number(rows[0]!['n']);
}

const json = (res: ScenarioResponse) => res.json<Record<string, unknown>>();
const items = (res: ScenarioResponse) => res.json<{ items: Record<string, unknown>[] }>().items;

describe.each(DIALECTS)('records API scenarios (%s)', (dialect) => {
  const api = scenarioApp(dialect, { collections: COLLECTIONS, fixtures });
  const su = () => api.superuser();
  const agent = () => request(api.t.http);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'unknown collection → 404 Missing collection context.', [
    { name: 'list', method: 'GET', url: R('missing'), expectedStatus: 404, expectedContent: MISSING_COLLECTION },
    { name: 'view', method: 'GET', url: R('missing', MISSING), expectedStatus: 404, expectedContent: MISSING_COLLECTION },
    { name: 'create', method: 'POST', url: R('missing'), body: { title: 'x' }, expectedStatus: 404, expectedContent: MISSING_COLLECTION },
    { name: 'update', method: 'PATCH', url: R('missing', MISSING), body: { title: 'x' }, expectedStatus: 404, expectedContent: MISSING_COLLECTION },
    { name: 'delete', method: 'DELETE', url: R('missing', MISSING), expectedStatus: 404, expectedContent: MISSING_COLLECTION },
    { name: 'superuser too', method: 'GET', url: R('missing'), auth: 'superuser', expectedStatus: 404, expectedContent: MISSING_COLLECTION },
    { name: 'collection name is case-insensitive', method: 'GET', url: R('TaGs'), expectedStatus: 200, expectedContent: ['"collectionName":"tags"', '"totalItems":'] },
    {
      name: 'collection by id',
      method: 'GET',
      url: (v) => R(v['cid']!),
      before: (t, v) => void (v['cid'] = t.app.records.find('tags')!.collection.id),
      expectedStatus: 200,
      expectedContent: ['"collectionName":"tags"'],
    },
    { name: 'unknown API route → 404 JSON', method: 'GET', url: '/api/nope', expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'no PUT on single records', method: 'PUT', url: R('tags', TAG_NEWS), auth: 'superuser', body: { name: 'x' }, expectedStatus: 404, expectedContent: [status(404)] },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'null rules → 403 for non-superusers, checked before the record lookup', [
    { name: 'guest list', method: 'GET', url: R('locked'), expectedStatus: 403, expectedContent: FORBIDDEN },
    { name: 'guest view (existing)', method: 'GET', url: R('locked', L1), expectedStatus: 403, expectedContent: FORBIDDEN, notExpectedContent: ['locked one'] },
    { name: 'guest view (missing id)', method: 'GET', url: R('locked', MISSING), expectedStatus: 403, expectedContent: FORBIDDEN },
    { name: 'guest create', method: 'POST', url: R('locked'), body: { title: 'x' }, expectedStatus: 403, expectedContent: FORBIDDEN },
    { name: 'guest update (missing id)', method: 'PATCH', url: R('locked', MISSING), body: { title: 'x' }, expectedStatus: 403, expectedContent: FORBIDDEN },
    { name: 'guest update (existing)', method: 'PATCH', url: R('locked', L1), body: { title: 'x' }, expectedStatus: 403, expectedContent: FORBIDDEN },
    { name: 'guest delete (missing id)', method: 'DELETE', url: R('locked', MISSING), expectedStatus: 403, expectedContent: FORBIDDEN },
    { name: 'guest delete (existing)', method: 'DELETE', url: R('locked', L1), expectedStatus: 403, expectedContent: FORBIDDEN, after: async (t) => expect(await row(t, 'locked', L1)).not.toBeNull() },
    { name: 'auth user list', method: 'GET', url: R('locked'), auth: USER1, expectedStatus: 403, expectedContent: FORBIDDEN },
    { name: 'auth user view', method: 'GET', url: R('locked', L1), auth: USER1, expectedStatus: 403, expectedContent: FORBIDDEN },
    { name: 'null listRule wins over a forbidden @request filter', method: 'GET', url: `${R('locked')}?filter=${encodeURIComponent('@request.auth.id = ""')}`, expectedStatus: 403, expectedContent: FORBIDDEN },
    { name: 'superuser list', method: 'GET', url: R('locked'), auth: 'superuser', expectedStatus: 200, expectedContent: [`"id":"${L1}"`, '"totalItems":1'] },
    { name: 'superuser view', method: 'GET', url: R('locked', L1), auth: 'superuser', expectedStatus: 200, expectedContent: ['"title":"locked one"'] },
    { name: 'superuser view missing → 404', method: 'GET', url: R('locked', MISSING), auth: 'superuser', expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'superuser create', method: 'POST', url: R('locked'), auth: 'superuser', body: { title: 'by root' }, expectedStatus: 200, expectedContent: ['"title":"by root"'] },
    { name: 'superuser update', method: 'PATCH', url: (v) => R('locked', v['id']), before: seeded('locked', { title: 'a' }), auth: 'superuser', body: { title: 'b' }, expectedStatus: 200, expectedContent: ['"title":"b"'] },
    {
      name: 'superuser delete',
      method: 'DELETE',
      url: (v) => R('locked', v['id']),
      before: seeded('locked', { title: 'gone' }),
      auth: 'superuser',
      expectedStatus: 204,
      after: async (t, _r, v) => expect(await row(t, 'locked', v['id']!)).toBeNull(),
    },
    { name: 'superuser delete missing → 404', method: 'DELETE', url: R('locked', MISSING), auth: 'superuser', expectedStatus: 404, expectedContent: NOT_FOUND },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'rule expressions: list filters, view/update/delete 404, create 400', [
    {
      name: 'guest list: only published posts',
      method: 'GET',
      url: R('posts'),
      expectedStatus: 200,
      expectedContent: [`"id":"${P_PUB1}"`, `"id":"${P_PUB2}"`, '"totalItems":2', '"totalPages":1'],
      notExpectedContent: [P_DRAFT],
    },
    { name: 'author lists own draft too', method: 'GET', url: R('posts'), auth: USER1, expectedStatus: 200, expectedContent: [`"id":"${P_DRAFT}"`, '"totalItems":3'] },
    { name: 'other user: no foreign drafts', method: 'GET', url: R('posts'), auth: USER2, expectedStatus: 200, expectedContent: ['"totalItems":2'], notExpectedContent: [P_DRAFT] },
    { name: 'guest filter for drafts: empty, not an error', method: 'GET', url: `${R('posts')}?filter=${encodeURIComponent('status = "draft"')}`, expectedStatus: 200, expectedContent: ['"items":[]', '"totalItems":0', '"totalPages":0'] },
    { name: 'rule applies to relation paths (comments of drafts hidden)', method: 'GET', url: R('comments'), expectedStatus: 200, expectedContent: [C1, C2, '"totalItems":2'], notExpectedContent: [C_DRAFT] },
    { name: 'guest list users: filtered to nothing', method: 'GET', url: R('users'), expectedStatus: 200, expectedContent: ['"items":[]', '"totalItems":0'] },
    { name: 'user lists users: only self', method: 'GET', url: R('users'), auth: USER1, expectedStatus: 200, expectedContent: [`"id":"${U1}"`, '"totalItems":1'], notExpectedContent: [U2] },
    { name: 'guest view published', method: 'GET', url: R('posts', P_PUB1), expectedStatus: 200, expectedContent: [`"id":"${P_PUB1}"`, '"title":"First post"'] },
    { name: 'guest view draft → 404', method: 'GET', url: R('posts', P_DRAFT), expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'other user view draft → 404', method: 'GET', url: R('posts', P_DRAFT), auth: USER2, expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'author views own draft', method: 'GET', url: R('posts', P_DRAFT), auth: USER1, expectedStatus: 200, expectedContent: ['"status":"draft"'] },
    { name: 'guest view missing → 404', method: 'GET', url: R('posts', MISSING), expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'guest update (rule false) → 404', method: 'PATCH', url: R('posts', P_PUB1), body: { title: 'Hacked' }, expectedStatus: 404, expectedContent: NOT_FOUND, after: async (t) => expect((await row(t, 'posts', P_PUB1))!['title']).toBe('First post') },
    { name: 'other user update → 404', method: 'PATCH', url: R('posts', P_PUB1), auth: USER2, body: { title: 'Hacked' }, expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'guest update missing → 404', method: 'PATCH', url: R('posts', MISSING), body: { title: 'x' }, expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'guest delete (rule false) → 404', method: 'DELETE', url: R('posts', P_PUB1), expectedStatus: 404, expectedContent: NOT_FOUND, after: async (t) => expect(await row(t, 'posts', P_PUB1)).not.toBeNull() },
    { name: 'other user delete → 404', method: 'DELETE', url: R('posts', P_PUB2), auth: USER1, expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'guest delete missing → 404', method: 'DELETE', url: R('posts', MISSING), expectedStatus: 404, expectedContent: NOT_FOUND },
    {
      name: 'guest create (rule false) → 400 with data {}',
      method: 'POST',
      url: R('posts'),
      body: { title: 'Guest post', slug: 'guest-post', author: U1, status: 'draft' },
      expectedStatus: 400,
      expectedContent: [...CREATE_FAILED, EMPTY_DATA],
      after: async (t) => expect(await count(t, 'posts', '"slug" = ?', ['guest-post'])).toBe(0),
    },
    {
      name: 'user creating for someone else (rule false) → 400 with data {}',
      method: 'POST',
      url: R('posts'),
      auth: USER1,
      body: { title: 'Impostor', slug: 'impostor', author: U2, status: 'draft' },
      expectedStatus: 400,
      expectedContent: [...CREATE_FAILED, EMPTY_DATA],
    },
    {
      // PocketBase checks the createRule on the loaded (unvalidated) data before validating it, so an
      // unauthorized requester learns nothing about the fields.
      name: 'guest create with an invalid body: the rule fails first → data {}',
      method: 'POST',
      url: R('posts'),
      body: { title: 'x' },
      expectedStatus: 400,
      expectedContent: [...CREATE_FAILED, EMPTY_DATA],
      notExpectedContent: ['validation_'],
    },
    {
      name: 'guest create pointing at missing relations: the rule fails first → data {}',
      method: 'POST',
      url: R('comments'),
      body: { post: MISSING, body: 'hi' },
      expectedStatus: 400,
      expectedContent: [...CREATE_FAILED, EMPTY_DATA],
      notExpectedContent: ['validation_'],
    },
    { name: 'author creates', method: 'POST', url: R('posts'), auth: USER1, body: { title: 'Mine', slug: 'mine', author: U1, status: 'draft' }, expectedStatus: 200, expectedContent: ['"title":"Mine"', `"author":"${U1}"`] },
    { name: 'rule on a relation path in createRule (comment on a published post)', method: 'POST', url: R('comments'), auth: USER2, body: { post: P_PUB1, author: U2, body: 'Great' }, expectedStatus: 200, expectedContent: ['"body":"Great"'] },
    { name: 'createRule relation path false (comment on a draft) → 400 data {}', method: 'POST', url: R('comments'), auth: USER1, body: { post: P_DRAFT, author: U1, body: 'x' }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, EMPTY_DATA] },
    { name: 'gated: guest list sees public only', method: 'GET', url: R('gated'), expectedStatus: 200, expectedContent: [G_PUB], notExpectedContent: [G_PRIV] },
    { name: 'gated: guest view private → 404', method: 'GET', url: R('gated', G_PRIV), expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'gated: guest create satisfying the rule', method: 'POST', url: R('gated'), body: { title: 'new', public: true }, expectedStatus: 200, expectedContent: ['"public":true'] },
    { name: 'gated: guest create failing the rule → 400 data {}', method: 'POST', url: R('gated'), body: { title: 'sneaky', public: false }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, EMPTY_DATA], after: async (t) => expect(await count(t, 'gated', '"title" = ?', ['sneaky'])).toBe(0) },
    { name: 'gated: guest update private → 404', method: 'PATCH', url: R('gated', G_PRIV), body: { title: 'x' }, expectedStatus: 404, expectedContent: NOT_FOUND },
    {
      name: 'gated: updateRule is judged on the stored record (may make it private)',
      method: 'PATCH',
      url: (v) => R('gated', v['id']),
      before: seeded('gated', { title: 'flip', public: true }),
      body: { public: false },
      expectedStatus: 200,
      expectedContent: ['"public":false'],
    },
    { name: 'gated: guest delete private → 404', method: 'DELETE', url: R('gated', G_PRIV), expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'gated: guest delete public → 204', method: 'DELETE', url: (v) => R('gated', v['id']), before: seeded('gated', { title: 'bye', public: true }), expectedStatus: 204 },
    { name: 'superuser bypass: list', method: 'GET', url: R('gated'), auth: 'superuser', expectedStatus: 200, expectedContent: [G_PUB, G_PRIV] },
    { name: 'superuser bypass: view', method: 'GET', url: R('gated', G_PRIV), auth: 'superuser', expectedStatus: 200, expectedContent: ['"title":"closed"'] },
    { name: 'superuser bypass: create', method: 'POST', url: R('gated'), auth: 'superuser', body: { title: 'root private', public: false }, expectedStatus: 200, expectedContent: ['"public":false'] },
    { name: 'superuser bypass: update', method: 'PATCH', url: (v) => R('gated', v['id']), before: seeded('gated', { title: 'p', public: false }), auth: 'superuser', body: { title: 'q' }, expectedStatus: 200, expectedContent: ['"title":"q"'] },
    { name: 'superuser bypass: delete', method: 'DELETE', url: (v) => R('gated', v['id']), before: seeded('gated', { title: 'p', public: false }), auth: 'superuser', expectedStatus: 204 },
    { name: 'superuser bypass: view a draft post', method: 'GET', url: R('posts', P_DRAFT), auth: 'superuser', expectedStatus: 200, expectedContent: [`"id":"${P_DRAFT}"`] },
    { name: 'an invalid token is ignored (guest)', method: 'GET', url: R('posts'), auth: { token: 'not.a.jwt' }, expectedStatus: 200, expectedContent: ['"totalItems":2'] },
    {
      name: 'a token signed with the wrong key is ignored (guest)',
      method: 'GET',
      url: R('posts'),
      auth: { token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjb2xsZWN0aW9uSWQiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwLCJpZCI6InVzZXJhMDAwMDAwMDAwMCIsInR5cGUiOiJhdXRoIn0.c2lnbmF0dXJl' },
      expectedStatus: 200,
      expectedContent: ['"totalItems":2'],
    },
    {
      name: '"Bearer " prefix accepted',
      method: 'GET',
      url: R('posts'),
      before: async (t, v) => void (v['token'] = await recordToken(t, 'users', U1)),
      headers: (v) => ({ Authorization: `Bearer ${v['token']}` }),
      expectedStatus: 200,
      expectedContent: [`"id":"${P_DRAFT}"`],
    },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'list query parameters', [
    { name: 'defaults', method: 'GET', url: R('tags'), expectedStatus: 200, expectedContent: ['"page":1', '"perPage":30', '"totalItems":4', '"totalPages":1'] },
    {
      name: 'list keys in PocketBase order',
      method: 'GET',
      url: R('tags'),
      expectedStatus: 200,
      expectedContent: ['{"items":['],
      after: (_t, res) => expect(Object.keys(json(res))).toEqual(['items', 'page', 'perPage', 'totalItems', 'totalPages']),
    },
    { name: 'page + perPage', method: 'GET', url: `${R('tags')}?sort=name&page=2&perPage=3`, expectedStatus: 200, expectedContent: ['"page":2', '"perPage":3', '"totalItems":4', '"totalPages":2', '"name":"tech"'], after: (_t, res) => expect(items(res)).toHaveLength(1) },
    { name: 'perPage > 1000 clamped to 1000', method: 'GET', url: `${R('tags')}?perPage=5000`, expectedStatus: 200, expectedContent: ['"perPage":1000'] },
    { name: 'perPage 0 → 30', method: 'GET', url: `${R('tags')}?perPage=0`, expectedStatus: 200, expectedContent: ['"perPage":30'] },
    { name: 'perPage negative → 30', method: 'GET', url: `${R('tags')}?perPage=-3`, expectedStatus: 200, expectedContent: ['"perPage":30'] },
    { name: 'page 0 → 1', method: 'GET', url: `${R('tags')}?page=0`, expectedStatus: 200, expectedContent: ['"page":1'] },
    { name: 'page past the end: empty items, totals kept', method: 'GET', url: `${R('tags')}?page=99`, expectedStatus: 200, expectedContent: ['"items":[]', '"page":99', '"totalItems":4', '"totalPages":1'] },
    { name: 'skipTotal=1 → -1 totals', method: 'GET', url: `${R('tags')}?skipTotal=1`, expectedStatus: 200, expectedContent: ['"totalItems":-1', '"totalPages":-1', '"name":"news"'] },
    { name: 'skipTotal=true', method: 'GET', url: `${R('tags')}?skipTotal=true`, expectedStatus: 200, expectedContent: ['"totalItems":-1'] },
    { name: 'skipTotal=false counts', method: 'GET', url: `${R('tags')}?skipTotal=false`, expectedStatus: 200, expectedContent: ['"totalItems":4'] },
    { name: 'filter', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent('name ~ "tag"')}`, expectedStatus: 200, expectedContent: ['"totalItems":2', TAG_C, TAG_D] },
    { name: 'sort desc', method: 'GET', url: `${R('tags')}?sort=-name`, expectedStatus: 200, expectedContent: ['"items":[{'], after: (_t, res) => expect(items(res).map((i) => i['name'])).toEqual(['tech', 'tag d', 'tag c', 'news']) },
    { name: 'sort asc with +', method: 'GET', url: `${R('tags')}?sort=${encodeURIComponent('+name')}`, expectedStatus: 200, expectedContent: ['"items":'], after: (_t, res) => expect(items(res)[0]!['name']).toBe('news') },
    { name: 'sort @random', method: 'GET', url: `${R('tags')}?sort=@random`, expectedStatus: 200, expectedContent: ['"totalItems":4'] },
    { name: 'unknown query parameters are ignored', method: 'GET', url: `${R('tags')}?autoRefresh=true&foo=bar`, expectedStatus: 200, expectedContent: ['"totalItems":4'] },
    { name: 'page not an integer → 400', method: 'GET', url: `${R('tags')}?page=abc`, expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'perPage not an integer → 400', method: 'GET', url: `${R('tags')}?perPage=1.5`, expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'skipTotal not a bool → 400', method: 'GET', url: `${R('tags')}?skipTotal=maybe`, expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'filter syntax error → 400', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent('name = ')}`, expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'filter unbalanced parens → 400', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent('(name = "x"')}`, expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'filter unknown field → 400', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent('nope = 1')}`, expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'filter too long (> 3500 chars) → 400', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent(`name = "${'x'.repeat(3500)}"`)}`, expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'sort unknown field → 400', method: 'GET', url: `${R('tags')}?sort=-nope`, expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'sort with more than 8 fields → 400', method: 'GET', url: `${R('tags')}?sort=${Array.from({ length: 9 }, () => 'name').join(',')}`, expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'guest filter with @request. → 403', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent('@request.auth.id = ""')}`, expectedStatus: 403, expectedContent: [status(403), '"code":"filter_forbidden"', 'Only superusers can filter by @request.'] },
    { name: 'guest filter with @collection. → 403', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent('@collection.posts.title = name')}`, expectedStatus: 403, expectedContent: [status(403), 'Only superusers can filter by @collection.'] },
    { name: 'guest: @request. inside a string literal still → 403', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent('name = "@request.x"')}`, expectedStatus: 403, expectedContent: [status(403)] },
    { name: 'guest sort with @request. → 403', method: 'GET', url: `${R('tags')}?sort=${encodeURIComponent('@request.auth.id')}`, expectedStatus: 403, expectedContent: [status(403)] },
    { name: 'auth user filter with @request. → 403', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent('@request.auth.id != ""')}`, auth: USER1, expectedStatus: 403, expectedContent: [status(403)] },
    { name: 'superuser may filter by @request.', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent('@request.auth.id != ""')}`, auth: 'superuser', expectedStatus: 200, expectedContent: ['"totalItems":4'] },
    { name: 'superuser may filter by @collection.', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent('@collection.posts.tags.id ?= id')}`, auth: 'superuser', expectedStatus: 200, expectedContent: ['"totalItems":2'] },
    { name: 'guest filter on a hidden field → 400', method: 'GET', url: `${R('everything')}?filter=${encodeURIComponent('secret = "topsecret"')}`, expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'guest sort on a hidden field → 400', method: 'GET', url: `${R('everything')}?sort=secret`, expectedStatus: 400, expectedContent: [status(400)] },
    { name: 'superuser filter on a hidden field', method: 'GET', url: `${R('everything')}?filter=${encodeURIComponent('secret = "topsecret"')}`, auth: 'superuser', expectedStatus: 200, expectedContent: [`"id":"${E1}"`, '"totalItems":1'] },
    { name: 'filter through a multi relation counts each record once', method: 'GET', url: `${R('posts')}?filter=${encodeURIComponent('tags.name ?~ "e"')}`, expectedStatus: 200, expectedContent: [P_PUB1, '"totalItems":1'], after: (_t, res) => expect(items(res)).toHaveLength(1) },
    {
      name: 'sort through a multi relation does not duplicate rows',
      method: 'GET',
      url: `${R('posts')}?sort=${encodeURIComponent('tags.name,-created')}&filter=${encodeURIComponent('author = "' + U1 + '"')}`,
      auth: 'superuser',
      expectedStatus: 200,
      expectedContent: [P_PUB1, P_DRAFT],
      after: (_t, res) => {
        const list = res.json<{ items: { id: string }[]; totalItems: number }>();
        expect(new Set(list.items.map((i) => i.id)).size).toBe(list.items.length);
        expect(list.items.length).toBe(list.totalItems);
      },
    },
    { name: 'sort by a single relation path', method: 'GET', url: `${R('posts')}?sort=${encodeURIComponent('-author.name,title')}&fields=id`, auth: 'superuser', expectedStatus: 200, expectedContent: [`{"items":[{"id":"${P_PUB2}"}`] },
    { name: 'filter through a relation', method: 'GET', url: `${R('posts')}?filter=${encodeURIComponent('tags.name ?= "tech"')}`, expectedStatus: 200, expectedContent: [P_PUB1, '"totalItems":1'] },
    { name: 'filter with more than 200 comparisons → 400', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent(Array.from({ length: 201 }, () => 'id!="x"').join('&&'))}`, expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'filter with 200 comparisons is fine', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent(Array.from({ length: 200 }, () => 'id!="x"').join('&&'))}`, expectedStatus: 200, expectedContent: ['"totalItems":'] },
    { name: 'sort @rowid', method: 'GET', url: `${R('tags')}?sort=-@rowid&perPage=1`, expectedStatus: 200, expectedContent: ['"perPage":1'] },
    { name: 'expand 6 levels deep is allowed', method: 'GET', url: `${R('comments', C1)}?expand=post.author.a.b.c.d`, auth: 'superuser', expectedStatus: 200, expectedContent: ['"expand":{"post":{'] },
    { name: 'expand deeper than 6 → 400', method: 'GET', url: `${R('posts')}?expand=a.b.c.d.e.f.g`, expectedStatus: 400, expectedContent: [status(400)] },
    { name: 'unknown expand path: silently skipped', method: 'GET', url: `${R('posts', P_PUB1)}?expand=nope`, expectedStatus: 200, expectedContent: ['"expand":{}'] },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'response shapes', [
    {
      name: 'record keys are alphabetical; dates use a space',
      method: 'GET',
      url: R('posts', P_PUB1),
      expectedStatus: 200,
      expectedContent: ['{"author":', '"collectionName":"posts"'],
      after: (_t, res) => {
        const body = json(res);
        const keys = Object.keys(body);
        expect(keys).toEqual([...keys].sort());
        expect(keys).toEqual(expect.arrayContaining(['collectionId', 'collectionName', 'id', 'created', 'updated']));
        expect(body['created']).toMatch(DATE);
        expect(body['updated']).toMatch(DATE);
        expect(body['publishedAt']).toBe('');
        expect(body['collectionId']).toMatch(/^pbc_\d+$/);
      },
    },
    {
      name: 'zero values of every field type',
      method: 'GET',
      url: (v) => R('everything', v['id']),
      before: seeded('everything', {}),
      auth: 'superuser',
      expectedStatus: 200,
      expectedContent: ['"choice":""', '"choices":[]', '"day":""', '"flag":false', '"html":""', '"lockedRef":""', '"mail":""', '"meta":null', '"qty":0', '"ratio":0', '"site":""', '"tag":""', '"tagset":[]', '"title":""', '"secret":""'],
      // key order of geoPoint is checked on its own below
      after: (_t, res) => expect(json(res)['place']).toEqual({ lon: 0, lat: 0 }),
    },
    {
      name: 'JSON written like Go: application/json, <>& escaped, trailing newline',
      method: 'GET',
      url: R('posts', P_PUB1),
      expectedStatus: 200,
      expectedContent: ['\\u003cp\\u003eHello \\u003cb\\u003eworld'],
      notExpectedContent: ['<p>'],
      expectedHeaders: { 'content-type': /^application\/json/ },
      after: (_t, res) => expect(res.text.endsWith('}\n')).toBe(true),
    },
    {
      name: 'security headers on every response',
      method: 'GET',
      url: R('missing'),
      expectedStatus: 404,
      expectedContent: [status(404)],
      expectedHeaders: { 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN', 'x-xss-protection': '1; mode=block' },
    },
    {
      name: 'CORS preflight → 204',
      method: 'OPTIONS',
      url: R('posts'),
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'PATCH', 'Access-Control-Request-Headers': 'content-type,idempotency-key' },
      expectedStatus: 204,
      expectedHeaders: { 'access-control-allow-origin': '*', 'access-control-allow-methods': /PATCH/, 'access-control-allow-headers': /idempotency-key/i },
    },
    {
      name: 'error body shape: status, code, message, data',
      method: 'GET',
      url: R('posts', MISSING),
      expectedStatus: 404,
      expectedContent: ['"status":404'],
      after: (_t, res) => expect(json(res)).toEqual({ status: 404, code: 'not_found', message: "The requested resource wasn't found.", data: {} }),
    },
    {
      name: 'create → 200 with the record and an ETag',
      method: 'POST',
      url: R('tags'),
      auth: USER1,
      body: { name: 'created-tag' },
      expectedStatus: 200,
      expectedContent: ['"collectionName":"tags"', '"name":"created-tag"', '"color":""'],
      expectedHeaders: { etag: /^"[0-9a-z]+"$/ },
      after: (_t, res) => {
        expect(json(res)['id']).toMatch(/^[a-z0-9]{15}$/);
        expect(json(res)['created']).toMatch(DATE);
      },
    },
    { name: 'delete → 204 with an empty body', method: 'DELETE', url: (v) => R('gated', v['id']), before: seeded('gated', { public: true }), expectedStatus: 204 },
    { name: 'view collection: list', method: 'GET', url: R('post_titles'), expectedStatus: 200, expectedContent: ['"collectionName":"post_titles"', '"title":"First post"', '"title":"Draft post"'] },
    { name: 'view collection: view (no ETag)', method: 'GET', url: R('post_titles', P_PUB1), expectedStatus: 200, expectedContent: ['"title":"First post"'], expectedHeaders: { etag: null } },
    { name: 'view collection: guest create → 400 Unsupported collection type.', method: 'POST', url: R('post_titles'), body: { title: 'x' }, expectedStatus: 400, expectedContent: UNSUPPORTED },
    { name: 'view collection: superuser create → 400', method: 'POST', url: R('post_titles'), auth: 'superuser', body: { title: 'x' }, expectedStatus: 400, expectedContent: UNSUPPORTED },
    { name: 'view collection: update → 400', method: 'PATCH', url: R('post_titles', P_PUB1), auth: 'superuser', body: { title: 'x' }, expectedStatus: 400, expectedContent: UNSUPPORTED },
    { name: 'view collection: guest update → 400', method: 'PATCH', url: R('post_titles', P_PUB1), body: { title: 'x' }, expectedStatus: 400, expectedContent: UNSUPPORTED },
    { name: 'view collection: delete → 400', method: 'DELETE', url: R('post_titles', P_PUB1), auth: 'superuser', expectedStatus: 400, expectedContent: UNSUPPORTED },
    { name: 'view collection: guest delete → 400', method: 'DELETE', url: R('post_titles', MISSING), expectedStatus: 400, expectedContent: UNSUPPORTED },
  ]);

  // supertest needs ~20 s to push 33 MiB into an in-process server; fetch over a real socket is instant.
  it('oversized body → 413 (over the network)', async () => {
    const base = await api.t.listen();
    const res = await fetch(`${base}${R('tags')}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: await su() }, body: Buffer.alloc(33 * 1024 * 1024, 0x20) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ status: 413, code: 'request_too_large', message: 'Request entity too large.', data: {} });
  });

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'hidden fields and auth records', [
    { name: 'guest does not see hidden fields', method: 'GET', url: R('everything', E1), expectedStatus: 200, expectedContent: ['"title":"first"'], notExpectedContent: ['"secret"', 'topsecret'] },
    { name: 'guest list: no hidden fields', method: 'GET', url: R('everything'), expectedStatus: 200, expectedContent: [E1], notExpectedContent: ['"secret"'] },
    { name: 'superuser sees hidden fields', method: 'GET', url: R('everything', E1), auth: 'superuser', expectedStatus: 200, expectedContent: ['"secret":"topsecret"'] },
    {
      name: 'guest writes to hidden fields are silently dropped',
      method: 'POST',
      url: R('everything'),
      body: { title: 'sneak', secret: 'mine' },
      expectedStatus: 200,
      expectedContent: ['"title":"sneak"'],
      notExpectedContent: ['"secret"'],
      after: async (t, res) => expect((await row(t, 'everything', String(json(res)['id'])))!['secret']).toBe(''),
    },
    { name: 'superuser may write hidden fields', method: 'POST', url: R('everything'), auth: 'superuser', body: { secret: 'rooted' }, expectedStatus: 200, expectedContent: ['"secret":"rooted"'] },
    { name: 'auth list: email only where visible', method: 'GET', url: R('members'), expectedStatus: 200, expectedContent: ['"email":"vis@example.com"', `"id":"${M_HID}"`], notExpectedContent: ['hid@example.com', '"password"', '"tokenKey"'] },
    { name: 'auth view of a hidden email (guest)', method: 'GET', url: R('members', M_HID), expectedStatus: 200, expectedContent: ['"emailVisibility":false', '"verified":false', '"name":"Hidden"'], notExpectedContent: ['"email":', '"password"', '"tokenKey"'] },
    { name: 'auth view of a hidden email (another member)', method: 'GET', url: R('members', M_HID), auth: { collection: 'members', id: M_VIS }, expectedStatus: 200, expectedContent: ['"name":"Hidden"'], notExpectedContent: ['hid@example.com'] },
    { name: 'auth view of own hidden email', method: 'GET', url: R('members', M_HID), auth: { collection: 'members', id: M_HID }, expectedStatus: 200, expectedContent: ['"email":"hid@example.com"'], notExpectedContent: ['"password"', '"tokenKey"'] },
    { name: 'superuser sees every email, never password/tokenKey', method: 'GET', url: R('members'), auth: 'superuser', expectedStatus: 200, expectedContent: ['hid@example.com', 'vis@example.com'], notExpectedContent: ['"password"', '"tokenKey"'] },
    { name: 'guest filter on a hidden email does not leak it', method: 'GET', url: `${R('members')}?filter=${encodeURIComponent('email = "hid@example.com"')}`, expectedStatus: 200, expectedContent: ['"totalItems":0'] },
    { name: 'guest filter on a visible email', method: 'GET', url: `${R('members')}?filter=${encodeURIComponent('email = "vis@example.com"')}`, expectedStatus: 200, expectedContent: ['"totalItems":1'] },
    {
      // PocketBase ignores emailVisibility only for superusers, the record itself and managers: a
      // guest's sign-up response carries no email unless emailVisibility is true
      name: 'guest signs up (auth create): the email follows emailVisibility',
      method: 'POST',
      url: R('members'),
      body: { email: 'new@example.com', password: 'password123', passwordConfirm: 'password123', name: 'New' },
      expectedStatus: 200,
      expectedContent: ['"name":"New"', '"verified":false', '"emailVisibility":false'],
      notExpectedContent: ['"password"', '"tokenKey"', 'passwordConfirm', 'new@example.com'],
    },
    {
      name: 'guest signs up with emailVisibility true: email shown',
      method: 'POST',
      url: R('members'),
      body: { email: 'shown@example.com', emailVisibility: true, password: 'password123', passwordConfirm: 'password123' },
      expectedStatus: 200,
      expectedContent: ['"email":"shown@example.com"', '"emailVisibility":true'],
    },
    {
      name: 'guest updates an auth record (open updateRule): the hidden email is not leaked',
      method: 'PATCH',
      url: (v) => R('kiosk', v['id']),
      before: seeded('kiosk', () => ({ email: `kiosk${++counter}@example.com`, password: 'password123', passwordConfirm: 'password123' })),
      body: { name: 'renamed' },
      expectedStatus: 200,
      expectedContent: ['"name":"renamed"'],
      notExpectedContent: ['@example.com'],
    },
    { name: '_superusers: guest → 403', method: 'GET', url: R('_superusers'), expectedStatus: 403, expectedContent: FORBIDDEN },
    { name: '_superusers: superuser lists, no secrets', method: 'GET', url: R('_superusers'), auth: 'superuser', expectedStatus: 200, expectedContent: ['"collectionName":"_superusers"', '"verified":true', '"email":"root'], notExpectedContent: ['"password"', '"tokenKey"'] },
    {
      name: 'auth create: password required, confirmation must match, email format',
      method: 'POST',
      url: R('members'),
      body: { email: 'not-an-email', password: 'password123', passwordConfirm: 'different1' },
      expectedStatus: 400,
      expectedContent: [...CREATE_FAILED, fieldError('passwordConfirm', 'validation_values_mismatch')],
    },
    { name: 'auth create: missing password', method: 'POST', url: R('members'), body: { email: 'nopw@example.com' }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, fieldError('password', 'validation_required'), fieldError('passwordConfirm', 'validation_required')] },
    { name: 'auth create: bad email', method: 'POST', url: R('members'), body: { email: 'nope', password: 'password123', passwordConfirm: 'password123' }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, fieldError('email', 'validation_is_email')] },
    { name: 'auth create: short password', method: 'POST', url: R('members'), body: { email: 'short@example.com', password: 'abc', passwordConfirm: 'abc' }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, fieldError('password', 'validation_min_text_constraint')] },
    { name: 'auth create: duplicate email', method: 'POST', url: R('members'), body: { email: 'vis@example.com', password: 'password123', passwordConfirm: 'password123' }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, fieldError('email', 'validation_not_unique')] },
    { name: 'auth create: guest cannot set verified', method: 'POST', url: R('members'), body: { email: 'ver@example.com', password: 'password123', passwordConfirm: 'password123', verified: true }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, fieldError('verified', 'validation_values_mismatch')] },
    {
      // the record itself passes the updateRule; without manage access it must send oldPassword
      name: 'auth update: changing the password needs oldPassword',
      method: 'PATCH',
      url: (v) => R('members', v['id']),
      before: async (t, v) => {
        await seeded('members', { email: `pw${++counter}@example.com`, password: 'password123', passwordConfirm: 'password123' })(t, v);
        v['token'] = await recordToken(t, 'members', v['id']!);
      },
      headers: (v) => ({ Authorization: v['token']! }),
      body: { password: 'newpassword1', passwordConfirm: 'newpassword1' },
      expectedStatus: 400,
      expectedContent: [...UPDATE_FAILED, fieldError('oldPassword', 'validation_required')],
    },
    {
      name: 'auth update: wrong oldPassword',
      method: 'PATCH',
      url: (v) => R('members', v['id']),
      before: async (t, v) => {
        await seeded('members', { email: `pw${++counter}@example.com`, password: 'password123', passwordConfirm: 'password123' })(t, v);
        v['token'] = await recordToken(t, 'members', v['id']!);
      },
      headers: (v) => ({ Authorization: v['token']! }),
      body: { oldPassword: 'wrongpassword', password: 'newpassword1', passwordConfirm: 'newpassword1' },
      expectedStatus: 400,
      expectedContent: [...UPDATE_FAILED, fieldError('oldPassword', 'validation_invalid_old_password')],
    },
    {
      name: 'auth update: a member may not change own email without manage access',
      method: 'PATCH',
      url: (v) => R('members', v['id']),
      before: async (t, v) => {
        await seeded('members', { email: `pw${++counter}@example.com`, password: 'password123', passwordConfirm: 'password123' })(t, v);
        v['token'] = await recordToken(t, 'members', v['id']!);
      },
      headers: (v) => ({ Authorization: v['token']! }),
      body: { email: 'changed@example.com' },
      expectedStatus: 400,
      expectedContent: [...UPDATE_FAILED, fieldError('email', 'validation_values_mismatch')],
    },
    { name: 'auth update: a superuser may change email and verified', method: 'PATCH', url: (v) => R('members', v['id']), before: seeded('members', () => ({ email: `su${++counter}@example.com`, password: 'password123', passwordConfirm: 'password123' })), auth: 'superuser', body: { verified: true, name: 'Verified' }, expectedStatus: 200, expectedContent: ['"verified":true', '"name":"Verified"'] },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'request bodies', [
    {
      name: 'unknown body keys are ignored',
      method: 'POST',
      url: R('tags'),
      auth: USER1,
      body: { name: 'with-extras', bogus: 1, collectionName: 'posts', collectionId: 'x', expand: { a: 1 } },
      expectedStatus: 200,
      expectedContent: ['"name":"with-extras"', '"collectionName":"tags"'],
      notExpectedContent: ['bogus'],
    },
    { name: 'client-supplied id', method: 'POST', url: R('tags'), auth: USER1, body: { id: pad('mycustomid'), name: 'custom-id' }, expectedStatus: 200, expectedContent: [`"id":"${pad('mycustomid')}"`] },
    { name: 'client id too short', method: 'POST', url: R('tags'), auth: USER1, body: { id: 'abc', name: 'short-id' }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, fieldError('id', 'validation_min_text_constraint')] },
    { name: 'client id with bad characters', method: 'POST', url: R('tags'), auth: USER1, body: { id: 'ABCDEFGHIJKLMNO', name: 'bad-id' }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, fieldError('id', 'validation_invalid_format')] },
    { name: 'client id already used', method: 'POST', url: R('tags'), auth: USER1, body: { id: TAG_NEWS, name: 'dupe-id' }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, fieldError('id', 'validation_not_unique')] },
    { name: 'id cannot change on update', method: 'PATCH', url: R('everything', E1), body: { id: pad('otherid') }, expectedStatus: 400, expectedContent: [...UPDATE_FAILED, fieldError('id', 'validation_pk_change')] },
    {
      name: 'autodate fields cannot be set on create',
      method: 'POST',
      url: R('everything'),
      body: { created: '2001-01-01 00:00:00.000Z', updated: '2001-01-01 00:00:00.000Z' },
      expectedStatus: 200,
      expectedContent: ['"created":"'],
      notExpectedContent: ['2001-01-01'],
    },
    {
      name: 'autodate fields cannot be set on update; updated moves, created stays',
      method: 'PATCH',
      url: (v) => R('everything', v['id']),
      before: async (t, v) => {
        const rec = await t.seed('everything', {});
        v['id'] = String(rec['id']);
        v['created'] = String(rec['created']);
        await new Promise((r) => setTimeout(r, 5));
      },
      body: { created: '2001-01-01 00:00:00.000Z', updated: '2001-01-01 00:00:00.000Z', qty: 1 },
      expectedStatus: 200,
      expectedContent: (v) => [`"created":"${v['created']}"`, '"qty":1'],
      notExpectedContent: ['2001-01-01'],
      after: (_t, res, v) => expect(json(res)['updated']).not.toBe(v['created']),
    },
    { name: 'invalid JSON → 400 data {}', method: 'POST', url: R('tags'), auth: USER1, body: '{"name":', expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'JSON that is not an object → 400', method: 'POST', url: R('tags'), auth: USER1, body: '["a"]', expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'invalid JSON on update → 400', method: 'PATCH', url: R('everything', E1), body: '{oops}', expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'unsupported content type → 400', method: 'POST', url: R('tags'), auth: USER1, headers: { 'Content-Type': 'text/plain' }, body: 'name=x', expectedStatus: 400, expectedContent: [status(400)] },
    { name: 'urlencoded body', method: 'POST', url: R('everything'), headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'title=from+form&qty=7&flag=true', expectedStatus: 200, expectedContent: ['"title":"from form"', '"qty":7', '"flag":true'] },
    { name: 'empty body = no data (validation runs)', method: 'POST', url: R('tags'), auth: USER1, expectedStatus: 400, expectedContent: [...CREATE_FAILED, fieldError('name', 'validation_required')] },
    {
      name: 'multipart with several @jsonPayload parts and inferred plain values',
      method: 'POST',
      url: R('everything'),
      multipart: [
        { name: 'title', value: 'multi part' },
        { name: 'qty', value: '7' },
        { name: 'flag', value: 'true' },
        { name: 'code', value: '007' },
        { name: 'choices', value: 'a' },
        { name: 'choices', value: 'b' },
        { name: '@jsonPayload', value: '{"meta":{"k":[1,2]}}' },
        { name: '@jsonPayload', value: '{"place":{"lon":1.5,"lat":-2}}' },
      ],
      expectedStatus: 200,
      expectedContent: ['"title":"multi part"', '"qty":7', '"flag":true', '"code":"007"', '"choices":["a","b"]', '"meta":{"k":[1,2]}'],
      after: (_t, res) => expect(json(res)['place']).toEqual({ lon: 1.5, lat: -2 }),
    },
    {
      name: 'multipart: a later @jsonPayload overwrites earlier keys and plain values',
      method: 'POST',
      url: R('everything'),
      multipart: [
        { name: 'title', value: 'plain' },
        { name: '@jsonPayload', value: '{"title":"first","qty":1}' },
        { name: '@jsonPayload', value: '{"title":"second"}' },
      ],
      expectedStatus: 200,
      expectedContent: ['"title":"second"', '"qty":1'],
    },
    { name: 'multipart: invalid @jsonPayload → 400', method: 'POST', url: R('everything'), multipart: [{ name: '@jsonPayload', value: '{nope' }], expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    {
      name: 'multipart update',
      method: 'PATCH',
      url: (v) => R('everything', v['id']),
      before: seeded('everything', { qty: 2 }),
      multipart: [
        { name: 'qty+', value: '3' },
        { name: '@jsonPayload', value: '{"choices":["c"]}' },
      ],
      expectedStatus: 200,
      expectedContent: ['"qty":5', '"choices":["c"]'],
    },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'field modifiers', [
    { name: 'n+ on create starts from zero', method: 'POST', url: R('everything'), body: { 'qty+': 4 }, expectedStatus: 200, expectedContent: ['"qty":4'] },
    { name: 'n and n+ together: shortest key first', method: 'POST', url: R('everything'), body: { 'qty+': 5, qty: 10 }, expectedStatus: 200, expectedContent: ['"qty":15'] },
    { name: 'n+ on update', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { qty: 5 }), body: { 'qty+': 3 }, expectedStatus: 200, expectedContent: ['"qty":8'] },
    { name: 'n- on update', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { qty: 5 }), body: { 'qty-': 2 }, expectedStatus: 200, expectedContent: ['"qty":3'] },
    { name: 'n- past min → validation', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { qty: 1 }), body: { 'qty-': 10 }, expectedStatus: 400, expectedContent: [...UPDATE_FAILED, fieldError('qty', 'validation_min_number_constraint')] },
    { name: 'select f+ appends', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { choices: ['a'] }), body: { 'choices+': 'b' }, expectedStatus: 200, expectedContent: ['"choices":["a","b"]'] },
    { name: 'select +f prepends', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { choices: ['a'] }), body: { '+choices': 'c' }, expectedStatus: 200, expectedContent: ['"choices":["c","a"]'] },
    { name: 'select f- removes', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { choices: ['a', 'b'] }), body: { 'choices-': ['a'] }, expectedStatus: 200, expectedContent: ['"choices":["b"]'] },
    { name: 'select f+ over maxSelect → validation', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { choices: ['a', 'b'] }), body: { 'choices+': 'c' }, expectedStatus: 400, expectedContent: [...UPDATE_FAILED, fieldError('choices', 'validation_too_many_values')] },
    { name: 'single select f+ replaces', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { choice: 'a' }), body: { 'choice+': 'b' }, expectedStatus: 200, expectedContent: ['"choice":"b"'] },
    { name: 'relation f+ appends (order kept)', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { tagset: [TAG_NEWS, TAG_TECH] }), body: { 'tagset+': TAG_C }, expectedStatus: 200, expectedContent: [`"tagset":["${TAG_NEWS}","${TAG_TECH}","${TAG_C}"]`] },
    { name: 'relation +f prepends', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { tagset: [TAG_NEWS, TAG_TECH] }), body: { '+tagset': [TAG_D] }, expectedStatus: 200, expectedContent: [`"tagset":["${TAG_D}","${TAG_NEWS}","${TAG_TECH}"]`] },
    { name: 'relation f- removes', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { tagset: [TAG_NEWS, TAG_TECH, TAG_C] }), body: { 'tagset-': TAG_TECH }, expectedStatus: 200, expectedContent: [`"tagset":["${TAG_NEWS}","${TAG_C}"]`] },
    { name: 'relation f+ with a missing id → validation', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { tagset: [TAG_NEWS, TAG_TECH] }), body: { 'tagset+': MISSING }, expectedStatus: 400, expectedContent: [...UPDATE_FAILED, fieldError('tagset', 'validation_missing_rel_records')] },
    { name: 'single relation f- clears', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', { tag: TAG_NEWS }), body: { 'tag-': TAG_NEWS }, expectedStatus: 200, expectedContent: ['"tag":""'] },
    { name: 'text :autogenerate appends a generated value', method: 'POST', url: R('everything'), body: { 'code:autogenerate': 'pre-' }, expectedStatus: 200, expectedContent: ['"code":"pre-c'], expectedPatterns: [/"code":"pre-c\d{5}"/] },
    { name: 'text autogeneratePattern fills an empty value', method: 'POST', url: R('everything'), body: {}, expectedStatus: 200, expectedContent: ['"code":"c'], expectedPatterns: [/"code":"c\d{5}"/] },
    { name: 'explicit text value beats autogenerate', method: 'POST', url: R('everything'), body: { code: 'mine' }, expectedStatus: 200, expectedContent: ['"code":"mine"'] },
    { name: 'modifiers on posts: views+ by a superuser', method: 'PATCH', url: (v) => R('posts', v['id']), before: seeded('posts', () => ({ title: 'Counter', slug: `counter-${++counter}`, author: U1, status: 'draft', views: 10 })), auth: 'superuser', body: { 'views+': 5 }, expectedStatus: 200, expectedContent: ['"views":15'] },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'validation errors per field type', [
    {
      name: 'required fields of the example posts collection',
      method: 'POST',
      url: R('posts'),
      auth: 'superuser',
      body: {},
      expectedStatus: 400,
      // slug is optional: the example app's posts.hooks.ts derives it from the title.
      expectedContent: [...CREATE_FAILED, '"title":{"code":"validation_required","message":"Cannot be blank."}', fieldError('author', 'validation_required'), fieldError('status', 'validation_required')],
      notExpectedContent: ['"slug"'],
    },
    {
      name: 'required, every type',
      method: 'POST',
      url: R('strict'),
      body: {},
      expectedStatus: 400,
      expectedContent: [
        ...CREATE_FAILED,
        ...['r_text', 'r_num', 'r_bool', 'r_mail', 'r_url', 'r_html', 'r_day', 'r_choice', 'r_choices', 'r_meta', 'r_tag', 'r_place'].map((f) => fieldError(f, 'validation_required')),
      ],
    },
    { name: 'required json rejects {} and []', method: 'POST', url: R('strict'), body: { r_meta: {} }, expectedStatus: 400, expectedContent: [fieldError('r_meta', 'validation_required')] },
    {
      name: 'required, every type satisfied',
      method: 'POST',
      url: R('strict'),
      body: { r_text: 'x', r_num: 1, r_bool: true, r_mail: 'a@b.co', r_url: 'https://example.com', r_html: '<p>x</p>', r_day: '2024-01-02 03:04:05.000Z', r_choice: 'x', r_choices: ['y'], r_meta: { a: 1 }, r_tag: TAG_NEWS, r_place: { lon: 1, lat: 1 } },
      expectedStatus: 200,
      expectedContent: ['"r_day":"2024-01-02 03:04:05.000Z"', '"r_choices":["y"]'],
    },
    { name: 'text min', method: 'POST', url: R('everything'), body: { title: 'ab' }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, '"title":{"code":"validation_min_text_constraint","message":"Must be at least 3 character(s).","params":{"min":3}}'] },
    { name: 'text max', method: 'POST', url: R('everything'), body: { title: 'abcdefghijk' }, expectedStatus: 400, expectedContent: [fieldError('title', 'validation_max_text_constraint'), '"params":{"max":10}'] },
    { name: 'text pattern', method: 'POST', url: R('everything'), body: { title: 'ABC' }, expectedStatus: 400, expectedContent: ['"title":{"code":"validation_invalid_format","message":"Invalid value format."}'] },
    { name: 'number onlyInt', method: 'POST', url: R('everything'), body: { qty: 1.5 }, expectedStatus: 400, expectedContent: [fieldError('qty', 'validation_only_int_constraint')] },
    { name: 'number min', method: 'POST', url: R('everything'), body: { qty: -10 }, expectedStatus: 400, expectedContent: [fieldError('qty', 'validation_min_number_constraint')] },
    { name: 'number max', method: 'POST', url: R('everything'), body: { qty: 101 }, expectedStatus: 400, expectedContent: [fieldError('qty', 'validation_max_number_constraint')] },
    { name: 'number: non-numeric text becomes 0 (no error)', method: 'POST', url: R('everything'), body: { ratio: 'abc' }, expectedStatus: 200, expectedContent: ['"ratio":0'] },
    { name: 'number: numeric text is cast', method: 'POST', url: R('everything'), body: { ratio: '2.5' }, expectedStatus: 200, expectedContent: ['"ratio":2.5'] },
    { name: 'bool: Go-style text is cast', method: 'POST', url: R('everything'), body: { flag: 'T' }, expectedStatus: 200, expectedContent: ['"flag":true'] },
    { name: 'email format', method: 'POST', url: R('everything'), body: { mail: 'nope' }, expectedStatus: 400, expectedContent: [fieldError('mail', 'validation_is_email')] },
    { name: 'email onlyDomains', method: 'POST', url: R('everything'), body: { mail: 'a@other.com' }, expectedStatus: 400, expectedContent: [fieldError('mail', 'validation_email_domain_not_allowed')] },
    { name: 'email ok', method: 'POST', url: R('everything'), body: { mail: 'a@example.com' }, expectedStatus: 200, expectedContent: ['"mail":"a@example.com"'] },
    { name: 'url format', method: 'POST', url: R('everything'), body: { site: 'not a url' }, expectedStatus: 400, expectedContent: [fieldError('site', 'validation_invalid_url')] },
    { name: 'url exceptDomains', method: 'POST', url: R('everything'), body: { site: 'https://evil.com/x' }, expectedStatus: 400, expectedContent: [fieldError('site', 'validation_url_domain_not_allowed')] },
    { name: 'editor maxSize', method: 'POST', url: R('everything'), body: { html: `<p>${'x'.repeat(50)}</p>` }, expectedStatus: 400, expectedContent: [fieldError('html', 'validation_content_size_limit')] },
    { name: 'date min', method: 'POST', url: R('everything'), body: { day: '2019-06-01 00:00:00.000Z' }, expectedStatus: 400, expectedContent: [fieldError('day', 'validation_min_greater_equal_than_required')] },
    { name: 'date max', method: 'POST', url: R('everything'), body: { day: '2031-06-01 00:00:00.000Z' }, expectedStatus: 400, expectedContent: [fieldError('day', 'validation_max_less_equal_than_required')] },
    { name: 'date in range, ISO input normalized', method: 'POST', url: R('everything'), body: { day: '2024-05-06T07:08:09Z' }, expectedStatus: 200, expectedContent: ['"day":"2024-05-06 07:08:09.000Z"'] },
    { name: 'date: unparseable text becomes "" (no error)', method: 'POST', url: R('everything'), body: { day: 'garbage' }, expectedStatus: 200, expectedContent: ['"day":""'] },
    { name: 'select invalid value', method: 'POST', url: R('everything'), body: { choice: 'z' }, expectedStatus: 400, expectedContent: [fieldError('choice', 'validation_invalid_value')] },
    { name: 'multi select invalid value', method: 'POST', url: R('everything'), body: { choices: ['a', 'z'] }, expectedStatus: 400, expectedContent: [fieldError('choices', 'validation_invalid_value')] },
    { name: 'multi select maxSelect', method: 'POST', url: R('everything'), body: { choices: ['a', 'b', 'c'] }, expectedStatus: 400, expectedContent: [fieldError('choices', 'validation_too_many_values'), '"params":{"maxSelect":2}'] },
    { name: 'multi select dedupes', method: 'POST', url: R('everything'), body: { choices: ['a', 'a', ''] }, expectedStatus: 200, expectedContent: ['"choices":["a"]'] },
    { name: 'json maxSize', method: 'POST', url: R('everything'), body: { meta: { text: 'x'.repeat(60) } }, expectedStatus: 400, expectedContent: [fieldError('meta', 'validation_json_size_limit')] },
    // Key order is kept on SQLite; PostgreSQL's jsonb sorts object keys (documented in the README).
    { name: 'json: an object round-trips', method: 'POST', url: R('everything'), body: { meta: { z: 1, a: [2], m: null } }, expectedStatus: 200, expectedContent: ['"meta":{', '"z":1', '"a":[2]', '"m":null'] },
    { name: 'geoPoint serializes as {lon, lat} (both engines)', method: 'POST', url: R('everything'), body: { place: { lat: 3, lon: 4 } }, expectedStatus: 200, expectedContent: ['"place":{"lon":4,"lat":3}'] },
    { name: 'json: a JSON-looking string is stored parsed', method: 'POST', url: R('everything'), body: { meta: '[1,2]' }, expectedStatus: 200, expectedContent: ['"meta":[1,2]'] },
    { name: 'relation: missing record', method: 'POST', url: R('everything'), body: { tag: MISSING }, expectedStatus: 400, expectedContent: [fieldError('tag', 'validation_missing_rel_records')] },
    { name: 'relation: minSelect', method: 'POST', url: R('everything'), body: { tagset: [TAG_NEWS] }, expectedStatus: 400, expectedContent: [fieldError('tagset', 'validation_not_enough_values')] },
    { name: 'relation: maxSelect', method: 'POST', url: R('everything'), body: { tagset: [TAG_NEWS, TAG_TECH, TAG_C, TAG_D] }, expectedStatus: 400, expectedContent: [fieldError('tagset', 'validation_too_many_values')] },
    { name: 'geoPoint latitude', method: 'POST', url: R('everything'), body: { place: { lon: 0, lat: 100 } }, expectedStatus: 400, expectedContent: [fieldError('place', 'validation_invalid_latitude')] },
    { name: 'geoPoint longitude', method: 'POST', url: R('everything'), body: { place: { lon: 200, lat: 0 } }, expectedStatus: 400, expectedContent: [fieldError('place', 'validation_invalid_longitude')] },
    {
      name: 'several errors at once, nothing stored',
      method: 'POST',
      url: R('everything'),
      body: { title: 'ab', qty: 1000, mail: 'x', choice: 'q', code: 'several' },
      expectedStatus: 400,
      expectedContent: [fieldError('title', 'validation_min_text_constraint'), fieldError('qty', 'validation_max_number_constraint'), fieldError('mail', 'validation_is_email'), fieldError('choice', 'validation_invalid_value')],
      after: async (t) => expect(await count(t, 'everything', '"code" = ?', ['several'])).toBe(0),
    },
    { name: 'unique index (NOCASE) → validation_not_unique', method: 'POST', url: R('tags'), auth: USER1, body: { name: 'NEWS' }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, '"name":{"code":"validation_not_unique","message":"Value must be unique."}'] },
    { name: 'unique index on update', method: 'PATCH', url: (v) => R('posts', v['id']), before: seeded('posts', () => ({ title: 'Unique', slug: `unique-${++counter}`, author: U1, status: 'draft' })), auth: 'superuser', body: { slug: 'first' }, expectedStatus: 400, expectedContent: [...UPDATE_FAILED, fieldError('slug', 'validation_not_unique')] },
    { name: 'update validation error', method: 'PATCH', url: R('everything', E1), body: { qty: 1000 }, expectedStatus: 400, expectedContent: [...UPDATE_FAILED, fieldError('qty', 'validation_max_number_constraint')], after: async (t) => expect(Number((await row(t, 'everything', E1))!['qty'])).toBe(3) },
    { name: 'example collection: select value + pattern', method: 'POST', url: R('posts'), auth: 'superuser', body: { title: 'Ok title', slug: 'Not Valid', author: U1, status: 'deleted' }, expectedStatus: 400, expectedContent: [fieldError('slug', 'validation_invalid_format'), fieldError('status', 'validation_invalid_value')] },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'fields picker', [
    { name: 'view: only the picked keys', method: 'GET', url: `${R('posts', P_PUB1)}?fields=id,title`, expectedStatus: 200, expectedContent: [`{"id":"${P_PUB1}","title":"First post"}`], notExpectedContent: ['collectionId'] },
    { name: 'list: items picked, pagination kept', method: 'GET', url: `${R('tags')}?fields=name&sort=name&filter=${encodeURIComponent('name ~ "tag "')}`, expectedStatus: 200, expectedContent: ['{"items":[{"name":"tag c"},{"name":"tag d"}],"page":1,"perPage":30,"totalItems":2,"totalPages":1}'] },
    { name: '* plus a narrowed expand', method: 'GET', url: `${R('posts', P_PUB1)}?expand=author&fields=*,expand.author.name`, auth: 'superuser', expectedStatus: 200, expectedContent: ['"expand":{"author":{"name":"Ann"}}', '"title":"First post"'] },
    { name: 'excerpt with ellipsis', method: 'GET', url: `${R('posts', P_PUB1)}?fields=${encodeURIComponent('body:excerpt(10,true)')}`, expectedStatus: 200, expectedContent: ['{"body":"Hello worl..."}'] },
    { name: 'excerpt without ellipsis', method: 'GET', url: `${R('posts', P_PUB1)}?fields=${encodeURIComponent('id,body:excerpt(5)')}`, expectedStatus: 200, expectedContent: ['"body":"Hello"'] },
    { name: 'excerpt longer than the text', method: 'GET', url: `${R('posts', P_PUB1)}?fields=${encodeURIComponent('body:excerpt(500,true)')}`, expectedStatus: 200, expectedContent: ['"body":"Hello world, this is a long body"'] },
    { name: 'on create', method: 'POST', url: `${R('everything')}?fields=title`, body: { title: 'picked' }, expectedStatus: 200, expectedContent: ['{"title":"picked"}'] },
    { name: 'unknown modifier → 400', method: 'GET', url: `${R('posts', P_PUB1)}?fields=${encodeURIComponent('title:nope(1)')}`, expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'excerpt(0) → 400', method: 'GET', url: `${R('posts', P_PUB1)}?fields=${encodeURIComponent('body:excerpt(0)')}`, expectedStatus: 400, expectedContent: [status(400)] },
    { name: 'unbalanced parenthesis → 400', method: 'GET', url: `${R('posts')}?fields=${encodeURIComponent('body:excerpt(3')}`, expectedStatus: 400, expectedContent: [status(400)] },
    { name: 'empty segment → 400', method: 'GET', url: `${R('posts')}?fields=${encodeURIComponent('expand..a')}`, expectedStatus: 400, expectedContent: [status(400)] },
    {
      name: 'malformed on create → 400 and nothing created',
      method: 'POST',
      url: `${R('everything')}?fields=${encodeURIComponent('title:bad()')}`,
      body: { code: 'badfields' },
      expectedStatus: 400,
      expectedContent: [status(400)],
      after: async (t) => expect(await count(t, 'everything', '"code" = ?', ['badfields'])).toBe(0),
    },
    { name: 'not applied to error responses', method: 'GET', url: `${R('posts', MISSING)}?fields=id`, expectedStatus: 404, expectedContent: NOT_FOUND },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'expand', [
    { name: 'multi relation, in stored order', method: 'GET', url: `${R('posts', P_PUB1)}?expand=tags`, expectedStatus: 200, expectedContent: ['"expand":{"tags":[{', '"name":"news"', '"name":"tech"'], after: (_t, res) => expect((json(res)['expand'] as { tags: { id: string }[] }).tags.map((x) => x.id)).toEqual([TAG_NEWS, TAG_TECH]) },
    { name: 'single relation is an object', method: 'GET', url: `${R('posts', P_PUB1)}?expand=author`, auth: USER1, expectedStatus: 200, expectedContent: ['"expand":{"author":{', '"name":"Ann"'] },
    { name: 'forbidden target (users viewRule) silently omitted', method: 'GET', url: `${R('posts', P_PUB1)}?expand=author,tags`, expectedStatus: 200, expectedContent: ['"expand":{"tags":['], notExpectedContent: ['"author":{', '"name":"Ann"'] },
    { name: 'forbidden target (null viewRule) silently omitted', method: 'GET', url: `${R('everything', E1)}?expand=lockedRef`, expectedStatus: 200, expectedContent: ['"expand":{}'], notExpectedContent: ['locked one'] },
    { name: 'superuser expands the locked target', method: 'GET', url: `${R('everything', E1)}?expand=lockedRef`, auth: 'superuser', expectedStatus: 200, expectedContent: ['"expand":{"lockedRef":{', '"title":"locked one"'] },
    { name: 'nested expand', method: 'GET', url: `${R('comments', C1)}?expand=post.author,post.tags`, auth: 'superuser', expectedStatus: 200, expectedContent: ['"expand":{"post":{', '"expand":{"author":{', '"name":"Ann"', '"name":"tech"'] },
    { name: 'back-relation', method: 'GET', url: `${R('posts', P_PUB1)}?expand=comments_via_post`, expectedStatus: 200, expectedContent: ['"expand":{"comments_via_post":[', '"body":"Nice"', '"body":"Thanks"'] },
    { name: 'legacy back-relation syntax', method: 'GET', url: `${R('posts', P_PUB1)}?expand=${encodeURIComponent('comments(post)')}`, expectedStatus: 200, expectedContent: ['"comments_via_post":[', '"body":"Nice"'] },
    { name: 'back-relation then forward', method: 'GET', url: `${R('posts', P_PUB1)}?expand=comments_via_post.author`, auth: 'superuser', expectedStatus: 200, expectedContent: ['"comments_via_post":[', '"name":"Bob"'] },
    {
      name: 'back-relation rows the requester may not view are left out',
      method: 'GET',
      url: (v) => `${R('tags', v['tag'])}?expand=posts_via_tags`,
      before: async (t, v) => {
        v['tag'] = String((await t.seed('tags', { name: `backrel-${++counter}` }))['id']);
        v['pub'] = String((await t.seed('posts', { title: 'Visible', slug: `vis-${counter}`, author: U2, status: 'published', tags: [v['tag']] }))['id']);
        v['draft'] = String((await t.seed('posts', { title: 'Invisible', slug: `invis-${counter}`, author: U2, status: 'draft', tags: [v['tag']] }))['id']);
      },
      expectedStatus: 200,
      expectedContent: (v) => ['"expand":{"posts_via_tags":[{', `"id":"${v['pub']}"`],
      notExpectedContent: (v) => [v['draft']!, 'Invisible'],
    },
    {
      name: 'back-relation: the owner sees all',
      method: 'GET',
      url: (v) => `${R('tags', v['tag'])}?expand=posts_via_tags`,
      before: async (t, v) => {
        v['tag'] = String((await t.seed('tags', { name: `backrel-${++counter}` }))['id']);
        await t.seed('posts', { title: 'Visible', slug: `vis-${counter}`, author: U2, status: 'published', tags: [v['tag']] });
        await t.seed('posts', { title: 'Invisible', slug: `invis-${counter}`, author: U2, status: 'draft', tags: [v['tag']] });
      },
      auth: USER2,
      expectedStatus: 200,
      expectedContent: ['"title":"Visible"', '"title":"Invisible"'],
    },
    { name: 'list expand, per item', method: 'GET', url: `${R('posts')}?expand=tags&sort=title`, expectedStatus: 200, expectedContent: ['"expand":{"tags":[', '"expand":{}'] },
    { name: 'expand with spaces and duplicate paths', method: 'GET', url: `${R('posts', P_PUB1)}?expand=${encodeURIComponent(' tags , tags ')}`, expectedStatus: 200, expectedContent: ['"expand":{"tags":['] },
    { name: 'expand on create', method: 'POST', url: `${R('everything')}?expand=tag`, body: { tag: TAG_TECH }, expectedStatus: 200, expectedContent: ['"expand":{"tag":{', '"name":"tech"'] },
    { name: 'expand on update', method: 'PATCH', url: (v) => `${R('everything', v['id'])}?expand=tagset`, before: seeded('everything', {}), body: { tagset: [TAG_C, TAG_D] }, expectedStatus: 200, expectedContent: ['"expand":{"tagset":[', '"name":"tag c"', '"name":"tag d"'] },
    { name: 'no expand param → no expand key', method: 'GET', url: R('posts', P_PUB1), expectedStatus: 200, expectedContent: ['"id":'], notExpectedContent: ['"expand"'] },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'required relations and cascades on delete', [
    {
      name: 'deleting a user referenced by a required relation → 400',
      method: 'DELETE',
      url: (v) => R('users', v['id']),
      before: async (t, v) => {
        const user = await t.seed('users', { email: `author${++counter}@example.com`, password: 'password123', passwordConfirm: 'password123' });
        v['id'] = String(user['id']);
        await t.seed('posts', { title: 'Held', slug: `held-${counter}`, author: v['id'], status: 'draft' });
      },
      auth: 'superuser',
      expectedStatus: 400,
      expectedContent: [status(400), '"code":"delete_failed"', '"message":"Failed to delete record. Make sure that the record is not part of a required relation reference."', EMPTY_DATA],
      after: async (t, _r, v) => expect(await row(t, 'users', v['id']!)).not.toBeNull(),
    },
    {
      name: 'deleting the only target of a required multi relation → 400',
      method: 'DELETE',
      url: (v) => R('tags', v['id']),
      before: async (t, v) => {
        const tag = await t.seed('tags', { name: `solo-${++counter}` });
        v['id'] = String(tag['id']);
        await t.seed('bundles', { items: [v['id']] });
      },
      auth: 'superuser',
      expectedStatus: 400,
      expectedContent: [status(400), '"code":"delete_failed"'],
      after: async (t, _r, v) => expect(await row(t, 'tags', v['id']!)).not.toBeNull(),
    },
    {
      name: 'deleting one of several targets of a required multi relation: reference removed',
      method: 'DELETE',
      url: (v) => R('tags', v['id']),
      before: async (t, v) => {
        const tag = await t.seed('tags', { name: `pair-${++counter}` });
        v['id'] = String(tag['id']);
        v['bundle'] = String((await t.seed('bundles', { items: [TAG_NEWS, v['id']] }))['id']);
      },
      auth: 'superuser',
      expectedStatus: 204,
      after: async (_t, _r, v) => {
        const res = await agent().get(R('bundles', v['bundle'])).set('Authorization', await su());
        expect(res.body.items).toEqual([TAG_NEWS]);
      },
    },
    {
      name: 'deleting a target of an optional relation: reference removed',
      method: 'DELETE',
      url: (v) => R('tags', v['id']),
      before: async (t, v) => {
        const tag = await t.seed('tags', { name: `opt-${++counter}` });
        v['id'] = String(tag['id']);
        v['post'] = String((await t.seed('posts', { title: 'Tagged', slug: `tagged-${counter}`, author: U1, status: 'draft', tags: [TAG_NEWS, v['id']] }))['id']);
        v['every'] = String((await t.seed('everything', { tag: v['id'] }))['id']);
      },
      auth: 'superuser',
      expectedStatus: 204,
      after: async (_t, _r, v) => {
        const post = await agent().get(R('posts', v['post'])).set('Authorization', await su());
        expect(post.body.tags).toEqual([TAG_NEWS]);
        const every = await agent().get(R('everything', v['every'])).set('Authorization', await su());
        expect(every.body.tag).toBe('');
      },
    },
    {
      name: 'cascadeDelete removes the referencing records',
      method: 'DELETE',
      url: (v) => R('posts', v['id']),
      before: async (t, v) => {
        const post = await t.seed('posts', { title: 'Doomed', slug: `doomed-${++counter}`, author: U1, status: 'published' });
        v['id'] = String(post['id']);
        v['comment'] = String((await t.seed('comments', { post: v['id'], author: U2, body: 'bye' }))['id']);
      },
      auth: USER1,
      expectedStatus: 204,
      after: async (t, _r, v) => expect(await row(t, 'comments', v['comment']!)).toBeNull(),
    },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, '@request.body / query / headers / context in rules', [
    { name: 'createRule sees the body', method: 'POST', url: R('bodyrules'), body: { score: 5 }, expectedStatus: 200, expectedContent: ['"score":5'] },
    { name: 'createRule sees the body (false) → 400 data {}', method: 'POST', url: R('bodyrules'), body: { score: 50 }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, EMPTY_DATA] },
    { name: 'createRule sees modifiers resolved (n+ → 5)', method: 'POST', url: R('bodyrules'), body: { 'score+': 5 }, expectedStatus: 200, expectedContent: ['"score":5'] },
    { name: 'createRule sees modifiers resolved (n+ → 50) → 400', method: 'POST', url: R('bodyrules'), body: { 'score+': 50 }, expectedStatus: 400, expectedContent: [...CREATE_FAILED, EMPTY_DATA] },
    { name: 'updateRule sees modifiers resolved on the stored value (5 + 3)', method: 'PATCH', url: (v) => R('bodyrules', v['id']), before: seeded('bodyrules', { score: 5 }), body: { 'score+': 3 }, expectedStatus: 200, expectedContent: ['"score":8'] },
    { name: 'updateRule sees modifiers resolved on the stored value (5 + 10) → 404', method: 'PATCH', url: (v) => R('bodyrules', v['id']), before: seeded('bodyrules', { score: 5 }), body: { 'score+': 10 }, expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'viewRule with @request.query (missing) → 404', method: 'GET', url: (v) => R('bodyrules', v['id']), before: seeded('bodyrules', { score: 1 }), expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'viewRule with @request.query', method: 'GET', url: (v) => `${R('bodyrules', v['id'])}?key=let-me-in`, before: seeded('bodyrules', { score: 1 }), expectedStatus: 200, expectedContent: ['"score":1'] },
    { name: 'listRule with @request.headers (missing) → filtered', method: 'GET', url: R('headerrules'), before: seeded('headerrules', { title: 'h' }), expectedStatus: 200, expectedContent: ['"items":[]'] },
    { name: 'listRule with @request.headers', method: 'GET', url: R('headerrules'), headers: { 'X-Key': 'let-me-in' }, expectedStatus: 200, expectedContent: ['"title":"h"'] },
    { name: 'createRule with @request.headers', method: 'POST', url: R('headerrules'), headers: { 'X-Key': 'let-me-in' }, body: { title: 'ok' }, expectedStatus: 200, expectedContent: ['"title":"ok"'] },
    { name: 'batch: sub-request headers reach @request.headers', method: 'POST', url: '/api/batch', body: { requests: [{ method: 'POST', url: R('headerrules'), headers: { 'X-Key': 'let-me-in' }, body: { title: 'sub' } }] }, expectedStatus: 200, expectedContent: ['"title":"sub"'] },
    { name: 'batch: outer headers reach @request.headers', method: 'POST', url: '/api/batch', headers: { 'X-Key': 'let-me-in' }, body: { requests: [{ method: 'POST', url: R('headerrules'), body: { title: 'outer' } }] }, expectedStatus: 200, expectedContent: ['"title":"outer"'] },
    { name: '@request.context is "default" outside a batch → 404', method: 'PATCH', url: (v) => R('headerrules', v['id']), before: seeded('headerrules', { title: 'ctx' }), body: { title: 'x' }, expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: '@request.context is "batch" inside one', method: 'POST', url: '/api/batch', before: seeded('headerrules', { title: 'ctx' }), body: (v) => ({ requests: [{ method: 'PATCH', url: R('headerrules', v['id']), body: { title: 'batched' } }] }), expectedStatus: 200, expectedContent: ['"title":"batched"'] },
    { name: 'filter with a date macro', method: 'GET', url: `${R('tags')}?filter=${encodeURIComponent('created <= @now && created > "2000-01-01"')}&skipTotal=1`, expectedStatus: 200, expectedContent: ['"name":"news"'] },
    { name: 'view collection: filter and sort', method: 'GET', url: `${R('post_titles')}?filter=${encodeURIComponent('title ~ "post"')}&sort=-title`, expectedStatus: 200, expectedContent: ['{"items":[{"collectionId":'], after: (_t, res) => expect(items(res).slice(0, 3).map((i) => i['title'])).toEqual(['Second post', 'First post', 'Draft post']) },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'ETag / If-Match / If-None-Match', [
    { name: 'view carries a strong ETag', method: 'GET', url: R('posts', P_PUB1), expectedStatus: 200, expectedContent: ['"id":'], expectedHeaders: { etag: /^"[0-9a-z]+"$/ } },
    { name: 'list carries none', method: 'GET', url: R('posts'), expectedStatus: 200, expectedContent: ['"items":'], expectedHeaders: { etag: null } },
    {
      name: 'If-None-Match with the current ETag → 304, empty body',
      method: 'GET',
      url: R('posts', P_PUB1),
      before: async (_t, v) => void (v['etag'] = (await agent().get(R('posts', P_PUB1))).headers['etag'] ?? ''),
      headers: (v) => ({ 'If-None-Match': v['etag']! }),
      expectedStatus: 304,
    },
    { name: 'If-None-Match with another ETag → 200', method: 'GET', url: R('posts', P_PUB1), headers: { 'If-None-Match': '"nope"' }, expectedStatus: 200, expectedContent: ['"id":'] },
    {
      name: 'If-None-Match does not bypass the viewRule',
      method: 'GET',
      url: R('posts', P_DRAFT),
      before: async (_t, v) => void (v['etag'] = (await agent().get(R('posts', P_DRAFT)).set('Authorization', await su())).headers['etag'] ?? ''),
      headers: (v) => ({ 'If-None-Match': v['etag']! }),
      expectedStatus: 404,
      expectedContent: NOT_FOUND,
    },
    {
      name: 'PATCH with the current ETag → 200 and a new ETag',
      method: 'PATCH',
      url: (v) => R('everything', v['id']),
      before: async (_t, v) => {
        const res = await agent().post(R('everything')).send({});
        v['id'] = res.body.id;
        v['etag'] = res.headers['etag'] ?? '';
      },
      headers: (v) => ({ 'If-Match': v['etag']! }),
      body: { qty: 1 },
      expectedStatus: 200,
      expectedContent: ['"qty":1'],
      after: (_t, res, v) => {
        expect(res.headers['etag']).toMatch(/^"[0-9a-z]+"$/);
        expect(res.headers['etag']).not.toBe(v['etag']);
      },
    },
    {
      name: 'PATCH with a stale ETag → 412, nothing changed',
      method: 'PATCH',
      url: (v) => R('everything', v['id']),
      before: async (_t, v) => {
        const res = await agent().post(R('everything')).send({ qty: 1 });
        v['id'] = res.body.id;
        v['etag'] = res.headers['etag'] ?? '';
        await agent().patch(R('everything', v['id'])).send({ qty: 2 });
      },
      headers: (v) => ({ 'If-Match': v['etag']! }),
      body: { qty: 3 },
      expectedStatus: 412,
      expectedContent: [status(412), '"code":"precondition_failed"', EMPTY_DATA],
      after: async (t, _r, v) => expect(Number((await row(t, 'everything', v['id']!))!['qty'])).toBe(2),
    },
    { name: 'PATCH If-Match: * → 200', method: 'PATCH', url: (v) => R('everything', v['id']), before: seeded('everything', {}), headers: { 'If-Match': '*' }, body: { qty: 4 }, expectedStatus: 200, expectedContent: ['"qty":4'] },
    { name: 'PATCH If-Match on a missing record → 404', method: 'PATCH', url: R('everything', MISSING), headers: { 'If-Match': '"abc"' }, body: { qty: 4 }, expectedStatus: 404, expectedContent: NOT_FOUND },
    { name: 'PATCH If-Match where the rule fails → 404 (not 412)', method: 'PATCH', url: R('posts', P_PUB1), headers: { 'If-Match': '"abc"' }, body: { title: 'x' }, expectedStatus: 404, expectedContent: NOT_FOUND },
    {
      name: 'DELETE with a stale ETag → 412, still there',
      method: 'DELETE',
      url: (v) => R('everything', v['id']),
      before: async (_t, v) => {
        const res = await agent().post(R('everything')).send({});
        v['id'] = res.body.id;
        v['etag'] = res.headers['etag'] ?? '';
        await agent().patch(R('everything', v['id'])).send({ qty: 9 });
      },
      headers: (v) => ({ 'If-Match': v['etag']! }),
      expectedStatus: 412,
      expectedContent: [status(412), '"code":"precondition_failed"'],
      after: async (t, _r, v) => expect(await row(t, 'everything', v['id']!)).not.toBeNull(),
    },
    {
      name: 'DELETE with the current ETag → 204',
      method: 'DELETE',
      url: (v) => R('everything', v['id']),
      before: async (_t, v) => {
        const res = await agent().post(R('everything')).send({});
        v['id'] = res.body.id;
        v['etag'] = res.headers['etag'] ?? '';
      },
      headers: (v) => ({ 'If-Match': v['etag']! }),
      expectedStatus: 204,
    },
    {
      name: 'every write changes the ETag, even two in the same millisecond',
      method: 'GET',
      url: (v) => R('everything', v['id']),
      before: async (_t, v) => {
        const created = await agent().post(R('everything')).send({});
        v['id'] = created.body.id;
        const tags = new Set<string>([created.headers['etag']!]);
        for (let i = 0; i < 3; i++) tags.add((await agent().patch(R('everything', v['id'])).send({ qty: 1 })).headers['etag']!);
        v['distinct'] = String(tags.size);
      },
      expectedStatus: 200,
      expectedContent: ['"qty":1'],
      after: (_t, _r, v) => expect(v['distinct']).toBe('4'),
    },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'Idempotency-Key', [
    {
      name: 'replay with the same body returns the same record and Idempotency-Replayed',
      method: 'POST',
      url: R('tags'),
      auth: USER1,
      before: async (t, v) => {
        v['key'] = `k-${++counter}`;
        const first = await agent().post(R('tags')).set('Authorization', await recordToken(t, 'users', U1)).set('Idempotency-Key', v['key']).send({ name: `idem-${counter}` });
        expect(first.status).toBe(200);
        expect(first.headers['idempotency-replayed']).toBeUndefined();
        v['id'] = first.body.id;
        v['name'] = first.body.name;
      },
      headers: (v) => ({ 'Idempotency-Key': v['key']! }),
      body: (v) => ({ name: v['name'] }),
      expectedStatus: 200,
      expectedContent: (v) => [`"id":"${v['id']}"`],
      expectedHeaders: { 'idempotency-replayed': 'true', etag: /^"/ },
      after: async (t, _r, v) => expect(await count(t, 'tags', '"name" = ?', [v['name']])).toBe(1),
    },
    {
      name: 'same key, other body → 409',
      method: 'POST',
      url: R('tags'),
      auth: USER1,
      before: async (t, v) => {
        v['key'] = `k-${++counter}`;
        await agent().post(R('tags')).set('Authorization', await recordToken(t, 'users', U1)).set('Idempotency-Key', v['key']).send({ name: `idem-${counter}` });
      },
      headers: (v) => ({ 'Idempotency-Key': v['key']! }),
      body: { name: 'something else' },
      expectedStatus: 409,
      expectedContent: [status(409), '"code":"idempotency_conflict"'],
      after: async (t) => expect(await count(t, 'tags', '"name" = ?', ['something else'])).toBe(0),
    },
    {
      name: 'keys are scoped per requester',
      method: 'POST',
      url: R('tags'),
      auth: USER2,
      before: async (t, v) => {
        v['key'] = `k-${++counter}`;
        await agent().post(R('tags')).set('Authorization', await recordToken(t, 'users', U1)).set('Idempotency-Key', v['key']).send({ name: `scoped-a-${counter}` });
      },
      headers: (v) => ({ 'Idempotency-Key': v['key']! }),
      body: { name: 'scoped-b' },
      expectedStatus: 200,
      expectedContent: ['"name":"scoped-b"'],
      expectedHeaders: { 'idempotency-replayed': null },
    },
    {
      name: 'an error reply is replayed too',
      method: 'POST',
      url: R('tags'),
      auth: USER1,
      before: async (t, v) => {
        v['key'] = `k-${++counter}`;
        const first = await agent().post(R('tags')).set('Authorization', await recordToken(t, 'users', U1)).set('Idempotency-Key', v['key']).send({ color: 'red' });
        expect(first.status).toBe(400);
      },
      headers: (v) => ({ 'Idempotency-Key': v['key']! }),
      body: { color: 'red' },
      expectedStatus: 400,
      expectedContent: [fieldError('name', 'validation_required')],
      expectedHeaders: { 'idempotency-replayed': 'true' },
    },
    {
      name: 'PATCH with a modifier applies once',
      method: 'PATCH',
      url: (v) => R('everything', v['id']),
      before: async (_t, v) => {
        v['id'] = (await agent().post(R('everything')).send({ qty: 1 })).body.id;
        v['key'] = `k-${++counter}`;
        await agent().patch(R('everything', v['id'])).set('Idempotency-Key', v['key']).send({ 'qty+': 10 });
      },
      headers: (v) => ({ 'Idempotency-Key': v['key']! }),
      body: { 'qty+': 10 },
      expectedStatus: 200,
      expectedContent: ['"qty":11'],
      expectedHeaders: { 'idempotency-replayed': 'true' },
      after: async (t, _r, v) => expect(Number((await row(t, 'everything', v['id']!))!['qty'])).toBe(11),
    },
    { name: 'a key longer than 255 characters → 400', method: 'POST', url: R('everything'), headers: { 'Idempotency-Key': 'k'.repeat(256) }, body: { code: 'longkey' }, expectedStatus: 400, expectedContent: [status(400)], after: async (t) => expect(await count(t, 'everything', '"code" = ?', ['longkey'])).toBe(0) },
    {
      name: 'batch: same key, other requests → 409',
      method: 'POST',
      url: '/api/batch',
      auth: 'superuser',
      before: async (_t, v) => {
        v['key'] = `k-${++counter}`;
        await agent().post('/api/batch').set('Authorization', await su()).set('Idempotency-Key', v['key']).send({ requests: [{ method: 'POST', url: R('everything'), body: { code: 'bk1' } }] });
      },
      headers: (v) => ({ 'Idempotency-Key': v['key']! }),
      body: { requests: [{ method: 'POST', url: R('everything'), body: { code: 'bk2' } }] },
      expectedStatus: 409,
      expectedContent: ['"code":"idempotency_conflict"'],
      after: async (t) => expect(await count(t, 'everything', '"code" = ?', ['bk2'])).toBe(0),
    },
    {
      name: 'batch with a key runs once',
      method: 'POST',
      url: '/api/batch',
      auth: 'superuser',
      before: async (_t, v) => {
        v['key'] = `k-${++counter}`;
        v['code'] = `batchidem${counter}`;
        const first = await agent().post('/api/batch').set('Authorization', await su()).set('Idempotency-Key', v['key']).send({ requests: [{ method: 'POST', url: R('everything'), body: { code: v['code'] } }] });
        expect(first.status).toBe(200);
      },
      headers: (v) => ({ 'Idempotency-Key': v['key']! }),
      body: (v) => ({ requests: [{ method: 'POST', url: R('everything'), body: { code: v['code'] } }] }),
      expectedStatus: 200,
      expectedContent: (v) => [`"code":"${v['code']}"`],
      expectedHeaders: { 'idempotency-replayed': 'true' },
      after: async (t, _r, v) => expect(await count(t, 'everything', '"code" = ?', [v['code']])).toBe(1),
    },
  ]);

  // ---------------------------------------------------------------------------------------------
  const batch = (requests: unknown[]) => ({ requests });
  scenarioGroup(api, 'batch', [
    {
      name: 'create, update, delete, upsert (update + create): results in order',
      method: 'POST',
      url: '/api/batch',
      auth: 'superuser',
      before: async (t, v) => {
        v['upd'] = String((await t.seed('everything', { code: 'to-update' }))['id']);
        v['del'] = String((await t.seed('everything', { code: 'to-delete' }))['id']);
        v['ups'] = String((await t.seed('everything', { code: 'to-upsert' }))['id']);
        v['new'] = freshId('b');
      },
      body: (v) =>
        batch([
          { method: 'POST', url: `${R('everything')}?expand=tag`, body: { code: 'batch-created', tag: TAG_NEWS } },
          { method: 'PATCH', url: R('everything', v['upd']), body: { code: 'batch-updated' } },
          { method: 'DELETE', url: R('everything', v['del']) },
          { method: 'PUT', url: R('everything'), body: { id: v['ups'], code: 'batch-upserted' } },
          { method: 'PUT', url: R('everything'), body: { id: v['new'], code: 'batch-upsert-new' } },
        ]),
      expectedStatus: 200,
      expectedContent: ['"code":"batch-created"', '"expand":{"tag":{', '"code":"batch-updated"', '"body":null', '"code":"batch-upserted"', '"code":"batch-upsert-new"'],
      after: async (t, res, v) => {
        const results = res.json<{ status: number; body: Record<string, unknown> | null }[]>();
        expect(results.map((r) => r.status)).toEqual([200, 200, 204, 200, 200]);
        expect(results[1]!.body!['id']).toBe(v['upd']);
        expect(results[3]!.body!['id']).toBe(v['ups']);
        expect(results[4]!.body!['id']).toBe(v['new']);
        expect(await row(t, 'everything', v['del']!)).toBeNull();
        expect((await row(t, 'everything', v['ups']!))!['code']).toBe('batch-upserted');
      },
    },
    {
      name: 'result items are {body, status} (PocketBase key order)',
      method: 'POST',
      url: '/api/batch',
      auth: 'superuser',
      body: batch([{ method: 'POST', url: R('everything'), body: {} }]),
      expectedStatus: 200,
      expectedContent: ['[{"body":{'],
    },
    {
      name: 'one failing request → 400 batch_failed, nothing persisted',
      method: 'POST',
      url: '/api/batch',
      auth: 'superuser',
      before: async (t, v) => {
        v['upd'] = String((await t.seed('everything', { code: 'stays' }))['id']);
        v['del'] = String((await t.seed('everything', { code: 'survives' }))['id']);
      },
      body: (v) =>
        batch([
          { method: 'POST', url: R('everything'), body: { code: 'rolled-back' } },
          { method: 'PATCH', url: R('everything', v['upd']), body: { code: 'changed' } },
          { method: 'DELETE', url: R('everything', v['del']) },
          { method: 'POST', url: R('everything'), body: { qty: 1000 } },
          { method: 'POST', url: R('everything'), body: { code: 'never-run' } },
        ]),
      expectedStatus: 400,
      expectedContent: [
        status(400),
        '"code":"batch_failed"',
        '"message":"Batch transaction failed."',
        '"data":{"requests":{"3":{"code":"batch_request_failed","message":"Batch request failed.","response":{',
        fieldError('qty', 'validation_max_number_constraint'),
        '"message":"Failed to create record."',
      ],
      after: async (t, _r, v) => {
        expect(await count(t, 'everything', '"code" IN (?, ?)', ['rolled-back', 'never-run'])).toBe(0);
        expect((await row(t, 'everything', v['upd']!))!['code']).toBe('stays');
        expect(await row(t, 'everything', v['del']!)).not.toBeNull();
      },
    },
    {
      name: 'sub-requests run with the outer auth and the normal rules',
      method: 'POST',
      url: '/api/batch',
      body: batch([
        { method: 'POST', url: R('gated'), body: { title: 'batch-guest', public: true } },
        { method: 'POST', url: R('locked'), body: { title: 'x' } },
      ]),
      expectedStatus: 400,
      expectedContent: ['"requests":{"1":{"code":"batch_request_failed"', '"response":{"status":403'],
      after: async (t) => expect(await count(t, 'gated', '"title" = ?', ['batch-guest'])).toBe(0),
    },
    {
      name: "a sub-request's own Authorization is ignored",
      method: 'POST',
      url: '/api/batch',
      before: async (_t, v) => void (v['token'] = await su()),
      body: (v) => batch([{ method: 'POST', url: R('locked'), headers: { Authorization: v['token'] }, body: { title: 'x' } }]),
      expectedStatus: 400,
      expectedContent: ['"requests":{"0":{', '"status":403'],
    },
    {
      name: 'createRule false inside a batch → the sub-response is 400 data {}',
      method: 'POST',
      url: '/api/batch',
      body: batch([{ method: 'POST', url: R('gated'), body: { title: 'x', public: false } }]),
      expectedStatus: 400,
      expectedContent: ['"requests":{"0":{', '"response":{"status":400,"code":"create_failed"'],
    },
    {
      name: 'If-Match inside a batch → 412 sub-response',
      method: 'POST',
      url: '/api/batch',
      auth: 'superuser',
      before: seeded('everything', {}),
      body: (v) => batch([{ method: 'PATCH', url: R('everything', v['id']), headers: { 'If-Match': '"stale"' }, body: { qty: 1 } }]),
      expectedStatus: 400,
      expectedContent: ['"response":{"status":412'],
    },
    {
      name: 'more than 50 requests → 400',
      method: 'POST',
      url: '/api/batch',
      auth: 'superuser',
      body: batch(Array.from({ length: 51 }, () => ({ method: 'POST', url: R('everything'), body: { code: 'too-many' } }))),
      expectedStatus: 400,
      expectedContent: [status(400), '"code":"batch_invalid"', '"requests":{"code":"validation_length_too_long"'],
      after: async (t) => expect(await count(t, 'everything', '"code" = ?', ['too-many'])).toBe(0),
    },
    {
      name: 'exactly 50 requests → 200',
      method: 'POST',
      url: '/api/batch',
      auth: 'superuser',
      body: batch(Array.from({ length: 50 }, () => ({ method: 'POST', url: R('everything'), body: { code: 'fifty' } }))),
      expectedStatus: 200,
      expectedContent: ['"code":"fifty"'],
      after: async (t, res) => {
        expect(res.json<unknown[]>()).toHaveLength(50);
        expect(await count(t, 'everything', '"code" = ?', ['fifty'])).toBe(50);
      },
    },
    {
      name: 'a required-relation delete inside a batch fails the batch',
      method: 'POST',
      url: '/api/batch',
      auth: 'superuser',
      before: async (t, v) => {
        v['tag'] = String((await t.seed('tags', { name: `bsolo-${++counter}` }))['id']);
        await t.seed('bundles', { items: [v['tag']] });
      },
      body: (v) => batch([{ method: 'POST', url: R('everything'), body: { code: 'before-delete' } }, { method: 'DELETE', url: R('tags', v['tag']) }]),
      expectedStatus: 400,
      expectedContent: ['"requests":{"1":{', '"code":"delete_failed"'],
      after: async (t, _r, v) => {
        expect(await row(t, 'tags', v['tag']!)).not.toBeNull();
        expect(await count(t, 'everything', '"code" = ?', ['before-delete'])).toBe(0);
      },
    },
    { name: 'no requests → 400', method: 'POST', url: '/api/batch', auth: 'superuser', body: batch([]), expectedStatus: 400, expectedContent: [status(400), '"code":"batch_invalid"', fieldError('requests', 'validation_required')] },
    { name: 'missing requests key → 400', method: 'POST', url: '/api/batch', auth: 'superuser', body: {}, expectedStatus: 400, expectedContent: [status(400), '"code":"batch_invalid"'] },
    { name: 'invalid JSON → 400', method: 'POST', url: '/api/batch', auth: 'superuser', body: '{"requests":', expectedStatus: 400, expectedContent: [status(400), EMPTY_DATA] },
    { name: 'invalid method → 400 validation', method: 'POST', url: '/api/batch', auth: 'superuser', body: batch([{ method: 'FOO', url: R('everything') }]), expectedStatus: 400, expectedContent: ['"code":"batch_invalid"', '"requests":{"0":{"method":{"code":"validation_in_invalid"'] },
    { name: 'missing url → 400 validation', method: 'POST', url: '/api/batch', auth: 'superuser', body: batch([{ method: 'POST' }]), expectedStatus: 400, expectedContent: ['"code":"batch_invalid"', '"url":{"code":"validation_required"'] },
    { name: 'GET is not a batch action', method: 'POST', url: '/api/batch', auth: 'superuser', body: batch([{ method: 'GET', url: R('everything') }]), expectedStatus: 400, expectedContent: ['"code":"batch_failed"', '"requests":{"0":{"code":"batch_request_failed"'] },
    { name: 'PUT with an id in the URL is not a batch action', method: 'POST', url: '/api/batch', auth: 'superuser', body: batch([{ method: 'PUT', url: R('everything', E1), body: {} }]), expectedStatus: 400, expectedContent: ['"code":"batch_failed"'] },
    { name: 'POST to a record URL is not a batch action', method: 'POST', url: '/api/batch', auth: 'superuser', body: batch([{ method: 'POST', url: R('everything', E1), body: {} }]), expectedStatus: 400, expectedContent: ['"code":"batch_failed"'] },
    { name: 'non-record URL is not a batch action', method: 'POST', url: '/api/batch', auth: 'superuser', body: batch([{ method: 'POST', url: '/api/health', body: {} }]), expectedStatus: 400, expectedContent: ['"code":"batch_failed"'] },
    { name: 'unknown collection inside a batch', method: 'POST', url: '/api/batch', auth: 'superuser', body: batch([{ method: 'POST', url: R('missing'), body: {} }]), expectedStatus: 400, expectedContent: ['"code":"batch_failed"', '"response":{"status":404'] },
    { name: 'view collection inside a batch', method: 'POST', url: '/api/batch', auth: 'superuser', body: batch([{ method: 'POST', url: R('post_titles'), body: {} }]), expectedStatus: 400, expectedContent: ['"code":"batch_failed"', 'Unsupported collection type.'] },
    {
      name: 'multipart with @jsonPayload (what the SDK sends)',
      method: 'POST',
      url: '/api/batch',
      auth: 'superuser',
      multipart: [{ name: '@jsonPayload', value: JSON.stringify(batch([{ method: 'POST', url: R('everything'), body: { code: 'from-multipart', meta: { x: 1 } } }])) }],
      expectedStatus: 200,
      expectedContent: ['"code":"from-multipart"', '"meta":{"x":1}'],
    },
    {
      name: 'upsert respects rules (guest PUT on an existing private record → 404)',
      method: 'POST',
      url: '/api/batch',
      body: batch([{ method: 'PUT', url: R('gated'), body: { id: G_PRIV, title: 'took over' } }]),
      expectedStatus: 400,
      expectedContent: ['"response":{"status":404'],
      after: async (t) => expect((await row(t, 'gated', G_PRIV))!['title']).toBe('closed'),
    },
  ]);

  // ---------------------------------------------------------------------------------------------
  scenarioGroup(api, 'collections API (superusers only)', [
    { name: 'guest list → 401', method: 'GET', url: '/api/collections', expectedStatus: 401, expectedContent: [status(401), '"code":"unauthorized"', EMPTY_DATA] },
    { name: 'guest view → 401', method: 'GET', url: '/api/collections/posts', expectedStatus: 401, expectedContent: [status(401)] },
    { name: 'invalid token → 401', method: 'GET', url: '/api/collections', auth: { token: 'garbage' }, expectedStatus: 401, expectedContent: [status(401)] },
    { name: 'regular auth record → 403', method: 'GET', url: '/api/collections', auth: USER1, expectedStatus: 403, expectedContent: [status(403), 'The authorized record is not allowed to perform this action.'] },
    {
      name: 'superuser list',
      method: 'GET',
      url: '/api/collections?perPage=100',
      auth: 'superuser',
      expectedStatus: 200,
      expectedContent: ['"name":"posts"', '"name":"_superusers"', '"name":"post_titles"', '"viewQuery":"SELECT id, title FROM posts"', '"perPage":100'],
      notExpectedContent: ['previousName', '$schema'],
      after: (_t, res) => {
        const body = json(res) as { items: Record<string, unknown>[]; totalItems: number };
        expect(Object.keys(body)).toEqual(['items', 'page', 'perPage', 'totalItems', 'totalPages']);
        expect(body.totalItems).toBe(COLLECTIONS.length + 5); // + _superusers, _mfas, _otps, _externalAuths, _authOrigins
        const superusers = body.items.find((c) => c['name'] === '_superusers')!;
        expect(superusers['id']).toBe('pbc_3142635823');
        expect(superusers['system']).toBe(true);
      },
    },
    { name: 'superuser list pagination', method: 'GET', url: '/api/collections?perPage=2&page=2', auth: 'superuser', expectedStatus: 200, expectedContent: ['"page":2', '"perPage":2'], after: (_t, res) => expect(items(res)).toHaveLength(2) },
    {
      name: 'superuser view: PocketBase key order, sorted field keys',
      method: 'GET',
      url: '/api/collections/posts',
      auth: 'superuser',
      expectedStatus: 200,
      expectedContent: ['"id":"pbc_', '"name":"posts"', '"type":"base"', '"createRule":"@request.auth.id != \\"\\" \\u0026\\u0026 author = @request.auth.id"', '"indexes":['],
      after: (_t, res, v) => {
        const body = json(res);
        expect(Object.keys(body).slice(0, 10)).toEqual(['id', 'listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule', 'name', 'type', 'fields', 'indexes']);
        const fields = body['fields'] as Record<string, unknown>[];
        expect(fields[0]!['name']).toBe('id');
        for (const f of fields) expect(Object.keys(f)).toEqual(Object.keys(f).sort());
        const author = fields.find((f) => f['name'] === 'author')!;
        expect(author['collectionId']).toBe(v['users']);
      },
      before: (t, v) => void (v['users'] = t.app.records.find('users')!.collection.id),
    },
    { name: 'view by id', method: 'GET', url: (v) => `/api/collections/${v['cid']}`, before: (t, v) => void (v['cid'] = t.app.records.find('tags')!.collection.id), auth: 'superuser', expectedStatus: 200, expectedContent: ['"name":"tags"'] },
    { name: 'view of an auth collection: no secrets', method: 'GET', url: '/api/collections/members', auth: 'superuser', expectedStatus: 200, expectedContent: ['"type":"auth"', '"name":"members"'], notExpectedContent: ['"secret"'] },
    { name: 'unknown collection → 404', method: 'GET', url: '/api/collections/nope', auth: 'superuser', expectedStatus: 404, expectedContent: [status(404)] },
  ]);
});
