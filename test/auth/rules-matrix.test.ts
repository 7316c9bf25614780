/**
 * API rules, action by action and requester by requester, on the EXAMPLE app (collections/*.json)
 * and on an inline teams/members/docs app whose rules follow relation paths through the auth
 * record (`@request.auth.team.owner`).
 *
 * Every expectation below is derived BY HAND from the rules (see the comment above each
 * collection's rows) and pocketbase-api.md §1.6 / §5: a null rule → 403 for non-superusers before
 * any lookup; list → rows filtered (200); view/update/delete refused → 404; create refused → 400
 * `Failed to create record.` with `data: {}`; superusers bypass everything; manageRule grants
 * email/verified/password changes without `oldPassword` and email visibility.
 *
 * Rows run in order against one app per engine: every read row first, then the writes (which only
 * touch throwaway records, or rewrite fixture records with their current values).
 */
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { scenarioApp, type ScenarioApp, type ScenarioAuth } from '../helpers/scenario.js';
import {
  at,
  C_DRAFT_OWN,
  C_ODRAFT_OTH,
  C_PUB_OTH,
  C_PUB_OWN,
  ERR,
  idsOf,
  itemsOf,
  MISSING,
  MOD,
  MOD_EMAIL,
  MOD_PASSWORD,
  MOD_UNVERIFIED,
  OTHER,
  OTHER_EMAIL,
  OWNER,
  OWNER_EMAIL,
  P_DRAFT,
  P_ODRAFT,
  P_OPUB,
  P_PUB,
  pad,
  PASSWORD,
  PUBLIC,
  PUBLIC_EMAIL,
  pw,
  R,
  seedExample,
  send,
  T_DRAFTONLY,
  T_NEWS,
  T_UNUSED,
  unique,
  type Json,
  type Probe,
} from './fixtures-rules.js';

// ---- the table ---------------------------------------------------------------------------------

type Action = 'list' | 'view' | 'create' | 'update' | 'delete' | 'expand';

/** Marks for `fields`: the key must be present (any value) / absent. Anything else: the exact (deep-equal) value. */
const SHOWN = Symbol('shown');
const ABSENT = Symbol('absent');
type FieldExpect = typeof SHOWN | typeof ABSENT | string | number | boolean | Json;

interface Row {
  /** Collection. */
  c: string;
  action: Action;
  /** A key of the requester map, or 'self': the target auth record itself (throwaway records). */
  who: string;
  /** view/update/delete (and expand on one record): a fixed id, or a throwaway record seeded as a superuser first. */
  id?: string | ((t: TestApp) => Promise<string>);
  query?: string;
  body?: Json | (() => Json);
  status: number;
  /** list: the exact set of visible ids (totalItems must match); a single record: its id is checked. */
  ids?: string[];
  /** Per record: a list item's id, '*' for every item, or 'self' for a single-record response → dotted path → expectation. */
  fields?: Record<string, Record<string, FieldExpect>>;
  /** Per record id (or 'self'): the exact keys of `expand` and the id(s) under each. */
  expand?: Record<string, Record<string, string | string[]>>;
  /** The exact error body. */
  error?: Json;
  /** A 400 with this field error code under `data` (create_failed / update_failed). */
  fieldError?: [field: string, code: string];
  /** The stored row afterwards: 'gone', or columns it must still hold. */
  stored?: 'gone' | Json;
  /** Why this expectation (shown in the test name). */
  why?: string;
}

const ok404 = (status: number): Partial<Row> => (status === 404 ? { error: ERR.notFound } : status === 403 ? { error: ERR.forbidden } : {});
const L = (c: string, who: string, ids: string[] | undefined, more: Partial<Row> = {}): Row => ({ c, action: 'list', who, status: 200, ...(ids ? { ids } : {}), ...more });
const L403 = (c: string, who: string): Row => ({ c, action: 'list', who, status: 403, error: ERR.forbidden });
const V = (c: string, who: string, id: string, status: number, more: Partial<Row> = {}): Row => ({ c, action: 'view', who, id, status, ...(status === 200 ? { ids: [id] } : ok404(status)), ...more });
const X = (c: string, who: string, query: string, expand: Row['expand'], more: Partial<Row> = {}): Row => ({ c, action: 'expand', who, query, status: 200, expand, ...more });
const C = (c: string, who: string, body: Row['body'], status: number, more: Partial<Row> = {}): Row => ({
  c,
  action: 'create',
  who,
  body,
  status,
  ...(status === 400 && !more.fieldError ? { error: ERR.createFailed } : ok404(status)),
  ...more,
});
const U = (c: string, who: string, id: Row['id'], body: Row['body'], status: number, more: Partial<Row> = {}): Row => ({ c, action: 'update', who, id, body, status, ...ok404(status), ...more });
const D = (c: string, who: string, id: Row['id'], status: number, more: Partial<Row> = {}): Row => ({
  c,
  action: 'delete',
  who,
  id,
  status,
  ...(status === 204 ? { stored: 'gone' as const } : {}),
  ...ok404(status),
  ...more,
});

// ---- throwaway records (seeded as a superuser right before their row) --------------------------

const idOf = (r: Json) => String(r['id']);
const newPost = (author: string, status = 'published') => async (t: TestApp) => idOf(await t.seed('posts', { title: 'Throwaway', slug: unique('tmp-'), author, status }));
const newComment = (post: string, author: string) => async (t: TestApp) => idOf(await t.seed('comments', { post, author, body: 'throwaway' }));
const newTag = () => async (t: TestApp) => idOf(await t.seed('tags', { name: unique('tmp') }));
const newUser = (extra: Json = {}) => async (t: TestApp) => idOf(await t.seed('users', { email: `${unique('tmp')}@example.com`, ...pw(), ...extra }));
const newModerator = () => async (t: TestApp) => idOf(await t.seed('moderators', { email: `${unique('tmpmod')}@example.com`, verified: true, ...pw(MOD_PASSWORD) }));
const newSuperuser = () => async (t: TestApp) => idOf(await t.seed('_superusers', { email: `${unique('tmproot')}@example.com`, ...pw() }));

const postBody = (author: string) => () => ({ title: 'Created post', slug: unique('created-'), author, status: 'draft' });
const commentBody = (post: string, author?: string) => () => ({ post, ...(author ? { author } : {}), body: 'a new comment' });
const userBody = (extra: Json = {}) => () => ({ email: `${unique('signup')}@example.com`, ...pw(), ...extra });

// ---- the runner --------------------------------------------------------------------------------

const METHOD = { list: 'GET', view: 'GET', expand: 'GET', create: 'POST', update: 'PATCH', delete: 'DELETE' } as const;

function rowName(r: Row): string {
  const what = r.action === 'expand' ? `expand ${r.query}` : r.action;
  return `${r.c} ${what} as ${r.who}${r.why ? ` (${r.why})` : ''} → ${r.status}`;
}

async function runRow(api: ScenarioApp, requesters: Record<string, ScenarioAuth>, row: Row): Promise<Probe> {
  const t = api.t;
  const id = typeof row.id === 'function' ? await row.id(t) : row.id;
  const auth: ScenarioAuth = row.who === 'self' ? { collection: row.c, id: id! } : requesters[row.who]!;
  if (auth === undefined) throw new Error(`unknown requester ${row.who}`);
  const token = await api.authorization(auth);
  const method = METHOD[row.action];
  const single = row.action === 'view' || row.action === 'update' || row.action === 'delete' || (row.action === 'expand' && id !== undefined);
  const url = R(row.c, single ? id : undefined, row.query);
  const body = typeof row.body === 'function' ? row.body() : row.body;
  const res = await send(t, method, url, token, body ?? (method === 'POST' || method === 'PATCH' ? {} : undefined));
  const where = `${method} ${url} as ${row.who}\n${res.text.slice(0, 3000)}`;

  expect(res.status, where).toBe(row.status);
  if (row.status === 204) expect(res.text, where).toBe('');
  // never any secret of an auth record, for any requester (error bodies name fields, so 2xx only)
  if (res.status < 300) expect(res.text, where).not.toMatch(/"(password|tokenKey|passwordConfirm|oldPassword)":/);
  if (row.error) expect(res.body, where).toEqual(row.error);
  if (row.fieldError) {
    const [field, code] = row.fieldError;
    expect(res.body, where).toMatchObject({ status: 400, code: row.action === 'create' ? 'create_failed' : 'update_failed' });
    expect(at(res.body, `data.${field}.code`), where).toBe(code);
  }

  const records = new Map<string, Json>();
  if (res.status === 200) {
    if (row.action === 'list' || (row.action === 'expand' && id === undefined)) {
      for (const item of itemsOf(res)) records.set(String(item['id']), item);
      if (row.ids) {
        expect([...idsOf(res)].sort(), where).toEqual([...row.ids].sort());
        expect(at(res.body, 'totalItems'), where).toBe(row.ids.length);
      }
    } else {
      records.set('self', res.body as Json);
      if (id !== undefined) expect(at(res.body, 'id'), where).toBe(id);
    }
  }
  for (const [key, checks] of Object.entries(row.fields ?? {})) {
    const targets = key === '*' ? [...records.values()] : [records.get(key)];
    if (key === '*') expect(targets.length, `${where}\n(no records to check)`).toBeGreaterThan(0);
    for (const record of targets) {
      expect(record, `${where}\n(record ${key} missing)`).toBeDefined();
      for (const [path, want] of Object.entries(checks)) {
        const got = at(record, path);
        const label = `${where}\n(${key}: ${path})`;
        if (want === SHOWN) expect(got, label).toBeDefined();
        else if (want === ABSENT) expect(got, label).toBeUndefined();
        else expect(got, label).toEqual(want);
      }
    }
  }
  for (const [key, want] of Object.entries(row.expand ?? {})) {
    const record = records.get(key);
    expect(record, `${where}\n(record ${key} missing)`).toBeDefined();
    const expand = record!['expand'] as Record<string, Json | Json[]> | undefined;
    expect(expand, `${where}\n(${key} has no expand)`).toBeDefined();
    expect(Object.keys(expand!).sort(), `${where}\n(${key} expand keys)`).toEqual(Object.keys(want).sort());
    for (const [k, ids] of Object.entries(want)) {
      const value = expand![k]!;
      if (Array.isArray(ids)) {
        expect(Array.isArray(value), `${where}\n(${key}.expand.${k} should be an array)`).toBe(true);
        expect((value as Json[]).map(idOf).sort(), `${where}\n(${key}.expand.${k})`).toEqual([...ids].sort());
      } else {
        expect(idOf(value as Json), `${where}\n(${key}.expand.${k})`).toBe(ids);
      }
    }
  }
  if (row.stored !== undefined) {
    const rt = t.app.records.find(row.c)!;
    const rows = await t.app.db.runner().all(`SELECT ${rt.selectList} FROM ${rt.table} r WHERE r."id" = ?`, [id]);
    if (row.stored === 'gone') expect(rows, `${where}\n(should be deleted)`).toHaveLength(0);
    else expect(rows[0] && rt.decode(rows[0]), `${where}\n(stored row)`).toMatchObject(row.stored);
  }
  return res;
}

function defineRows(api: ScenarioApp, requesters: Record<string, ScenarioAuth>, rows: Row[]): void {
  for (const row of rows) it(rowName(row), async () => void (await runRow(api, requesters, row)));
}

// ================================================================================================
// 1. The example app
// ================================================================================================

const EXAMPLE_REQUESTERS: Record<string, ScenarioAuth> = {
  guest: 'guest',
  owner: { collection: 'users', id: OWNER },
  other: { collection: 'users', id: OTHER },
  moderator: { collection: 'moderators', id: MOD },
  superuser: 'superuser',
};
const ALL_POSTS = [P_PUB, P_DRAFT, P_OPUB, P_ODRAFT];
const ALL_COMMENTS = [C_PUB_OWN, C_PUB_OTH, C_DRAFT_OWN, C_ODRAFT_OTH];
const ALL_TAGS = [T_NEWS, T_DRAFTONLY, T_UNUSED];
const ALL_USERS = [OWNER, OTHER, PUBLIC];

/*
 * posts — list/view: `status = "published" || author = @request.auth.id || @request.auth.collectionName = "moderators"`
 *   guest: the published ones; a user: published + own drafts; a moderator: everything.
 * create: `@request.auth.id != "" && author = @request.auth.id` — only for oneself (a moderator is no
 *   `users` record, so never); update/delete: `author = @request.auth.id` — the author only (NOT moderators).
 * expand author → users.viewRule (`self || moderator`): only one's own author record, or all for a
 *   moderator (with the email: users.manageRule admits moderators, and PocketBase resolves the email
 *   visibility of expanded records too); tags are public.
 */
const POSTS_READS: Row[] = [
  L('posts', 'guest', [P_PUB, P_OPUB]),
  L('posts', 'owner', [P_PUB, P_DRAFT, P_OPUB]),
  L('posts', 'other', [P_PUB, P_OPUB, P_ODRAFT]),
  L('posts', 'moderator', ALL_POSTS, { why: 'moderators see drafts' }),
  L('posts', 'superuser', ALL_POSTS),
  V('posts', 'guest', P_PUB, 200),
  V('posts', 'guest', P_DRAFT, 404),
  V('posts', 'owner', P_DRAFT, 200, { fields: { self: { status: 'draft', title: 'Secret plan' } } }),
  V('posts', 'owner', P_ODRAFT, 404),
  V('posts', 'other', P_DRAFT, 404),
  V('posts', 'other', P_ODRAFT, 200),
  V('posts', 'moderator', P_DRAFT, 200),
  V('posts', 'superuser', P_DRAFT, 200),
  V('posts', 'guest', MISSING, 404),
  X('posts', 'guest', 'expand=author,tags', { [P_PUB]: { tags: [T_NEWS] }, [P_OPUB]: { tags: [T_NEWS] } }),
  X(
    'posts',
    'owner',
    'expand=author,tags',
    { [P_PUB]: { author: OWNER, tags: [T_NEWS] }, [P_DRAFT]: { author: OWNER, tags: [T_DRAFTONLY] }, [P_OPUB]: { tags: [T_NEWS] } },
    { fields: { [P_PUB]: { 'expand.author.email': OWNER_EMAIL } } },
  ),
  X(
    'posts',
    'other',
    'expand=author,tags',
    { [P_PUB]: { tags: [T_NEWS] }, [P_OPUB]: { author: OTHER, tags: [T_NEWS] }, [P_ODRAFT]: { author: OTHER } },
    { fields: { [P_OPUB]: { 'expand.author.email': OTHER_EMAIL } } },
  ),
  X('posts', 'moderator', 'expand=author,tags', {
    [P_PUB]: { author: OWNER, tags: [T_NEWS] },
    [P_DRAFT]: { author: OWNER, tags: [T_DRAFTONLY] },
    [P_OPUB]: { author: OTHER, tags: [T_NEWS] },
    [P_ODRAFT]: { author: OTHER },
  }),
  X(
    'posts',
    'moderator',
    'expand=author',
    { [P_PUB]: { author: OWNER }, [P_DRAFT]: { author: OWNER }, [P_OPUB]: { author: OTHER }, [P_ODRAFT]: { author: OTHER } },
    { fields: { [P_PUB]: { 'expand.author.email': OWNER_EMAIL }, [P_OPUB]: { 'expand.author.email': OTHER_EMAIL } }, why: 'manageRule shows emails of expanded users too' },
  ),
  X(
    'posts',
    'superuser',
    'expand=author,tags',
    {
      [P_PUB]: { author: OWNER, tags: [T_NEWS] },
      [P_DRAFT]: { author: OWNER, tags: [T_DRAFTONLY] },
      [P_OPUB]: { author: OTHER, tags: [T_NEWS] },
      [P_ODRAFT]: { author: OTHER },
    },
    { fields: { [P_PUB]: { 'expand.author.email': OWNER_EMAIL } } },
  ),
];
const POSTS_WRITES: Row[] = [
  C('posts', 'guest', postBody(OWNER), 400),
  C('posts', 'owner', postBody(OWNER), 200, { fields: { self: { author: OWNER, status: 'draft' } } }),
  C('posts', 'other', postBody(OWNER), 400, { why: 'author must be oneself' }),
  C('posts', 'other', postBody(OTHER), 200),
  C('posts', 'moderator', postBody(OWNER), 400, { why: 'a moderator is not the author' }),
  C('posts', 'superuser', postBody(OWNER), 200),
  U('posts', 'guest', P_PUB, { title: 'Hacked' }, 404, { stored: { title: 'Hello world' } }),
  U('posts', 'owner', P_PUB, { title: 'Hello world' }, 200, { fields: { self: { title: 'Hello world' } } }),
  U('posts', 'other', P_PUB, { title: 'Hacked' }, 404, { stored: { title: 'Hello world' } }),
  U('posts', 'moderator', P_PUB, { title: 'Hacked' }, 404, { why: 'no moderator clause in updateRule', stored: { title: 'Hello world' } }),
  U('posts', 'superuser', P_PUB, { title: 'Hello world' }, 200),
  U('posts', 'owner', P_DRAFT, { title: 'Secret plan' }, 200),
  U('posts', 'other', P_DRAFT, { title: 'Hacked' }, 404, { why: 'hidden draft', stored: { title: 'Secret plan' } }),
  D('posts', 'guest', P_PUB, 404, { stored: { id: P_PUB } }),
  D('posts', 'other', P_PUB, 404, { stored: { id: P_PUB } }),
  D('posts', 'moderator', P_PUB, 404, { stored: { id: P_PUB } }),
  D('posts', 'other', P_DRAFT, 404, { stored: { id: P_DRAFT } }),
  D('posts', 'owner', newPost(OWNER), 204),
  D('posts', 'owner', newPost(OWNER, 'draft'), 204),
  D('posts', 'superuser', newPost(OTHER), 204),
];

/*
 * comments — list/view: `post.status = "published" || post.author = @request.auth.id`
 *   guest and moderator: comments on published posts only (there is NO moderator clause here,
 *   although moderators see every post); a user: also comments on their own drafts.
 * create: `@request.auth.id != "" && author = @request.auth.id && post.status = "published"` — only
 *   as oneself and only on published posts (even the author of a draft cannot comment on it).
 * update: `author = @request.auth.id`; delete: the comment's author, the post's author, or any moderator
 *   (the deleteRule alone decides: a moderator deletes a comment it cannot even view).
 * expand post → posts.viewRule; author → users.viewRule (only oneself, or everyone for moderators).
 */
const COMMENTS_READS: Row[] = [
  L('comments', 'guest', [C_PUB_OWN, C_PUB_OTH]),
  L('comments', 'owner', [C_PUB_OWN, C_PUB_OTH, C_DRAFT_OWN]),
  L('comments', 'other', [C_PUB_OWN, C_PUB_OTH, C_ODRAFT_OTH]),
  L('comments', 'moderator', [C_PUB_OWN, C_PUB_OTH], { why: 'no moderator clause in listRule' }),
  L('comments', 'superuser', ALL_COMMENTS),
  V('comments', 'guest', C_PUB_OTH, 200),
  V('comments', 'guest', C_DRAFT_OWN, 404),
  V('comments', 'owner', C_DRAFT_OWN, 200),
  V('comments', 'other', C_DRAFT_OWN, 404),
  V('comments', 'moderator', C_DRAFT_OWN, 404),
  V('comments', 'superuser', C_DRAFT_OWN, 200),
  X('comments', 'guest', 'expand=post,author', { [C_PUB_OWN]: { post: P_PUB }, [C_PUB_OTH]: { post: P_PUB } }),
  X('comments', 'owner', 'expand=post,author', {
    [C_PUB_OWN]: { post: P_PUB, author: OWNER },
    [C_PUB_OTH]: { post: P_PUB },
    [C_DRAFT_OWN]: { post: P_DRAFT, author: OWNER },
  }),
  X('comments', 'other', 'expand=post,author', {
    [C_PUB_OWN]: { post: P_PUB },
    [C_PUB_OTH]: { post: P_PUB, author: OTHER },
    [C_ODRAFT_OTH]: { post: P_ODRAFT, author: OTHER },
  }),
  X('comments', 'moderator', 'expand=post,author', { [C_PUB_OWN]: { post: P_PUB, author: OWNER }, [C_PUB_OTH]: { post: P_PUB, author: OTHER } }),
  X('comments', 'superuser', 'expand=post,author', {
    [C_PUB_OWN]: { post: P_PUB, author: OWNER },
    [C_PUB_OTH]: { post: P_PUB, author: OTHER },
    [C_DRAFT_OWN]: { post: P_DRAFT, author: OWNER },
    [C_ODRAFT_OTH]: { post: P_ODRAFT, author: OTHER },
  }),
  X('comments', 'owner', 'expand=post.author', { self: { post: P_DRAFT } }, { id: C_DRAFT_OWN, fields: { self: { 'expand.post.expand.author.id': OWNER } } }),
  X('comments', 'other', 'expand=post.author', { self: { post: P_PUB } }, { id: C_PUB_OTH, fields: { self: { 'expand.post.expand': {} } }, why: 'nested author hidden' }),
  X('posts', 'guest', 'expand=comments_via_post', { self: { comments_via_post: [C_PUB_OWN, C_PUB_OTH] } }, { id: P_PUB }),
  X('posts', 'owner', 'expand=comments_via_post', { self: { comments_via_post: [C_DRAFT_OWN] } }, { id: P_DRAFT }),
  X('posts', 'moderator', 'expand=comments_via_post', { self: {} }, { id: P_DRAFT, why: 'the draft is visible, its comments are not' }),
];
const COMMENTS_WRITES: Row[] = [
  C('comments', 'guest', commentBody(P_PUB, OWNER), 400),
  C('comments', 'owner', commentBody(P_PUB, OWNER), 200, { fields: { self: { post: P_PUB, author: OWNER } } }),
  C('comments', 'owner', commentBody(P_DRAFT, OWNER), 400, { why: 'not published, even for its author' }),
  C('comments', 'other', commentBody(P_PUB, OWNER), 400, { why: 'as someone else' }),
  C('comments', 'other', commentBody(P_PUB, OTHER), 200),
  C('comments', 'moderator', commentBody(P_PUB), 400, { why: 'a moderator is no users record' }),
  C('comments', 'superuser', commentBody(P_DRAFT, OWNER), 200),
  U('comments', 'guest', C_PUB_OWN, { body: 'hacked' }, 404, { stored: { body: 'by the owner' } }),
  U('comments', 'owner', C_PUB_OWN, { body: 'by the owner' }, 200),
  U('comments', 'other', C_PUB_OWN, { body: 'hacked' }, 404, { stored: { body: 'by the owner' } }),
  U('comments', 'moderator', C_PUB_OWN, { body: 'hacked' }, 404, { stored: { body: 'by the owner' } }),
  U('comments', 'superuser', C_PUB_OWN, { body: 'by the owner' }, 200),
  D('comments', 'guest', newComment(P_PUB, OWNER), 404),
  D('comments', 'owner', newComment(P_PUB, OTHER), 204, { why: "the post's author" }),
  D('comments', 'other', newComment(P_PUB, OTHER), 204, { why: "the comment's author" }),
  D('comments', 'other', newComment(P_PUB, OWNER), 404),
  D('comments', 'other', C_DRAFT_OWN, 404, { stored: { id: C_DRAFT_OWN } }),
  D('comments', 'moderator', newComment(P_PUB, OWNER), 204),
  D('comments', 'moderator', newComment(P_DRAFT, OWNER), 204, { why: 'deleteRule alone decides, viewRule not consulted' }),
  D('comments', 'superuser', newComment(P_PUB, OTHER), 204),
];

/*
 * tags — list/view `""`: everyone sees everything. create `@request.auth.id != ""`: any
 * authenticated record, including moderators. update/delete null: 403 for every non-superuser,
 * before the lookup (also for ids that do not exist).
 * expand posts_via_tags → posts.viewRule: T_DRAFTONLY's only post is the owner's draft.
 */
const TAGS_READS: Row[] = [
  ...['guest', 'owner', 'other', 'moderator', 'superuser'].map((who) => L('tags', who, ALL_TAGS)),
  ...['guest', 'owner', 'other', 'moderator', 'superuser'].map((who) => V('tags', who, T_DRAFTONLY, 200)),
  X('tags', 'guest', 'expand=posts_via_tags', { self: {} }, { id: T_DRAFTONLY }),
  X('tags', 'owner', 'expand=posts_via_tags', { self: { posts_via_tags: [P_DRAFT] } }, { id: T_DRAFTONLY }),
  X('tags', 'other', 'expand=posts_via_tags', { self: {} }, { id: T_DRAFTONLY }),
  X('tags', 'moderator', 'expand=posts_via_tags', { self: { posts_via_tags: [P_DRAFT] } }, { id: T_DRAFTONLY }),
  X('tags', 'superuser', 'expand=posts_via_tags', { self: { posts_via_tags: [P_DRAFT] } }, { id: T_DRAFTONLY }),
  X('tags', 'guest', 'expand=posts_via_tags', { self: { posts_via_tags: [P_PUB, P_OPUB] } }, { id: T_NEWS }),
];
const TAGS_WRITES: Row[] = [
  C('tags', 'guest', () => ({ name: unique('t') }), 400),
  C('tags', 'owner', () => ({ name: unique('t') }), 200),
  C('tags', 'other', () => ({ name: unique('t') }), 200),
  C('tags', 'moderator', () => ({ name: unique('t') }), 200),
  C('tags', 'superuser', () => ({ name: unique('t') }), 200),
  ...['guest', 'owner', 'other', 'moderator'].map((who) => U('tags', who, T_NEWS, { name: 'hacked' }, 403, { stored: { name: 'news' } })),
  U('tags', 'guest', MISSING, { name: 'x' }, 403, { why: 'null rule before lookup' }),
  U('tags', 'superuser', T_NEWS, { color: '#00ff00' }, 200, { fields: { self: { color: '#00ff00', name: 'news' } } }),
  ...['guest', 'owner', 'other', 'moderator'].map((who) => D('tags', who, T_UNUSED, 403, { stored: { id: T_UNUSED } })),
  D('tags', 'owner', MISSING, 403, { why: 'null rule before lookup' }),
  D('tags', 'superuser', newTag(), 204),
];

/*
 * users — list/view/update: `id = @request.auth.id || @request.auth.collectionName = "moderators"`;
 * create `""` (sign-up for anyone); delete `id = @request.auth.id` (self only, NOT moderators);
 * manageRule `@request.auth.collectionName = "moderators"`.
 * email: shown to the record itself, to moderators (manageRule) and superusers; everybody else
 *   cannot view other users at all (emailVisibility does not grant view access).
 * Deleting OWNER fails: posts.author is a required, non-cascading relation.
 */
const USERS_READS: Row[] = [
  L('users', 'guest', []),
  L('users', 'owner', [OWNER], { fields: { [OWNER]: { email: OWNER_EMAIL, verified: false, name: 'Owner' } } }),
  L('users', 'other', [OTHER], { fields: { [OTHER]: { email: OTHER_EMAIL } } }),
  L('users', 'moderator', ALL_USERS, { fields: { [OWNER]: { email: OWNER_EMAIL }, [OTHER]: { email: OTHER_EMAIL }, [PUBLIC]: { email: PUBLIC_EMAIL } }, why: 'manageRule shows emails' }),
  L('users', 'superuser', ALL_USERS, { fields: { [OWNER]: { email: OWNER_EMAIL }, [OTHER]: { email: OTHER_EMAIL }, [PUBLIC]: { email: PUBLIC_EMAIL } } }),
  V('users', 'guest', OWNER, 404),
  V('users', 'owner', OWNER, 200, { fields: { self: { email: OWNER_EMAIL, emailVisibility: false } } }),
  V('users', 'other', OWNER, 404),
  V('users', 'other', PUBLIC, 404, { why: 'emailVisibility does not grant view' }),
  V('users', 'moderator', OWNER, 200, { fields: { self: { email: OWNER_EMAIL } } }),
  V('users', 'moderator', PUBLIC, 200, { fields: { self: { email: PUBLIC_EMAIL } } }),
  V('users', 'superuser', OWNER, 200, { fields: { self: { email: OWNER_EMAIL } } }),
  V('users', 'self', PUBLIC, 200, { fields: { self: { email: PUBLIC_EMAIL, emailVisibility: true } } }),
  X('users', 'owner', 'expand=posts_via_author', { self: { posts_via_author: [P_PUB, P_DRAFT] } }, { id: OWNER }),
  X('users', 'other', 'expand=posts_via_author', { self: { posts_via_author: [P_OPUB, P_ODRAFT] } }, { id: OTHER }),
  X('users', 'moderator', 'expand=posts_via_author', { self: { posts_via_author: [P_OPUB, P_ODRAFT] } }, { id: OTHER }),
];
const USERS_WRITES: Row[] = [
  C('users', 'guest', userBody({ name: 'Signup' }), 200, { fields: { self: { email: ABSENT, verified: false, name: 'Signup' } }, why: 'sign-up; email follows emailVisibility' }),
  C('users', 'guest', userBody({ emailVisibility: true }), 200, { fields: { self: { email: SHOWN } } }),
  C('users', 'guest', userBody({ verified: true }), 400, { fieldError: ['verified', 'validation_values_mismatch'] }),
  C('users', 'owner', userBody(), 200, { fields: { self: { email: ABSENT } } }),
  C('users', 'owner', userBody({ verified: true }), 400, { fieldError: ['verified', 'validation_values_mismatch'] }),
  C('users', 'moderator', userBody({ verified: true }), 200, { fields: { self: { email: SHOWN, verified: true } }, why: 'manager may set verified' }),
  C('users', 'superuser', userBody({ verified: true }), 200, { fields: { self: { email: SHOWN, verified: true } } }),
  U('users', 'guest', OWNER, { name: 'Hacked' }, 404, { stored: { name: 'Owner' } }),
  U('users', 'owner', OWNER, { name: 'Owner' }, 200, { fields: { self: { email: OWNER_EMAIL } } }),
  U('users', 'other', OWNER, { name: 'Hacked' }, 404, { stored: { name: 'Owner' } }),
  U('users', 'moderator', OWNER, { name: 'Owner' }, 200, { fields: { self: { email: OWNER_EMAIL } } }),
  U('users', 'superuser', OWNER, { name: 'Owner' }, 200, { fields: { self: { email: OWNER_EMAIL } } }),
  D('users', 'guest', OWNER, 404, { stored: { id: OWNER } }),
  D('users', 'other', OWNER, 404, { stored: { id: OWNER } }),
  D('users', 'moderator', newUser(), 404, { why: 'deleteRule is self only', stored: { verified: false } }),
  D('users', 'self', newUser(), 204),
  D('users', 'owner', OWNER, 400, {
    why: 'required relation from posts',
    error: { status: 400, code: 'delete_failed', message: 'Failed to delete record. Make sure that the record is not part of a required relation reference.', data: {} },
    stored: { id: OWNER },
  }),
  D('users', 'superuser', newUser(), 204),
];

/*
 * users — manageRule (`@request.auth.collectionName = "moderators"`): a moderator changes another
 * user's verified/email/password without oldPassword; a user changing its own verified/email gets
 * `validation_values_mismatch`, its own password needs a correct oldPassword.
 */
const MANAGE_ROWS: Row[] = [
  U('users', 'moderator', newUser(), () => ({ verified: true, email: `${unique('managed')}@example.com`, ...pw('brandnewpass1') }), 200, {
    fields: { self: { verified: true, email: SHOWN } },
    why: 'manager: verified+email+password, no oldPassword',
  }),
  U('users', 'moderator', newUser(), { verified: true }, 200, { fields: { self: { verified: true } } }),
  U('users', 'owner', OWNER, { verified: true }, 400, { fieldError: ['verified', 'validation_values_mismatch'], stored: { verified: false } }),
  U('users', 'owner', OWNER, { email: 'owner2@example.com' }, 400, { fieldError: ['email', 'validation_values_mismatch'], stored: { email: OWNER_EMAIL } }),
  U('users', 'owner', OWNER, pw('newpassword1'), 400, { fieldError: ['oldPassword', 'validation_required'] }),
  U('users', 'owner', OWNER, { oldPassword: 'wrongpassword', ...pw('newpassword1') }, 400, { fieldError: ['oldPassword', 'validation_invalid_old_password'] }),
  U('users', 'other', OWNER, { verified: true }, 404, { why: 'updateRule fails first', stored: { verified: false } }),
  U('users', 'superuser', newUser(), { verified: true, ...pw('brandnewpass1') }, 200, { fields: { self: { verified: true, email: SHOWN } } }),
];

/*
 * moderators — list/view/update `id = @request.auth.id` (self only, also for other auth
 * collections' records: a `users` token never matches); create/delete null → 403 for everyone but
 * superusers (a moderator cannot even delete itself).
 */
const MODERATORS_READS: Row[] = [
  L('moderators', 'guest', []),
  L('moderators', 'owner', [], { why: 'another auth collection' }),
  L('moderators', 'other', []),
  L('moderators', 'moderator', [MOD], { fields: { [MOD]: { email: MOD_EMAIL, verified: true } } }),
  L('moderators', 'superuser', [MOD, MOD_UNVERIFIED], { fields: { '*': { email: SHOWN } } }),
  V('moderators', 'guest', MOD, 404),
  V('moderators', 'owner', MOD, 404),
  V('moderators', 'moderator', MOD, 200, { fields: { self: { email: MOD_EMAIL } } }),
  V('moderators', 'moderator', MOD_UNVERIFIED, 404),
  V('moderators', 'superuser', MOD_UNVERIFIED, 200, { fields: { self: { verified: false } } }),
];
const modBody = () => ({ email: `${unique('newmod')}@example.com`, ...pw(MOD_PASSWORD), verified: true });
const MODERATORS_WRITES: Row[] = [
  C('moderators', 'guest', modBody, 403),
  C('moderators', 'owner', modBody, 403),
  C('moderators', 'moderator', modBody, 403),
  C('moderators', 'superuser', modBody, 200, { fields: { self: { verified: true, email: SHOWN } } }),
  U('moderators', 'guest', MOD, { name: 'Hacked' }, 404, { stored: { name: 'Mod' } }),
  U('moderators', 'owner', MOD, { name: 'Hacked' }, 404, { stored: { name: 'Mod' } }),
  U('moderators', 'moderator', MOD, { name: 'Mod' }, 200, { fields: { self: { email: MOD_EMAIL } } }),
  U('moderators', 'moderator', MOD_UNVERIFIED, { name: 'Hacked' }, 404, { stored: { name: 'Unverified' } }),
  U('moderators', 'moderator', MOD, { verified: false }, 400, { fieldError: ['verified', 'validation_values_mismatch'], why: 'no manageRule' }),
  U('moderators', 'superuser', MOD, { name: 'Mod' }, 200),
  D('moderators', 'guest', MOD, 403, { stored: { id: MOD } }),
  D('moderators', 'moderator', MOD, 403, { stored: { id: MOD } }),
  D('moderators', 'owner', MISSING, 403),
  D('moderators', 'superuser', newModerator(), 204),
];

/*
 * _superusers — all five rules null: 403 for every non-superuser, before any lookup.
 */
const NON_SUPERUSERS = ['guest', 'owner', 'other', 'moderator'];
const suBody = () => ({ email: `${unique('root')}@example.com`, ...pw() });
const SUPERUSERS_ROWS: Row[] = [
  ...NON_SUPERUSERS.map((who) => L403('_superusers', who)),
  L('_superusers', 'superuser', undefined, { fields: { '*': { email: SHOWN, verified: true, collectionName: '_superusers' } } }),
  ...NON_SUPERUSERS.map((who) => V('_superusers', who, MISSING, 403)),
  V('_superusers', 'superuser', MISSING, 404),
  ...NON_SUPERUSERS.map((who) => C('_superusers', who, suBody, 403)),
  C('_superusers', 'superuser', suBody, 200, { fields: { self: { verified: true, email: SHOWN } } }),
  ...NON_SUPERUSERS.map((who) => U('_superusers', who, MISSING, { email: 'x@example.com' }, 403)),
  U('_superusers', 'superuser', newSuperuser(), { emailVisibility: true }, 200),
  ...NON_SUPERUSERS.map((who) => D('_superusers', who, MISSING, 403)),
  D('_superusers', 'superuser', newSuperuser(), 204),
];

/** Obtains a token the way a client does. */
async function login(t: TestApp, collection: string, identity: string, password: string): Promise<Probe> {
  return send(t, 'POST', `/api/collections/${collection}/auth-with-password`, null, { identity, password });
}
const tokenOf = (p: Probe): string => String(at(p.body, 'token'));

describe.each(DIALECTS)('rules matrix: example app (%s)', (dialect) => {
  const api = scenarioApp(dialect, { fixtures: seedExample });

  describe('reads', () => {
    defineRows(api, EXAMPLE_REQUESTERS, [...POSTS_READS, ...COMMENTS_READS, ...TAGS_READS, ...USERS_READS, ...MODERATORS_READS]);
  });
  describe('writes', () => {
    defineRows(api, EXAMPLE_REQUESTERS, [...POSTS_WRITES, ...COMMENTS_WRITES, ...TAGS_WRITES, ...USERS_WRITES, ...MODERATORS_WRITES]);
  });
  describe('users manageRule', () => {
    defineRows(api, EXAMPLE_REQUESTERS, MANAGE_ROWS);
  });
  describe('_superusers', () => {
    defineRows(api, EXAMPLE_REQUESTERS, SUPERUSERS_ROWS);
  });

  describe('tokens and the authRule', () => {
    it('a moderator signs in (authRule verified = true) and its token carries the moderator clauses', async () => {
      const t = api.t;
      const res = await login(t, 'moderators', MOD_EMAIL, MOD_PASSWORD);
      expect(res.status, res.text).toBe(200);
      expect(at(res.body, 'record.email')).toBe(MOD_EMAIL);
      const users = await send(t, 'GET', R('users', undefined, 'perPage=500'), tokenOf(res));
      expect(idsOf(users)).toEqual(expect.arrayContaining(ALL_USERS));
    });

    it('an unverified moderator is refused by the authRule (403)', async () => {
      const res = await login(api.t, 'moderators', 'unverified-mod@example.com', MOD_PASSWORD);
      expect(res.status, res.text).toBe(403);
      expect(res.body).toMatchObject({ status: 403, code: 'auth_rule_refused', data: {} });
    });

    it('own password change through PATCH rotates tokenKey: the old token is now a guest', async () => {
      const t = api.t;
      const email = `${unique('rotate')}@example.com`;
      const id = idOf(await t.seed('users', { email, ...pw() }));
      const old = tokenOf(await login(t, 'users', email, PASSWORD));
      expect(idsOf(await send(t, 'GET', R('users'), old))).toEqual([id]);

      const patch = await send(t, 'PATCH', R('users', id), old, { oldPassword: PASSWORD, ...pw('rotated-pass1') });
      expect(patch.status, patch.text).toBe(200);
      expect(at(patch.body, 'email')).toBe(email);

      const asOld = await send(t, 'GET', R('users'), old);
      expect(asOld.status).toBe(200);
      expect(asOld.body).toMatchObject({ items: [], totalItems: 0 });
      expect((await send(t, 'GET', R('users', id), old)).body).toEqual(ERR.notFound);
      expect((await send(t, 'POST', '/api/collections/users/auth-refresh', old)).status).toBe(401);
      // the old password is gone too; the new one works and gives a working token
      expect((await login(t, 'users', email, PASSWORD)).status).toBe(400);
      const fresh = await login(t, 'users', email, 'rotated-pass1');
      expect(fresh.status, fresh.text).toBe(200);
      expect(idsOf(await send(t, 'GET', R('users'), tokenOf(fresh)))).toEqual([id]);
    });

    it("a moderator's password change (no oldPassword) also kills the user's old token", async () => {
      const t = api.t;
      const email = `${unique('managedpw')}@example.com`;
      const id = idOf(await t.seed('users', { email, ...pw() }));
      const old = tokenOf(await login(t, 'users', email, PASSWORD));
      const mod = await api.authorization(EXAMPLE_REQUESTERS['moderator']!);
      const patch = await send(t, 'PATCH', R('users', id), mod, pw('set-by-moderator'));
      expect(patch.status, patch.text).toBe(200);
      expect((await send(t, 'GET', R('users'), old)).body).toMatchObject({ items: [], totalItems: 0 });
      expect((await login(t, 'users', email, 'set-by-moderator')).status).toBe(200);
    });

    it('an email change by a moderator rotates tokenKey too; the new email signs in', async () => {
      const t = api.t;
      const email = `${unique('managedmail')}@example.com`;
      const id = idOf(await t.seed('users', { email, ...pw() }));
      const old = tokenOf(await login(t, 'users', email, PASSWORD));
      const next = `${unique('moved')}@example.com`;
      const patch = await send(t, 'PATCH', R('users', id), await api.authorization(EXAMPLE_REQUESTERS['moderator']!), { email: next });
      expect(patch.status, patch.text).toBe(200);
      expect(at(patch.body, 'email')).toBe(next);
      expect((await send(t, 'GET', R('users'), old)).body).toMatchObject({ items: [], totalItems: 0 });
      expect((await login(t, 'users', next, PASSWORD)).status).toBe(200);
    });
  });
});

// ================================================================================================
// 2. Relation paths through the auth record (inline collections)
// ================================================================================================

/*
 * teams   (base)  owner → members.               list/view: `owner = @request.auth.id || id = @request.auth.team`
 * members (auth)  team → teams.                  list/view: `id = @request.auth.id || (team != "" && team = @request.auth.team)`
 *                 update: `id = @request.auth.id || team.owner = @request.auth.id`; manageRule: `team.owner = @request.auth.id`
 * docs    (base)  team → teams.                  list: `team.owner = @request.auth.id || team = @request.auth.team`
 *                                                view: `@request.auth.team.owner = team.owner`
 *                 create: `@request.auth.id != "" && team = @request.auth.team && @request.auth.team.owner = @request.auth.id`
 *
 * Members: A owns T1 (member of T1), B and C are in T1 (B: emailVisibility true), D owns T2, E has
 * no team. Docs: DOC1 (T1), DOC2 (T2), ORPHAN (no team).
 *
 * The empty-value semantics of pocketbase-api.md §4.4 matter here (and are PocketBase's, footgun
 * included): `''`/NULL compare equal with `=`, a guest's `@request.auth.*` is NULL, and a missing
 * relation joins to NULL. So ORPHAN (team.owner NULL, team '') is listed by a guest (`team.owner =
 * NULL` is true) and by E (`team = @request.auth.team` is `'' = ''`), and viewed by both
 * (`@request.auth.team.owner` is NULL as is `team.owner`); A, B, D never see it.
 */
const A = pad('mema');
const B = pad('memb');
const MC = pad('memc');
const MD = pad('memd');
const E = pad('meme');
const T1 = pad('team1');
const T2 = pad('team2');
const DOC1 = pad('doc1');
const DOC2 = pad('doc2');
const ORPHAN = pad('docorphan');

const TEAM_COLLECTIONS: Record<string, unknown>[] = [
  {
    name: 'teams',
    listRule: 'owner = @request.auth.id || id = @request.auth.team',
    viewRule: 'owner = @request.auth.id || id = @request.auth.team',
    createRule: null,
    updateRule: null,
    deleteRule: null,
    fields: [
      { name: 'name', type: 'text' },
      { name: 'owner', type: 'relation', collection: 'members', maxSelect: 1 },
    ],
  },
  {
    name: 'members',
    type: 'auth',
    listRule: 'id = @request.auth.id || (team != "" && team = @request.auth.team)',
    viewRule: 'id = @request.auth.id || (team != "" && team = @request.auth.team)',
    createRule: null,
    updateRule: 'id = @request.auth.id || team.owner = @request.auth.id',
    deleteRule: null,
    manageRule: 'team.owner = @request.auth.id',
    fields: [
      { name: 'name', type: 'text' },
      { name: 'team', type: 'relation', collection: 'teams', maxSelect: 1 },
    ],
  },
  {
    name: 'docs',
    listRule: 'team.owner = @request.auth.id || team = @request.auth.team',
    viewRule: '@request.auth.team.owner = team.owner',
    createRule: '@request.auth.id != "" && team = @request.auth.team && @request.auth.team.owner = @request.auth.id',
    updateRule: null,
    deleteRule: null,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'team', type: 'relation', collection: 'teams', maxSelect: 1 },
    ],
  },
];

async function seedTeams(t: TestApp): Promise<void> {
  await t.seed('teams', { id: T1, name: 'Team one' });
  await t.seed('teams', { id: T2, name: 'Team two' });
  const m = (id: string, name: string, team: string, emailVisibility: boolean) => t.seed('members', { id, email: `${name}@example.com`, name, team, emailVisibility, ...pw() });
  await m(A, 'a', T1, false);
  await m(B, 'b', T1, true);
  await m(MC, 'c', T1, false);
  await m(MD, 'd', T2, false);
  await m(E, 'e', '', false);
  // teams ↔ members is circular: the owners are set once the members exist
  const root = await t.superuserToken();
  for (const [team, owner] of [
    [T1, A],
    [T2, MD],
  ] as const) {
    const res = await send(t, 'PATCH', R('teams', team), root, { owner });
    if (res.status !== 200) throw new Error(`fixture: ${res.text}`);
  }
  await t.seed('docs', { id: DOC1, title: 'alpha', team: T1 });
  await t.seed('docs', { id: DOC2, title: 'beta', team: T2 });
  await t.seed('docs', { id: ORPHAN, title: 'orphan' });
}

const TEAM_REQUESTERS: Record<string, ScenarioAuth> = {
  guest: 'guest',
  A: { collection: 'members', id: A },
  B: { collection: 'members', id: B },
  C: { collection: 'members', id: MC },
  D: { collection: 'members', id: MD },
  E: { collection: 'members', id: E },
  superuser: 'superuser',
};

const TEAM_ROWS: Row[] = [
  // docs list: `team.owner = @request.auth.id || team = @request.auth.team`
  L('docs', 'guest', [ORPHAN], { why: 'NULL = NULL footgun' }),
  L('docs', 'A', [DOC1]),
  L('docs', 'B', [DOC1]),
  L('docs', 'C', [DOC1]),
  L('docs', 'D', [DOC2]),
  L('docs', 'E', [ORPHAN], { why: "'' = '' footgun" }),
  L('docs', 'superuser', [DOC1, DOC2, ORPHAN]),
  // docs view: `@request.auth.team.owner = team.owner`
  V('docs', 'guest', DOC1, 404),
  V('docs', 'guest', ORPHAN, 200, { why: 'NULL = NULL' }),
  V('docs', 'A', DOC1, 200),
  V('docs', 'A', DOC2, 404),
  V('docs', 'A', ORPHAN, 404),
  V('docs', 'B', DOC1, 200, { why: "B's team's owner is A" }),
  V('docs', 'C', DOC1, 200),
  V('docs', 'D', DOC1, 404),
  V('docs', 'D', DOC2, 200),
  V('docs', 'E', DOC1, 404),
  V('docs', 'E', ORPHAN, 200, { why: 'no team: NULL = NULL' }),
  V('docs', 'superuser', DOC2, 200),
  // expand team (teams.viewRule: owner or own team) and team.owner (members.viewRule: self or teammate)
  X('docs', 'B', 'expand=team.owner', { [DOC1]: { team: T1 } }, { fields: { [DOC1]: { 'expand.team.expand.owner.id': A, 'expand.team.expand.owner.email': ABSENT } } }),
  X('docs', 'A', 'expand=team.owner', { [DOC1]: { team: T1 } }, { fields: { [DOC1]: { 'expand.team.expand.owner.email': 'a@example.com' } } }),
  X('docs', 'E', 'expand=team', { [ORPHAN]: {} }),
  X('docs', 'D', 'expand=team.owner', { [DOC2]: { team: T2 } }, { fields: { [DOC2]: { 'expand.team.expand.owner.id': MD } } }),
  // teams
  L('teams', 'guest', []),
  L('teams', 'A', [T1]),
  L('teams', 'B', [T1]),
  L('teams', 'D', [T2]),
  L('teams', 'E', []),
  L('teams', 'superuser', [T1, T2]),
  V('teams', 'C', T2, 404),
  // members list/view and email visibility (self, emailVisibility, manageRule `team.owner = @request.auth.id`)
  L('members', 'guest', []),
  L('members', 'A', [A, B, MC], { fields: { [A]: { email: 'a@example.com' }, [B]: { email: 'b@example.com' }, [MC]: { email: 'c@example.com' } }, why: 'team owner manages: all emails' }),
  L('members', 'B', [A, B, MC], { fields: { [A]: { email: ABSENT }, [B]: { email: 'b@example.com' }, [MC]: { email: ABSENT } } }),
  L('members', 'C', [A, B, MC], { fields: { [A]: { email: ABSENT }, [B]: { email: 'b@example.com' }, [MC]: { email: 'c@example.com' } }, why: "B's emailVisibility" }),
  L('members', 'D', [MD], { fields: { [MD]: { email: 'd@example.com' } } }),
  L('members', 'E', [E], { why: "team != '' guard" }),
  L('members', 'superuser', [A, B, MC, MD, E], { fields: { '*': { email: SHOWN } } }),
  V('members', 'B', MC, 200, { fields: { self: { email: ABSENT, name: 'c' } } }),
  V('members', 'A', MC, 200, { fields: { self: { email: 'c@example.com' } } }),
  V('members', 'D', MC, 404),
  V('members', 'E', A, 404),
  // writes
  C('docs', 'A', () => ({ title: unique('a-doc'), team: T1 }), 200),
  C('docs', 'A', () => ({ title: unique('a-doc'), team: T2 }), 400, { why: 'not own team' }),
  C('docs', 'B', () => ({ title: unique('b-doc'), team: T1 }), 400, { why: 'not the owner' }),
  C('docs', 'E', () => ({ title: unique('e-doc') }), 400),
  C('docs', 'guest', () => ({ title: unique('g-doc') }), 400),
  C('docs', 'D', () => ({ title: unique('d-doc'), team: T2 }), 200),
  U('members', 'A', MC, { verified: true }, 200, { fields: { self: { verified: true, email: 'c@example.com' } }, why: 'team owner manages' }),
  U('members', 'B', MC, { name: 'hacked' }, 404, { stored: { name: 'c' } }),
  U('members', 'B', B, { verified: true }, 400, { fieldError: ['verified', 'validation_values_mismatch'] }),
  U('members', 'D', MC, { name: 'hacked' }, 404, { stored: { name: 'c' } }),
  U('members', 'A', B, pw('changed-by-a'), 200, { why: 'manager: no oldPassword' }),
];

describe.each(DIALECTS)('rules matrix: relation paths through @request.auth (%s)', (dialect) => {
  const api = scenarioApp(dialect, { collections: TEAM_COLLECTIONS, fixtures: seedTeams });
  defineRows(api, TEAM_REQUESTERS, TEAM_ROWS);
});
