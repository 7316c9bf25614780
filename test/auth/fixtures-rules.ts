/**
 * Shared data and helpers for test/auth/rules-matrix.test.ts and test/auth/leaks.test.ts.
 *
 * The EXAMPLE app (collections/*.json) is seeded with fixed ids so that both suites can derive their
 * expectations by hand from the rules:
 *
 *   users       OWNER  (Owner,  emailVisibility false)  authored P_PUB, P_DRAFT, C_PUB_OWN, C_DRAFT_OWN
 *               OTHER  (Other,  emailVisibility false)  authored P_OPUB, P_ODRAFT, C_PUB_OTH, C_ODRAFT_OTH
 *               PUBLIC (Public, emailVisibility true)   authored nothing
 *   moderators  MOD (verified), MOD_UNVERIFIED (not verified: the authRule `verified = true` refuses it)
 *   tags        T_NEWS (on P_PUB, P_OPUB), T_DRAFTONLY (only on the owner's draft), T_UNUSED
 *   posts       P_PUB (owner, published)  P_DRAFT (owner, draft, title "Secret plan")
 *               P_OPUB (other, published) P_ODRAFT (other, draft)
 *   comments    C_PUB_OWN / C_PUB_OTH on P_PUB, C_DRAFT_OWN on P_DRAFT, C_ODRAFT_OTH on P_ODRAFT
 */
import request from 'supertest';
import type { TestApp } from '../helpers/app.js';

export const pad = (s: string): string => s.padEnd(15, '0');

export const OWNER = pad('uowner');
export const OTHER = pad('uother');
export const PUBLIC = pad('upublic');
export const MOD = pad('mod');
export const MOD_UNVERIFIED = pad('modunver');
export const T_NEWS = pad('tnews');
export const T_DRAFTONLY = pad('tdraftonly');
export const T_UNUSED = pad('tunused');
export const P_PUB = pad('ppub');
export const P_DRAFT = pad('pdraft');
export const P_OPUB = pad('popub');
export const P_ODRAFT = pad('podraft');
export const C_PUB_OWN = pad('cpubown');
export const C_PUB_OTH = pad('cpuboth');
export const C_DRAFT_OWN = pad('cdraftown');
export const C_ODRAFT_OTH = pad('codraftoth');
/** An id no record has. */
export const MISSING = pad('nosuchrecord');

export const OWNER_EMAIL = 'owner@example.com';
export const OTHER_EMAIL = 'other@example.com';
export const PUBLIC_EMAIL = 'public@example.com';
export const MOD_EMAIL = 'mod@example.com';
export const PASSWORD = 'password123';
/** moderators.password has min 10. */
export const MOD_PASSWORD = 'modpassword1';
export const SECRET_TITLE = 'Secret plan';

export const pw = (password = PASSWORD): Record<string, string> => ({ password, passwordConfirm: password });

/** Seeds the example app (as a superuser, through the records service). */
export async function seedExample(t: TestApp): Promise<void> {
  await t.seed('users', { id: OWNER, email: OWNER_EMAIL, name: 'Owner', emailVisibility: false, ...pw() });
  await t.seed('users', { id: OTHER, email: OTHER_EMAIL, name: 'Other', emailVisibility: false, ...pw() });
  await t.seed('users', { id: PUBLIC, email: PUBLIC_EMAIL, name: 'Public', emailVisibility: true, ...pw() });
  await t.seed('moderators', { id: MOD, email: MOD_EMAIL, name: 'Mod', verified: true, ...pw(MOD_PASSWORD) });
  await t.seed('moderators', { id: MOD_UNVERIFIED, email: 'unverified-mod@example.com', name: 'Unverified', verified: false, ...pw(MOD_PASSWORD) });
  await t.seed('tags', { id: T_NEWS, name: 'news' });
  await t.seed('tags', { id: T_DRAFTONLY, name: 'draft-only' });
  await t.seed('tags', { id: T_UNUSED, name: 'unused' });
  await t.seed('posts', { id: P_PUB, title: 'Hello world', slug: 'hello-world', author: OWNER, status: 'published', tags: [T_NEWS], views: 3 });
  await t.seed('posts', { id: P_DRAFT, title: SECRET_TITLE, slug: 'secret-plan', author: OWNER, status: 'draft', tags: [T_DRAFTONLY], views: 42 });
  await t.seed('posts', { id: P_OPUB, title: 'Other news', slug: 'other-news', author: OTHER, status: 'published', tags: [T_NEWS], views: 7 });
  await t.seed('posts', { id: P_ODRAFT, title: 'Other draft', slug: 'other-draft', author: OTHER, status: 'draft' });
  await t.seed('comments', { id: C_PUB_OWN, post: P_PUB, author: OWNER, body: 'by the owner' });
  await t.seed('comments', { id: C_PUB_OTH, post: P_PUB, author: OTHER, body: 'by the other' });
  await t.seed('comments', { id: C_DRAFT_OWN, post: P_DRAFT, author: OWNER, body: 'note on my draft' });
  await t.seed('comments', { id: C_ODRAFT_OTH, post: P_ODRAFT, author: OTHER, body: 'note on the other draft' });
}

/** `/api/collections/{c}/records[/{id}][?query]`. */
export const R = (collection: string, id?: string, query?: string): string =>
  `/api/collections/${collection}/records${id === undefined ? '' : `/${id}`}${query ? `?${query}` : ''}`;

/** `name=value&...` with each value URI-encoded. */
export const qs = (params: Record<string, string>): string =>
  Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');

export interface Probe {
  status: number;
  text: string;
  /** The parsed JSON body, or null when the body is empty / not JSON. */
  body: unknown;
}

/** One HTTP request against the app (supertest, no network), the raw text kept. */
export async function send(t: TestApp, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string | null, body?: unknown): Promise<Probe> {
  let req = request(t.http)[method.toLowerCase() as 'get'](url);
  if (token) req = req.set('Authorization', token);
  if (body !== undefined) req = req.send(body as object);
  const res = await req.buffer(true).parse((stream, done) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
    stream.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
  });
  const text = typeof res.body === 'string' ? res.body : '';
  return { status: res.status, text, body: parseJson(text) };
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export type Json = Record<string, unknown>;

/** The error bodies of pocketbase-api.md §1.6 as Galley serializes them. */
export const ERR = {
  forbidden: { status: 403, code: 'forbidden', message: 'Only superusers can perform this action.', data: {} },
  notFound: { status: 404, code: 'not_found', message: "The requested resource wasn't found.", data: {} },
  createFailed: { status: 400, code: 'create_failed', message: 'Failed to create record.', data: {} },
} as const;

/** A dotted path into a JSON value (`expand.author.email`); undefined when any step is missing. */
export function at(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Json)[key];
  }
  return cur;
}

export const itemsOf = (p: Probe): Json[] => ((p.body as { items?: Json[] } | null)?.items ?? []) as Json[];
export const idsOf = (p: Probe): string[] => itemsOf(p).map((i) => String(i['id']));

let counter = 0;
/** A unique suffix within the run (slugs, emails, names). */
export const unique = (prefix: string): string => `${prefix}${++counter}${Math.random().toString(36).slice(2, 6)}`;
