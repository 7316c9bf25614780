/**
 * A requester learns nothing about records it cannot list: for each channel (filter through
 * relations / back-relations / @collection, sort, expand, totalItems, error bodies, hidden fields,
 * the auth endpoints), a probe whose secret MATCHES a hidden value gets exactly the same answer
 * (status and body) as one that does NOT. Each channel also has a control: a requester entitled to
 * the hidden rows sees the probes differ, which shows the probe would have detected a leak.
 *
 * pocketbase-api.md §4.3 / quirks 10–12: client filters and sorts that traverse to another
 * collection apply that collection's listRule (v0.31+); hidden fields cannot be filtered or sorted
 * on by non-superusers; an auth record's email is filterable only where emailVisibility is true.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { scenarioApp, type ScenarioApp, type ScenarioAuth } from '../helpers/scenario.js';
import {
  at,
  C_DRAFT_OWN,
  ERR,
  idsOf,
  MISSING,
  MOD,
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
  pw,
  qs,
  R,
  seedExample,
  send,
  T_DRAFTONLY,
  T_UNUSED,
  SECRET_TITLE,
  unique,
  type Json,
  type Probe,
} from './fixtures-rules.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** The answers to a matching and a non-matching probe must be identical (status and body). */
function expectSame(hit: Probe, miss: Probe, label: string): void {
  const where = `${label}\n  hit:  ${hit.status} ${hit.text.slice(0, 1200)}\n  miss: ${miss.status} ${miss.text.slice(0, 1200)}`;
  expect(hit.status, where).toBe(miss.status);
  expect(hit.text === '' ? '' : hit.body, where).toEqual(miss.text === '' ? '' : miss.body);
}

/** Overwrites columns of a stored row directly (SQL, no rules): the "hidden value" of a differential probe. */
async function setColumns(t: TestApp, collection: string, id: string, values: Record<string, string>): Promise<void> {
  const rt = t.app.records.find(collection)!;
  const keys = Object.keys(values);
  await t.app.db.runner().run(`UPDATE ${rt.table} SET ${keys.map((k) => `"${k}" = ?`).join(', ')} WHERE "id" = ?`, [...keys.map((k) => values[k]), id]);
}

/** `?filter=...` (and optional extra params) on a collection's list. */
const list = (collection: string, params: Record<string, string>): string => R(collection, undefined, qs(params));
const str = (s: string): string => JSON.stringify(s);

/** A runner bound to one scenario app: requests as a named requester. */
function requester(api: ScenarioApp, who: Record<string, ScenarioAuth>) {
  return async (name: string, method: Method, url: string, body?: unknown): Promise<Probe> => {
    const auth = who[name];
    if (auth === undefined) throw new Error(`unknown requester ${name}`);
    return send(api.t, method, url, await api.authorization(auth), body);
  };
}

// ================================================================================================
// 1. The example app (see fixtures-rules.ts for the data)
// ================================================================================================

/*
 * What is hidden from whom (derived from collections/*.json):
 *  - guest / OTHER cannot list the owner's draft P_DRAFT ("Secret plan", views 42, tag T_DRAFTONLY)
 *    nor its comment C_DRAFT_OWN, nor any users row but their own (OTHER) — so no author fields of
 *    the owner's posts.
 *  - MOD lists every post and every user, but not C_DRAFT_OWN (comments has no moderator clause);
 *    user emails with emailVisibility false are still not filterable (quirk 12).
 *  - nobody but superusers lists _superusers (null rules).
 */
const EXAMPLE_WHO: Record<string, ScenarioAuth> = {
  guest: 'guest',
  owner: { collection: 'users', id: OWNER },
  other: { collection: 'users', id: OTHER },
  moderator: { collection: 'moderators', id: MOD },
  superuser: 'superuser',
};

interface FilterProbe {
  name: string;
  collection: string;
  /** Filter (or other list params) that would match hidden data / that matches nothing. */
  hit: Record<string, string>;
  miss: Record<string, string>;
  /** Requesters that must not tell them apart. */
  blind: string[];
  /** The answer the blind requesters get (ids of the list, or an error body). */
  blindGets: string[] | Json;
  /** A requester entitled to the hidden rows, and what the hit probe gives it. */
  control?: { who: string; ids: string[] };
}

const EXAMPLE_FILTER_PROBES: FilterProbe[] = [
  {
    name: 'relation: email of an author the requester cannot list',
    collection: 'posts',
    hit: { filter: `author.email ~ ${str('owner@')}` },
    miss: { filter: `author.email ~ ${str('nobody@')}` },
    blind: ['guest', 'other', 'moderator'],
    blindGets: [],
    control: { who: 'superuser', ids: [P_PUB, P_DRAFT] },
  },
  {
    name: 'relation: the exact email of an author (emailVisibility false) — also for a moderator who may list users',
    collection: 'posts',
    hit: { filter: `author.email = ${str(OWNER_EMAIL)}` },
    miss: { filter: `author.email = ${str('nobody@example.com')}` },
    blind: ['guest', 'other', 'moderator'],
    blindGets: [],
    control: { who: 'superuser', ids: [P_PUB, P_DRAFT] },
  },
  {
    name: 'relation: name of an author the requester cannot list',
    collection: 'posts',
    hit: { filter: 'author.name = "Owner"' },
    miss: { filter: 'author.name = "Nobody"' },
    blind: ['guest', 'other'],
    blindGets: [],
    control: { who: 'moderator', ids: [P_PUB, P_DRAFT] },
  },
  {
    name: 'relation: hidden fields of the related auth record (tokenKey, password)',
    collection: 'posts',
    hit: { filter: 'author.password ~ "$"' },
    miss: { filter: 'author.password ~ "no-such-hash"' },
    blind: ['guest', 'other', 'moderator'],
    blindGets: { status: 400 },
  },
  {
    name: 'relation: title of a hidden draft through comments',
    collection: 'comments',
    hit: { filter: `post.title ~ ${str('Secret')}` },
    miss: { filter: `post.title ~ ${str('Nothing')}` },
    blind: ['guest', 'other', 'moderator'],
    blindGets: [],
    control: { who: 'owner', ids: [C_DRAFT_OWN] },
  },
  {
    name: 'back-relation: tags used by a hidden draft (title)',
    collection: 'tags',
    hit: { filter: `posts_via_tags.title ?~ ${str('Secret')}` },
    miss: { filter: `posts_via_tags.title ?~ ${str('Nothing')}` },
    blind: ['guest', 'other'],
    blindGets: [],
    control: { who: 'owner', ids: [T_DRAFTONLY] },
  },
  {
    name: 'back-relation: tags used by a hidden draft (status)',
    collection: 'tags',
    hit: { filter: 'posts_via_tags.status ?= "draft"' },
    miss: { filter: 'posts_via_tags.status ?= "archived"' },
    blind: ['guest', 'other'],
    blindGets: [],
    control: { who: 'moderator', ids: [T_DRAFTONLY] },
  },
  {
    name: 'back-relation: a hidden number (views 42) by range',
    collection: 'tags',
    hit: { filter: 'posts_via_tags.views ?> 40' },
    miss: { filter: 'posts_via_tags.views ?> 100000' },
    blind: ['guest', 'other'],
    blindGets: [],
    control: { who: 'owner', ids: [T_DRAFTONLY] },
  },
  {
    name: 'back-relation: a visible draft, its hidden comment (moderator)',
    collection: 'posts',
    hit: { filter: `comments_via_post.body ?~ ${str('note on my draft')}` },
    miss: { filter: `comments_via_post.body ?~ ${str('zzz no such body')}` },
    blind: ['moderator'],
    blindGets: [],
    control: { who: 'owner', ids: [P_DRAFT] },
  },
  {
    name: 'users rows the requester cannot list (name)',
    collection: 'users',
    hit: { filter: 'name = "Owner"' },
    miss: { filter: 'name = "Nobody"' },
    blind: ['guest', 'other'],
    blindGets: [],
    control: { who: 'moderator', ids: [OWNER] },
  },
  {
    name: 'users rows the requester cannot list (email, id)',
    collection: 'users',
    hit: { filter: `email = ${str(OWNER_EMAIL)} || id = ${str(OWNER)}` },
    miss: { filter: `email = ${str('nobody@example.com')} || id = ${str(MISSING)}` },
    blind: ['guest', 'other'],
    blindGets: [],
    control: { who: 'superuser', ids: [OWNER] },
  },
  {
    name: 'users by a hidden back-relation (posts_via_author)',
    collection: 'users',
    hit: { filter: `posts_via_author.title ?~ ${str('Secret')}` },
    miss: { filter: `posts_via_author.title ?~ ${str('Nothing')}` },
    blind: ['guest', 'other'],
    blindGets: [],
    control: { who: 'owner', ids: [OWNER] },
  },
  {
    name: '_superusers (null listRule) → 403 whatever the filter',
    collection: '_superusers',
    hit: { filter: 'email ~ "root"' },
    miss: { filter: 'email ~ "nobody-at-all"' },
    blind: ['guest', 'other', 'moderator'],
    blindGets: ERR.forbidden,
  },
  {
    name: '@collection in a client filter → 403 whatever it would match',
    collection: 'posts',
    hit: { filter: `@collection.posts.title ?~ ${str('Secret')}` },
    miss: { filter: `@collection.posts.title ?~ ${str('Nothing')}` },
    blind: ['guest', 'other', 'moderator'],
    blindGets: { status: 403, code: 'filter_forbidden' },
    control: { who: 'superuser', ids: [P_PUB, P_DRAFT, P_OPUB, P_ODRAFT] },
  },
  {
    name: '@collection in a client sort → 403',
    collection: 'posts',
    hit: { sort: '@collection.users.email' },
    miss: { sort: '@collection.users.name' },
    blind: ['guest', 'other', 'moderator'],
    blindGets: { status: 403, code: 'filter_forbidden' },
  },
];

/** Secret values of the example data and mutations of them, plus arbitrary strings. */
const SECRET_PROBES = ['Secret', 'Secret plan', 'secret', 'S', 'plan', OWNER_EMAIL, 'owner', 'Owner', '%', '_', 'e%'];
const probeString = fc.oneof(fc.constantFrom(...SECRET_PROBES), fc.string({ maxLength: 12 }), fc.stringMatching(/^[A-Za-z@.]{1,10}$/));

describe.each(DIALECTS)('leaks: example app (%s)', (dialect) => {
  const api = scenarioApp(dialect, { fixtures: seedExample });
  const as = requester(api, EXAMPLE_WHO);

  describe('filter through relations, back-relations and @collection', () => {
    for (const p of EXAMPLE_FILTER_PROBES) {
      it(p.name, async () => {
        for (const who of p.blind) {
          const hit = await as(who, 'GET', list(p.collection, p.hit));
          const miss = await as(who, 'GET', list(p.collection, p.miss));
          expectSame(hit, miss, `${p.collection} as ${who}: ${JSON.stringify(p.hit)} vs ${JSON.stringify(p.miss)}`);
          if (Array.isArray(p.blindGets)) {
            expect(hit.status, hit.text).toBe(200);
            expect(idsOf(hit)).toEqual(p.blindGets);
            expect(at(hit.body, 'totalItems')).toBe(p.blindGets.length);
          } else {
            expect(hit.body, hit.text).toMatchObject(p.blindGets);
          }
        }
        if (p.control) {
          const res = await as(p.control.who, 'GET', list(p.collection, p.hit));
          expect(res.status, res.text).toBe(200);
          expect(idsOf(res).sort(), `control as ${p.control.who}: ${res.text.slice(0, 500)}`).toEqual([...p.control.ids].sort());
        }
      });
    }

    it('property: setting the hidden values to the probe itself does not change the answer (guest, other)', async () => {
      // Differential oracle: each probe is answered twice, once with the fixture values and once with
      // the owner's name and the draft's title rewritten (as a superuser) to match the probe. Any
      // dependency on those hidden values shows up as a difference.
      const channels = [
        (v: string) => list('posts', { filter: `author.name ~ ${str(v)}` }),
        (v: string) => list('posts', { filter: `author.name >= ${str(v)}`, sort: 'slug' }),
        (v: string) => list('posts', { filter: `author.name = ${str(v)} || author.name != ${str(v)}`, sort: 'slug' }),
        (v: string) => list('comments', { filter: `post.title ~ ${str(v)}` }),
        (v: string) => list('tags', { filter: `posts_via_tags.title ?~ ${str(v)}` }),
        (v: string) => list('tags', { filter: `posts_via_tags.title ?= ${str(`${v}!!!`)}`, sort: 'name' }),
        (v: string) => list('users', { filter: `name ~ ${str(v)} || name = ${str(v)}` }),
      ];
      // written straight into the table: no rule, no hook, no HTTP — the probes are what is measured
      const setHidden = async (name: string, title: string) => {
        await setColumns(api.t, 'users', OWNER, { name });
        await setColumns(api.t, 'posts', P_DRAFT, { title });
      };
      try {
        await fc.assert(
          fc.asyncProperty(probeString, fc.constantFrom('guest', 'other'), fc.nat(channels.length - 1), async (value, who, i) => {
            await setHidden(value, `${value}!!!`);
            const matching = await as(who, 'GET', channels[i]!(value));
            await setHidden('Owner', SECRET_TITLE);
            const original = await as(who, 'GET', channels[i]!(value));
            expectSame(matching, original, `channel ${i} as ${who} with ${JSON.stringify(value)}`);
          }),
          { numRuns: 30 },
        );
      } finally {
        await setHidden('Owner', SECRET_TITLE);
      }
    });
  });

  describe('sort on relation fields of hidden records', () => {
    it('order does not depend on the names of authors the requester cannot list', async () => {
      const su = await api.superuser();
      const order = async (who: string, sort: string) => idsOf(await as(who, 'GET', list('posts', { sort, perPage: '100' })));
      const before = { guest: await order('guest', 'author.name,slug'), other: await order('other', 'author.name,slug'), moderator: await order('moderator', 'author.name,slug') };
      const guestDesc = await order('guest', '-author.name,slug');
      // 'Owner' > 'Other'; rename the owner to sort first, then restore it
      expect((await send(api.t, 'PATCH', R('users', OWNER), su, { name: 'Aaron' })).status).toBe(200);
      try {
        const after = { guest: await order('guest', 'author.name,slug'), other: await order('other', 'author.name,slug'), moderator: await order('moderator', 'author.name,slug') };
        expect(after.guest).toEqual(before.guest);
        expect(after.other).toEqual(before.other);
        // control: the moderator lists users, so its order follows the rename
        expect(after.moderator).not.toEqual(before.moderator);
      } finally {
        await send(api.t, 'PATCH', R('users', OWNER), su, { name: 'Owner' });
      }
      // for a guest every author name is hidden (NULL): ascending and descending give the slug order
      expect(before.guest).toEqual([P_PUB, P_OPUB]);
      expect(guestDesc).toEqual(before.guest);
    });

    it('order does not depend on hidden emails (emailVisibility false), even for a moderator', async () => {
      const asc = await as('moderator', 'GET', list('users', { sort: 'email,name', filter: 'emailVisibility = false' }));
      const desc = await as('moderator', 'GET', list('users', { sort: '-email,name', filter: 'emailVisibility = false' }));
      expect(asc.status, asc.text).toBe(200);
      expect(idsOf(asc)).toEqual([OTHER, OWNER]); // by name: Other < Owner
      expect(idsOf(desc)).toEqual(idsOf(asc));
      // control: a superuser sorts by the emails
      const suAsc = await as('superuser', 'GET', list('users', { sort: 'email,name', filter: 'emailVisibility = false' }));
      const suDesc = await as('superuser', 'GET', list('users', { sort: '-email,name', filter: 'emailVisibility = false' }));
      expect(idsOf(suAsc)).toEqual([...idsOf(suDesc)].reverse());
    });
  });

  describe('expand of hidden relations', () => {
    it('a back-relation made only of hidden rows looks like one with no rows', async () => {
      for (const who of ['guest', 'other']) {
        const hidden = await as(who, 'GET', R('tags', T_DRAFTONLY, 'expand=posts_via_tags'));
        const none = await as(who, 'GET', R('tags', T_UNUSED, 'expand=posts_via_tags'));
        expect(hidden.status).toBe(200);
        // the two tags differ (id, name, created); their expand must not
        expect(at(hidden.body, 'expand'), hidden.text).toEqual({});
        expect(at(hidden.body, 'expand')).toEqual(at(none.body, 'expand'));
      }
      const owner = await as('owner', 'GET', R('tags', T_DRAFTONLY, 'expand=posts_via_tags'));
      expect(at(owner.body, 'expand.posts_via_tags.0.id')).toBe(P_DRAFT);
    });

    it('a forward relation to a hidden record looks like an empty relation', async () => {
      const hidden = await as('other', 'GET', R('posts', P_PUB, 'expand=author'));
      const empty = await as('other', 'GET', R('posts', P_ODRAFT, 'expand=tags'));
      expect(at(hidden.body, 'expand')).toEqual({});
      expect(at(empty.body, 'expand')).toEqual({});
      expect(hidden.text).not.toContain(OWNER_EMAIL);
      expect(hidden.text).not.toContain('"name":"Owner"');
    });
  });

  describe('totalItems counts only visible rows', () => {
    it('adding hidden rows (matching the filter or not) changes nothing', async () => {
      const probes = [
        ['posts', { filter: `title ~ ${str('Secret')}` }],
        ['posts', { sort: 'slug' }],
        ['comments', { sort: 'body' }],
        ['users', {}],
        ['tags', { filter: 'posts_via_tags.status ?= "draft"' }],
      ] as const;
      const run = async () => {
        const out: Probe[] = [];
        for (const who of ['guest', 'other']) for (const [c, params] of probes) out.push(await as(who, 'GET', list(c, params)));
        return out;
      };
      const before = await run();
      // hidden from guest and OTHER: another draft of the owner, a comment on it, a user
      const t = api.t;
      const draft = await t.seed('posts', { title: 'Secret plan B', slug: unique('secret-b-'), author: OWNER, status: 'draft', tags: [T_UNUSED] });
      await t.seed('comments', { post: draft['id'], author: OWNER, body: 'aaa hidden note' });
      await t.seed('users', { email: `${unique('hidden')}@example.com`, name: 'Aaa', ...pw() });
      const after = await run();
      for (const [i, res] of after.entries()) expectSame(res, before[i]!, `probe ${i}`);
      expect(at(before[0]!.body, 'totalItems')).toBe(0);
      expect(at(before[1]!.body, 'totalItems')).toBe(2); // guest: the two published posts
    });
  });

  describe('errors: a hidden record answers like a missing one', () => {
    // Expected body per method (`null`: the method is not probed — a moderator may DELETE any
    // comment, hidden or not: comments.deleteRule has a moderator clause its viewRule lacks).
    const NF = ERR.notFound;
    const cases: [collection: string, hidden: string, who: string, expected: { GET: Json | null; PATCH: Json | null; DELETE: Json | null }][] = [
      ['posts', P_DRAFT, 'guest', { GET: NF, PATCH: NF, DELETE: NF }],
      ['posts', P_DRAFT, 'other', { GET: NF, PATCH: NF, DELETE: NF }],
      ['comments', C_DRAFT_OWN, 'other', { GET: NF, PATCH: NF, DELETE: NF }],
      ['comments', C_DRAFT_OWN, 'moderator', { GET: NF, PATCH: NF, DELETE: null }],
      ['users', OWNER, 'other', { GET: NF, PATCH: NF, DELETE: NF }],
      ['users', OWNER, 'guest', { GET: NF, PATCH: NF, DELETE: NF }],
      ['moderators', MOD, 'owner', { GET: NF, PATCH: NF, DELETE: ERR.forbidden }],
    ];
    for (const [collection, hidden, who, expected] of cases) {
      it(`${collection}: view / update / delete of a hidden id vs a missing id (as ${who})`, async () => {
        for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
          if (expected[method] === null) continue;
          const body = method === 'PATCH' ? { name: 'x', title: 'x', body: 'x' } : undefined;
          const hit = await as(who, method, R(collection, hidden), body);
          const miss = await as(who, method, R(collection, MISSING), body);
          expectSame(hit, miss, `${method} ${collection} as ${who}`);
          expect(hit.body).toEqual(expected[method]);
        }
        const rows = await api.t.app.db.runner().all(`SELECT "id" FROM ${api.t.app.records.find(collection)!.table} WHERE "id" = ?`, [hidden]);
        expect(rows).toHaveLength(1);
      });
    }

    it('_superusers: an existing id and a missing one are both 403 (checked before the lookup)', async () => {
      const root = String((await api.t.seed('_superusers', { email: `${unique('root')}@example.com`, ...pw() }))['id']);
      for (const who of ['guest', 'other', 'moderator']) {
        for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
          const hit = await as(who, method, R('_superusers', root), method === 'PATCH' ? { email: 'x@example.com' } : undefined);
          const miss = await as(who, method, R('_superusers', MISSING), method === 'PATCH' ? { email: 'x@example.com' } : undefined);
          expectSame(hit, miss, `${method} _superusers as ${who}`);
          expect(hit.body).toEqual(ERR.forbidden);
        }
      }
    });

    it('create pointing at a hidden draft vs a missing post: the createRule refuses both with data {}', async () => {
      const hit = await as('other', 'POST', R('comments'), { post: P_DRAFT, author: OTHER, body: 'probe' });
      const miss = await as('other', 'POST', R('comments'), { post: MISSING, author: OTHER, body: 'probe' });
      expectSame(hit, miss, 'comments create');
      expect(hit.body).toEqual(ERR.createFailed);
    });
  });

  describe('auth endpoints do not enumerate accounts', () => {
    for (const collection of ['users', 'moderators', '_superusers']) {
      it(`${collection}: auth-with-password, unknown identity vs wrong password`, async () => {
        const known = collection === 'users' ? OWNER_EMAIL : collection === 'moderators' ? 'mod@example.com' : `${unique('root')}@example.com`;
        if (collection === '_superusers') await api.t.seed('_superusers', { email: known, ...pw() });
        const url = `/api/collections/${collection}/auth-with-password`;
        await fc.assert(
          fc.asyncProperty(fc.string({ minLength: 1, maxLength: 20 }), async (password) => {
            fc.pre(password !== PASSWORD && password !== 'modpassword1');
            const wrong = await send(api.t, 'POST', url, null, { identity: known, password });
            const unknown = await send(api.t, 'POST', url, null, { identity: `nobody-${known}`, password });
            expectSame(wrong, unknown, `${collection} with ${JSON.stringify(password)}`);
            expect(wrong.body).toEqual({ status: 400, code: 'auth_failed', message: 'Failed to authenticate.', data: {} });
          }),
          { numRuns: 5 },
        );
      });
    }

    for (const endpoint of ['request-password-reset', 'request-verification']) {
      it(`users: ${endpoint}, known vs unknown email → 204 with an empty body`, async () => {
        const known = await send(api.t, 'POST', `/api/collections/users/${endpoint}`, null, { email: OTHER_EMAIL });
        const unknown = await send(api.t, 'POST', `/api/collections/users/${endpoint}`, null, { email: 'nobody-here@example.com' });
        expect(known.status, known.text).toBe(204);
        expectSame(known, unknown, endpoint);
        expect(known.text).toBe('');
      });
    }
  });
});


// ================================================================================================
// 2. Inline collections: hidden relations with open rules, hidden fields, OTP
// ================================================================================================

/*
 * agents      (auth, list/view "" — anyone lists agents; OTP enabled). Emails: KEEPER's and PEER's
 *             hidden (emailVisibility false), SHOWN's visible.
 * secretdocs  list/view `owner = @request.auth.id` (only KEEPER's eyes); SD1 "classified alpha"
 *             code XK-4471, SD2 "classified beta" code QZ-0193.
 * notes       list/view "" — everybody sees every note, including which secretdoc ids it points to;
 *             create/update `@request.auth.id != ""`. N1 → SD1, N2 → SD2, NMULTI → [SD1, SD2],
 *             NEMPTY → nothing.
 * vault       list/view "" with a hidden text field `secret`.
 * For PEER and guests the secretdocs rows are invisible: every probe of their fields through notes,
 * or back from agents, must behave as if they did not exist.
 */
const KEEPER = pad('keeper');
const PEER = pad('peer');
const SHOWN_AGENT = pad('shown');
const SD1 = pad('sdone');
const SD2 = pad('sdtwo');
const N1 = pad('nota');
const N2 = pad('notb');
const NMULTI = pad('notmulti');
const NEMPTY = pad('notempty');
const V1 = pad('vaultone');
const KEEPER_EMAIL = 'keeper-agent@example.com';
const SECRET_CODE = 'XK-4471';
const VAULT_SECRET = 's3cr3t-value';

const LEAK_COLLECTIONS: Record<string, unknown>[] = [
  {
    name: 'agents',
    type: 'auth',
    listRule: '',
    viewRule: '',
    createRule: null,
    updateRule: null,
    deleteRule: null,
    otp: { enabled: true },
    fields: [{ name: 'name', type: 'text' }],
  },
  {
    name: 'secretdocs',
    listRule: 'owner = @request.auth.id',
    viewRule: 'owner = @request.auth.id',
    createRule: null,
    updateRule: null,
    deleteRule: null,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'code', type: 'text' },
      { name: 'owner', type: 'relation', collection: 'agents', maxSelect: 1 },
    ],
  },
  {
    name: 'notes',
    listRule: '',
    viewRule: '',
    createRule: '@request.auth.id != ""',
    updateRule: '@request.auth.id != ""',
    deleteRule: null,
    fields: [
      { name: 'label', type: 'text' },
      { name: 'doc', type: 'relation', collection: 'secretdocs', maxSelect: 1 },
      { name: 'docs', type: 'relation', collection: 'secretdocs', maxSelect: 5 },
    ],
  },
  {
    name: 'vault',
    listRule: '',
    viewRule: '',
    createRule: null,
    updateRule: null,
    deleteRule: null,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'secret', type: 'text', hidden: true },
    ],
  },
];

async function seedLeaks(t: TestApp): Promise<void> {
  await t.seed('agents', { id: KEEPER, email: KEEPER_EMAIL, name: 'Keeper', emailVisibility: false, ...pw() });
  await t.seed('agents', { id: PEER, email: 'peer-agent@example.com', name: 'Peer', emailVisibility: false, ...pw() });
  await t.seed('agents', { id: SHOWN_AGENT, email: 'shown-agent@example.com', name: 'Shown', emailVisibility: true, ...pw() });
  await t.seed('secretdocs', { id: SD1, title: 'classified alpha', code: SECRET_CODE, owner: KEEPER });
  await t.seed('secretdocs', { id: SD2, title: 'classified beta', code: 'QZ-0193', owner: KEEPER });
  await t.seed('notes', { id: N1, label: 'a', doc: SD1 });
  await t.seed('notes', { id: N2, label: 'b', doc: SD2 });
  await t.seed('notes', { id: NMULTI, label: 'c', docs: [SD1, SD2] });
  await t.seed('notes', { id: NEMPTY, label: 'd' });
  await t.seed('vault', { id: V1, title: 'v1', secret: VAULT_SECRET });
}

const LEAK_WHO: Record<string, ScenarioAuth> = {
  guest: 'guest',
  keeper: { collection: 'agents', id: KEEPER },
  peer: { collection: 'agents', id: PEER },
  superuser: 'superuser',
};

const ALL_NOTES = [N1, N2, NMULTI, NEMPTY];
const CODE_PROBES = [SECRET_CODE, 'XK', 'XK-', 'X', '4471', 'QZ-0193', 'classified', 'alpha', 'c', '%', '_', 'x%'];

describe.each(DIALECTS)('leaks: hidden relation targets, hidden fields, OTP (%s)', (dialect) => {
  const api = scenarioApp(dialect, { collections: LEAK_COLLECTIONS, fixtures: seedLeaks });
  const as = requester(api, LEAK_WHO);

  describe('filter through a relation to rows the requester cannot list', () => {
    const probes: [name: string, collection: string, hit: string, miss: string, control: string[]][] = [
      ['single relation, title', 'notes', 'doc.title ~ "classified"', 'doc.title ~ "nothing"', [N1, N2]],
      ['single relation, exact code', 'notes', `doc.code = ${str(SECRET_CODE)}`, 'doc.code = "XK-0000"', [N1]],
      ['multiple relation, any-of', 'notes', 'docs.code ?= "QZ-0193"', 'docs.code ?= "QZ-0000"', [NMULTI]],
      ['multiple relation, match-all', 'notes', 'docs.title ~ "classified" && docs:length > 0', 'docs.title ~ "nothing" && docs:length > 0', [NMULTI]],
      ['back-relation from the owner', 'agents', 'secretdocs_via_owner.title ?~ "classified"', 'secretdocs_via_owner.title ?~ "nothing"', [KEEPER]],
    ];
    // (`doc.id = "<id>"` is answered from the note's own `doc` column, which every requester sees
    // anyway: it is not a probe of the hidden row.)
    for (const [name, collection, hit, miss, control] of probes) {
      it(name, async () => {
        for (const who of ['guest', 'peer']) {
          const a = await as(who, 'GET', list(collection, { filter: hit }));
          const b = await as(who, 'GET', list(collection, { filter: miss }));
          expectSame(a, b, `${collection} as ${who}: ${hit} vs ${miss}`);
          expect(a.status, a.text).toBe(200);
        }
        const res = await as('keeper', 'GET', list(collection, { filter: hit }));
        expect(idsOf(res).sort(), `control: ${res.text.slice(0, 400)}`).toEqual([...control].sort());
      });
    }

    it('property: setting the hidden titles and codes to the probe itself does not change the answer', async () => {
      const ops = ['=', '!=', '~', '!~', '<', '>=', '?=', '?~', '?!=', '?<'];
      const fields = ['doc.code', 'doc.title', 'docs.code', 'docs.title'];
      const url = (field: string, op: string, v: string) => list('notes', { filter: `${field} ${op} ${str(v)}`, sort: 'label' });
      const setHidden = async (values: [title: string, code: string][]) => {
        for (const [i, id] of [SD1, SD2].entries()) await setColumns(api.t, 'secretdocs', id, { title: values[i]![0], code: values[i]![1] });
      };
      const ORIGINAL: [string, string][] = [
        ['classified alpha', SECRET_CODE],
        ['classified beta', 'QZ-0193'],
      ];
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.oneof(fc.constantFrom(...CODE_PROBES), fc.string({ maxLength: 10 }), fc.stringMatching(/^[A-Z]{2}-[0-9]{1,4}$/)),
            fc.constantFrom(...ops),
            fc.constantFrom(...fields),
            fc.constantFrom('guest', 'peer'),
            async (value, op, field, who) => {
              await setHidden([
                [value, value],
                [`${value}~`, `${value}~`],
              ]);
              const matching = await as(who, 'GET', url(field, op, value));
              await setHidden(ORIGINAL);
              const original = await as(who, 'GET', url(field, op, value));
              expectSame(matching, original, `${field} ${op} ${JSON.stringify(value)} as ${who}`);
              // and a hidden relation answers like an empty one: N1 (hidden doc) with NEMPTY (no doc)
              if (field.startsWith('doc.')) expect(idsOf(original).includes(N1), original.text).toBe(idsOf(original).includes(NEMPTY));
            },
          ),
          { numRuns: 30 },
        );
      } finally {
        await setHidden(ORIGINAL);
      }
    });
  });

  describe('email of an agent with emailVisibility false', () => {
    it('cannot be probed by filter, but a visible one can', async () => {
      for (const who of ['guest', 'peer']) {
        const hit = await as(who, 'GET', list('agents', { filter: `email ~ ${str('keeper-agent')}` }));
        const miss = await as(who, 'GET', list('agents', { filter: `email ~ ${str('nobody-agent')}` }));
        expectSame(hit, miss, `agents email as ${who}`);
        expect(idsOf(hit)).toEqual([]);
        const shown = await as(who, 'GET', list('agents', { filter: `email ~ ${str('shown-agent')}` }));
        expect(idsOf(shown)).toEqual([SHOWN_AGENT]);
      }
      const su = await as('superuser', 'GET', list('agents', { filter: `email ~ ${str('keeper-agent')}` }));
      expect(idsOf(su)).toEqual([KEEPER]);
    });

    it('property: prefixes of the hidden email never match', async () => {
      const base = await as('peer', 'GET', list('agents', { filter: 'email = "\u0001"' }));
      await fc.assert(
        fc.asyncProperty(fc.nat(KEEPER_EMAIL.length - 1), fc.constantFrom('=', '~', '>=', '<'), async (n, op) => {
          const res = await as('peer', 'GET', list('agents', { filter: `email ${op} ${str(op === '=' ? KEEPER_EMAIL : KEEPER_EMAIL.slice(0, n + 1))} && id = ${str(KEEPER)}` }));
          expectSame(res, base, `email ${op} prefix ${n}`);
        }),
        { numRuns: 20 },
      );
    });

    it('sort by email: hidden emails do not order the rows', async () => {
      const filter = 'emailVisibility = false';
      const asc = await as('peer', 'GET', list('agents', { filter, sort: 'email,name' }));
      const desc = await as('peer', 'GET', list('agents', { filter, sort: '-email,name' }));
      expect(idsOf(asc)).toEqual([KEEPER, PEER]); // by name
      expect(idsOf(desc)).toEqual(idsOf(asc));
      const suAsc = await as('superuser', 'GET', list('agents', { filter, sort: 'email,name' }));
      const suDesc = await as('superuser', 'GET', list('agents', { filter, sort: '-email,name' }));
      expect(idsOf(suDesc)).toEqual([...idsOf(suAsc)].reverse());
    });
  });

  describe('sort through a relation to hidden rows', () => {
    it('the order is the same before and after the hidden titles swap', async () => {
      const su = await api.superuser();
      const order = async (who: string) => idsOf(await as(who, 'GET', list('notes', { sort: 'doc.title,label' })));
      const before = { guest: await order('guest'), peer: await order('peer'), keeper: await order('keeper') };
      await send(api.t, 'PATCH', R('secretdocs', SD1), su, { title: 'zz classified alpha' });
      try {
        const after = { guest: await order('guest'), peer: await order('peer'), keeper: await order('keeper') };
        expect(after.guest).toEqual(before.guest);
        expect(after.peer).toEqual(before.peer);
        expect(after.keeper).not.toEqual(before.keeper); // control
      } finally {
        await send(api.t, 'PATCH', R('secretdocs', SD1), su, { title: 'classified alpha' });
      }
      expect(before.peer).toEqual(ALL_NOTES); // all doc titles NULL → by label
    });

    it('ascending and descending on a hidden field give the same order', async () => {
      for (const who of ['guest', 'peer']) {
        const asc = await as(who, 'GET', list('notes', { sort: 'doc.code,label' }));
        const desc = await as(who, 'GET', list('notes', { sort: '-doc.code,label' }));
        expectSame(asc, desc, `sort doc.code as ${who}`);
      }
    });
  });

  describe('expand of a relation to hidden rows', () => {
    it('omitted silently: same as an empty relation (single and multiple)', async () => {
      for (const who of ['guest', 'peer']) {
        const single = await as(who, 'GET', R('notes', N1, 'expand=doc'));
        const multi = await as(who, 'GET', R('notes', NMULTI, 'expand=docs'));
        const empty = await as(who, 'GET', R('notes', NEMPTY, 'expand=doc,docs'));
        expect(at(single.body, 'expand'), single.text).toEqual({});
        expect(at(multi.body, 'expand'), multi.text).toEqual({});
        expect(at(empty.body, 'expand'), empty.text).toEqual({});
        expect(single.text + multi.text).not.toMatch(/classified|XK-4471|QZ-0193/);
      }
      const keeper = await as('keeper', 'GET', R('notes', NMULTI, 'expand=docs'));
      expect((at(keeper.body, 'expand.docs') as Json[]).map((d) => d['id'])).toEqual([SD1, SD2]);
    });

    it('a relation whose target was deleted expands like a hidden one', async () => {
      const t = api.t;
      const sd = String((await t.seed('secretdocs', { title: 'classified gamma', code: 'GONE-1', owner: KEEPER }))['id']);
      const note = String((await t.seed('notes', { label: 'z-dangling', doc: sd }))['id']);
      const del = await send(t, 'DELETE', R('secretdocs', sd), await api.superuser());
      expect(del.status, del.text).toBe(204);
      const gone = await as('peer', 'GET', R('notes', note, 'expand=doc'));
      const hidden = await as('peer', 'GET', R('notes', N1, 'expand=doc'));
      expect(at(gone.body, 'expand')).toEqual(at(hidden.body, 'expand'));
    });
  });

  describe('writes referencing a hidden record vs a missing one (PocketBase behaviour, kept on purpose)', () => {
    // PocketBase only checks that relation ids exist, not that the requester may view them, and apps
    // rely on it (a message to a user whose profile only that user can read). Galley keeps that: the
    // difference tells an attacker who already holds a random 15-character id that it exists, and
    // nothing about the record. These tests pin the behaviour so that a change is deliberate.
    it('create: a hidden id is accepted, a nonexistent id is a field error', async () => {
      const hit = await as('peer', 'POST', R('notes'), { label: 'probe-hit', doc: SD1 });
      const miss = await as('peer', 'POST', R('notes'), { label: 'probe-miss', doc: MISSING });
      expect(hit.status, hit.text).toBe(200);
      expect(miss.status, miss.text).toBe(400);
      expect(at(miss.body, 'data.doc.code')).toBe('validation_missing_rel_records');
      // and the accepted relation reveals nothing: its expand stays empty for the peer
      const read = await as('peer', 'GET', R('notes', String(at(hit.body, 'id')), 'expand=doc'));
      expect(at(read.body, 'expand')).toEqual({});
    });

    it('update: the same for a multiple relation', async () => {
      const t = api.t;
      const a = String((await t.seed('notes', { label: 'upd-a' }))['id']);
      const b = String((await t.seed('notes', { label: 'upd-b' }))['id']);
      const hit = await as('peer', 'PATCH', R('notes', a), { docs: [SD2] });
      const miss = await as('peer', 'PATCH', R('notes', b), { docs: [MISSING] });
      expect(hit.status, hit.text).toBe(200);
      expect(miss.status, miss.text).toBe(400);
      expect(at(miss.body, 'data.docs.code')).toBe('validation_missing_rel_records');
    });
  });

  describe('hidden fields', () => {
    const bodyWithout = (p: Probe, name: string): unknown => JSON.parse(p.text.split(name).join('<field>')) as unknown;

    it('filter on a hidden field: 400 whatever the value, and the same 400 as an unknown field', async () => {
      for (const who of ['guest', 'peer']) {
        const hit = await as(who, 'GET', list('vault', { filter: `secret = ${str(VAULT_SECRET)}` }));
        const miss = await as(who, 'GET', list('vault', { filter: 'secret = "nope"' }));
        expectSame(hit, miss, `vault filter as ${who}`);
        expect(hit.status).toBe(400);
        expect(at(hit.body, 'data')).toEqual({});
        const unknown = await as(who, 'GET', list('vault', { filter: 'nosuch = "nope"' }));
        expect(unknown.status).toBe(400);
        // identical but for the field's name: otherwise the message tells a hidden field exists
        expect(bodyWithout(hit, 'secret'), `hidden: ${hit.text}\nunknown: ${unknown.text}`).toEqual(bodyWithout(unknown, 'nosuch'));
      }
    });

    it('sort on a hidden field: 400, the same as an unknown field', async () => {
      const hidden = await as('peer', 'GET', list('vault', { sort: 'secret' }));
      const unknown = await as('peer', 'GET', list('vault', { sort: 'nosuch' }));
      expect(hidden.status).toBe(400);
      expect(unknown.status).toBe(400);
      expect(bodyWithout(hidden, 'secret'), `hidden: ${hidden.text}\nunknown: ${unknown.text}`).toEqual(bodyWithout(unknown, 'nosuch'));
    });

    it('property: no filter on the hidden field answers anything but the same 400', async () => {
      // Compared with the same probe on a field that does not exist: a probe text that does not
      // parse gets its own (value-independent) error either way, and nothing may depend on the secret.
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.constantFrom(VAULT_SECRET, 's3', 's', '%', VAULT_SECRET.slice(0, 6)), fc.string({ maxLength: 8 })), fc.constantFrom('=', '~', '<', '!='), async (v, op) => {
          const hidden = await as('peer', 'GET', list('vault', { filter: `secret ${op} ${str(v)}` }));
          const unknown = await as('peer', 'GET', list('vault', { filter: `nosuch ${op} ${str(v)}` }));
          expect(hidden.status, `secret ${op} ${JSON.stringify(v)}`).toBe(400);
          expect(bodyWithout(hidden, 'secret'), `secret ${op} ${JSON.stringify(v)}`).toEqual(bodyWithout(unknown, 'nosuch'));
        }),
        { numRuns: 20 },
      );
    });

    it('a superuser may filter and sort on it', async () => {
      const res = await as('superuser', 'GET', list('vault', { filter: `secret = ${str(VAULT_SECRET)}`, sort: 'secret' }));
      expect(res.status, res.text).toBe(200);
      expect(idsOf(res)).toEqual([V1]);
      expect(at(res.body, 'items.0.secret')).toBe(VAULT_SECRET);
    });

    it('never returned to others', async () => {
      const res = await as('peer', 'GET', R('vault', V1));
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(VAULT_SECRET);
      expect(at(res.body, 'secret')).toBeUndefined();
    });
  });

  describe('auth endpoints', () => {
    const auth = (endpoint: string, body: Json) => send(api.t, 'POST', `/api/collections/agents/${endpoint}`, null, body);

    it('auth-with-password: unknown identity vs wrong password → identical 400', async () => {
      const wrong = await auth('auth-with-password', { identity: KEEPER_EMAIL, password: 'not-the-password' });
      const unknown = await auth('auth-with-password', { identity: 'nobody-agent@example.com', password: 'not-the-password' });
      expectSame(wrong, unknown, 'auth-with-password');
      expect(wrong.body).toEqual({ status: 400, code: 'auth_failed', message: 'Failed to authenticate.', data: {} });
      expect((await auth('auth-with-password', { identity: KEEPER_EMAIL, password: PASSWORD })).status).toBe(200); // control
    });

    for (const endpoint of ['request-password-reset', 'request-verification']) {
      it(`${endpoint}: known vs unknown email → 204, empty body`, async () => {
        const known = await auth(endpoint, { email: KEEPER_EMAIL });
        const unknown = await auth(endpoint, { email: 'nobody-agent@example.com' });
        expect(known.status, known.text).toBe(204);
        expect(known.text).toBe('');
        expectSame(known, unknown, endpoint);
      });
    }

    it('request-otp: known vs unknown email → 200 with an otpId of the same shape', async () => {
      const known = await auth('request-otp', { email: KEEPER_EMAIL });
      const unknown = await auth('request-otp', { email: 'nobody-agent@example.com' });
      expect(known.status, known.text).toBe(200);
      expect(unknown.status, unknown.text).toBe(200);
      expect(Object.keys(known.body as Json)).toEqual(['otpId']);
      expect(Object.keys(unknown.body as Json)).toEqual(['otpId']);
      const shape = /^[a-z0-9]{15}$/;
      expect(String(at(known.body, 'otpId'))).toMatch(shape);
      expect(String(at(unknown.body, 'otpId'))).toMatch(shape);
      expect(known.text.length).toBe(unknown.text.length);
    });
  });
});
