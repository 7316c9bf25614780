/**
 * Forged, stale and malformed tokens (pocketbase-api.md §7.2, §7.4, quirks 3 and 23; galley.md §8).
 *
 * Every bad token is tried against a protected list — `users` only shows yourself, so a guest sees
 * an empty page — and against `auth-refresh`, which requires auth: normal endpoints answer as for a
 * guest (200, no private rows), endpoints that require auth answer 401; never a 500.
 *
 * Forgeries are hand-built with `jsonwebtoken` from the real key material read out of the database
 * (record `tokenKey` + the per-collection per-kind secret in `_galley_secrets`).
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateSchema } from '../../src/app.js';
import { Tokens } from '../../src/auth/tokens.js';
import { buildRuntime } from '../../src/records/runtime.js';
import { SECRETS_TABLE } from '../../src/db/index.js';
import { createTestApp, EXAMPLE_COLLECTIONS, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { recordToken } from '../helpers/scenario.js';
import { schemaOf } from '../helpers/schema.js';

const pad = (s: string) => s.padEnd(15, '0');
const ANN = pad('ann');
const BOB = pad('bob');
const MOD = pad('mod');
const PASSWORD = 'password123';
const PW = { password: PASSWORD, passwordConfirm: PASSWORD };

const example = (name: string) => JSON.parse(readFileSync(join(EXAMPLE_COLLECTIONS, `${name}.json`), 'utf8')) as Record<string, unknown>;
const NAMES = ['users', 'moderators', 'tags', 'posts', 'comments'];
const collections = (patch: Record<string, Record<string, unknown>> = {}) => NAMES.map((n) => ({ ...example(n), ...patch[n] }));

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const part = (token: string, i: number) => token.split('.')[i]!;
const decode = (token: string, i: number) => JSON.parse(Buffer.from(part(token, i), 'base64url').toString('utf8')) as Record<string, unknown>;

let n = 0;
const freshEmail = (p: string) => `${p}${++n}_${Date.now().toString(36)}@example.com`;

describe.each(DIALECTS)('forged and stale tokens (%s)', (dialect) => {
  let t: TestApp;
  let base: string;
  let root: string;
  let annToken: string;

  beforeAll(async () => {
    t = await createTestApp(dialect, collections());
    base = await t.listen();
    root = await t.superuserToken();
    await t.seed('users', { id: ANN, email: 'ann@example.com', ...PW });
    await t.seed('users', { id: BOB, email: 'bob@example.com', ...PW });
    await t.seed('moderators', { id: MOD, email: 'mod@example.com', verified: true, password: 'moderator123', passwordConfirm: 'moderator123' });
    annToken = await login('ann@example.com');
    // make sure every secret the forgeries use exists
    await recordToken(t, 'moderators', MOD);
    await signKind('users', ANN, 'verification', { email: 'ann@example.com' });
  });
  afterAll(async () => t?.close());

  // ---- helpers ---------------------------------------------------------------------------------

  const runner = () => t.app.db.runner();
  const cid = (name: string) => t.app.records.find(name)!.collection.id;

  async function login(email: string, collection = 'users', password = PASSWORD): Promise<string> {
    const res = await request(t.http).post(`/api/collections/${collection}/auth-with-password`).send({ identity: email, password });
    expect(res.status, res.text).toBe(200);
    return String((res.body as { token: string }).token);
  }

  async function tokenKeyOf(collection: string, id: string): Promise<string> {
    const rows = await runner().all(`SELECT "tokenKey" FROM "${collection}" WHERE "id" = ?`, [id]);
    return String(rows[0]!['tokenKey']);
  }

  /** The current secret of a collection and kind, straight from `_galley_secrets`. */
  async function secretOf(collection: string, kind: string): Promise<string> {
    const rows = await runner().all(`SELECT "secret" FROM "${SECRETS_TABLE}" WHERE "collection_id" = ? AND "kind" = ?`, [cid(collection), kind]);
    expect(rows.length, `secret ${collection}/${kind}`).toBe(1);
    return String(rows[0]!['secret']);
  }

  async function signKind(collection: string, id: string, kind: 'verification' | 'passwordReset' | 'emailChange' | 'file', extra: Record<string, string> = {}): Promise<string> {
    const rt = t.app.records.find(collection)!;
    return t.tokens.sign(rt, { id, tokenKey: await tokenKeyOf(collection, id) }, kind, { extra });
  }

  const authClaims = (over: Record<string, unknown> = {}) => ({ collectionId: cid('users'), exp: Math.floor(Date.now() / 1000) + 3600, id: ANN, refreshable: true, type: 'auth', ...over });
  const hs256 = (claims: object, key: string) => jwt.sign(claims, key, { algorithm: 'HS256', noTimestamp: true });
  /** HS256 by hand, for payloads jsonwebtoken refuses to sign (e.g. a string exp). */
  const rawHs256 = (payload: unknown, key: string) => {
    const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(JSON.stringify(payload))}`;
    return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
  };

  /** What a users list shows to this Authorization header (ids), after checking the status. */
  async function visibleUsers(authorization: string | null): Promise<string[]> {
    const req = request(t.http).get('/api/collections/users/records?sort=id');
    if (authorization !== null) req.set('Authorization', authorization);
    const res = await req;
    expect(res.status, `list as ${authorization?.slice(0, 80)}: ${res.text}`).toBe(200);
    return (res.body as { items: { id: string }[] }).items.map((i) => i.id);
  }

  async function refreshStatus(authorization: string, collection = 'users'): Promise<number> {
    const res = await request(t.http).post(`/api/collections/${collection}/auth-refresh`).set('Authorization', authorization);
    expect(res.status).toBeLessThan(500);
    if (res.status >= 400) expect(Object.keys(res.body as object).sort()).toEqual(['code', 'data', 'message', 'status']);
    if (res.status === 401) expect((res.body as { code: string }).code).toBe('unauthorized');
    return res.status;
  }

  /** A bad token: treated as a guest by CRUD, 401 where auth is required. */
  async function expectGuest(authorization: string): Promise<void> {
    expect(await visibleUsers(authorization)).toEqual([]);
    expect(await refreshStatus(authorization)).toBe(401);
    const email = await request(t.http).post('/api/collections/users/request-email-change').set('Authorization', authorization).send({ newEmail: freshEmail('x') });
    expect(email.status).toBe(401);
  }

  async function expectAnn(authorization: string): Promise<void> {
    expect(await visibleUsers(authorization)).toEqual([ANN]);
    expect(await refreshStatus(authorization)).toBe(200);
  }

  // ---- controls --------------------------------------------------------------------------------

  it('controls: a guest sees no users, Ann sees herself, a superuser everyone', async () => {
    expect(await visibleUsers(null)).toEqual([]);
    await expectAnn(annToken);
    expect(await visibleUsers(root)).toEqual([ANN, BOB]);
    expect((await request(t.http).post('/api/collections/users/auth-refresh')).status).toBe(401);
  });

  // ---- forgeries -------------------------------------------------------------------------------

  it('alg "none" (hand-built, every spelling, with or without a signature)', async () => {
    const claims = authClaims();
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const unsigned = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
      await expectGuest(`${unsigned}.`);
      await expectGuest(unsigned);
      await expectGuest(`${unsigned}.${part(annToken, 2)}`);
    }
  });

  it('the right key with another algorithm (HS384/HS512) is refused: HS256 is pinned', async () => {
    const key = (await tokenKeyOf('users', ANN)) + (await secretOf('users', 'auth'));
    // sanity: the same claims with HS256 and this key are accepted
    await expectAnn(hs256(authClaims(), key));
    for (const algorithm of ['HS384', 'HS512'] as const) await expectGuest(jwt.sign(authClaims(), key, { algorithm, noTimestamp: true }));
  });

  it('a wrong key, the secret alone, the tokenKey alone, an empty key', async () => {
    const tokenKey = await tokenKeyOf('users', ANN);
    const secret = await secretOf('users', 'auth');
    await expectGuest(hs256(authClaims(), 'wrong-secret'));
    await expectGuest(hs256(authClaims(), secret));
    await expectGuest(hs256(authClaims(), tokenKey));
    await expectGuest(hs256(authClaims(), secret + tokenKey)); // wrong order
    await expectGuest(hs256(authClaims(), `${tokenKey}${secret}x`));
    await expectGuest(`${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(authClaims())}.`);
  });

  it("HS256 signed with ANOTHER collection's secret (tokenKey + moderators' auth secret)", async () => {
    const tokenKey = await tokenKeyOf('users', ANN);
    await expectGuest(hs256(authClaims(), tokenKey + (await secretOf('moderators', 'auth'))));
    await expectGuest(hs256(authClaims(), tokenKey + (await secretOf('_superusers', 'auth'))));
  });

  it("HS256 signed with the same collection's secret of another kind (verification)", async () => {
    const tokenKey = await tokenKeyOf('users', ANN);
    await expectGuest(hs256(authClaims(), tokenKey + (await secretOf('users', 'verification'))));
  });

  it("HS256 signed with another record's tokenKey", async () => {
    await expectGuest(hs256(authClaims(), (await tokenKeyOf('users', BOB)) + (await secretOf('users', 'auth'))));
  });

  it('claims pointing at another collection (collectionId swapped)', async () => {
    const userKey = (await tokenKeyOf('users', ANN)) + (await secretOf('users', 'auth'));
    const moderatorsKey = (await tokenKeyOf('users', ANN)) + (await secretOf('moderators', 'auth'));
    // Ann's id under the moderators collection: no such moderator, whichever key
    await expectGuest(hs256(authClaims({ collectionId: cid('moderators') }), userKey));
    await expectGuest(hs256(authClaims({ collectionId: cid('moderators') }), moderatorsKey));
    // a moderator's id under users
    const modKey = (await tokenKeyOf('moderators', MOD)) + (await secretOf('moderators', 'auth'));
    await expectGuest(hs256(authClaims({ id: MOD }), modKey));
    // the superusers collection, a base collection, an unknown collection
    await expectGuest(hs256(authClaims({ collectionId: 'pbc_3142635823' }), userKey));
    await expectGuest(hs256(authClaims({ collectionId: cid('posts') }), userKey));
    await expectGuest(hs256(authClaims({ collectionId: 'pbc_0000000000' }), userKey));
    // by collection name instead of id
    await expectGuest(hs256(authClaims({ collectionId: 'users' }), userKey));
  });

  it('a valid token with its payload edited (id → Bob) keeps no authority', async () => {
    const [h, , s] = annToken.split('.');
    await expectGuest(`${h}.${b64({ ...decode(annToken, 1), id: BOB })}.${s}`);
    await expectGuest(`${h}.${b64({ ...decode(annToken, 1), refreshable: true, exp: 9_999_999_999 })}.${s}`);
    // a flipped signature character
    const flipped = s!.startsWith('A') ? `B${s!.slice(1)}` : `A${s!.slice(1)}`;
    await expectGuest(`${h}.${part(annToken, 1)}.${flipped}`);
  });

  it('malformed claims, correctly signed: no exp, future nbf, wrong types, empty id, an SQL-ish id', async () => {
    const key = (await tokenKeyOf('users', ANN)) + (await secretOf('users', 'auth'));
    const { exp: _exp, ...noExp } = authClaims();
    await expectGuest(hs256(noExp, key));
    await expectGuest(hs256({ ...authClaims(), nbf: Math.floor(Date.now() / 1000) + 3600 }, key));
    // sanity: the hand-made HS256 is accepted when the claims are right
    await expectAnn(rawHs256(authClaims(), key));
    await expectGuest(rawHs256(authClaims({ exp: String(Math.floor(Date.now() / 1000) + 3600) }), key));
    await expectGuest(rawHs256(authClaims({ exp: null }), key));
    await expectGuest(hs256(authClaims({ id: '' }), key));
    await expectGuest(hs256(authClaims({ id: 12345 }), key));
    await expectGuest(hs256(authClaims({ id: [ANN] }), key));
    await expectGuest(hs256(authClaims({ collectionId: { id: cid('users') } }), key));
    await expectGuest(hs256(authClaims({ type: 'AUTH' }), key));
    await expectGuest(hs256(authClaims({ type: '' }), key));
    await expectGuest(hs256(authClaims({ id: `${ANN}' OR '1'='1` }), key));
    await expectGuest(hs256(authClaims({ id: `x" OR 1=1 --` }), key));
  });

  it('payloads that are JSON but not an object (array, string, number, null), signed or not', async () => {
    const key = (await tokenKeyOf('users', ANN)) + (await secretOf('users', 'auth'));
    for (const payload of [[authClaims()], 'auth', 42, null, true]) {
      await expectGuest(`${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(JSON.stringify(payload))}.${part(annToken, 2)}`);
      await expectGuest(rawHs256(payload, key));
    }
  });

  // No key is needed for this one: any guest can send it.
  it('a JSON header with a payload that is not JSON at all (unsigned junk signature)', async () => {
    const header = b64({ alg: 'HS256', typ: 'JWT' });
    for (const payload of ['auth', '{"id":', '{"id":"x"', '\u0000', 'not json']) await expectGuest(`${header}.${b64(payload)}.x`);
  });

  it('a JSON header with a payload that is not JSON at all, validly signed', async () => {
    const key = (await tokenKeyOf('users', ANN)) + (await secretOf('users', 'auth'));
    const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64('{"id":')}`;
    await expectGuest(`${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`);
  });

  it('non-auth token types in the Authorization header (properly signed with their own secrets)', async () => {
    await expectGuest(await signKind('users', ANN, 'verification', { email: 'ann@example.com' }));
    await expectGuest(await signKind('users', ANN, 'passwordReset', { email: 'ann@example.com' }));
    await expectGuest(await signKind('users', ANN, 'emailChange', { email: 'ann@example.com', newEmail: 'x@example.com' }));
    await expectGuest(await signKind('users', ANN, 'file'));
    // an auth token re-labelled with another type, signed with the auth key
    const key = (await tokenKeyOf('users', ANN)) + (await secretOf('users', 'auth'));
    await expectGuest(hs256(authClaims({ type: 'verification', email: 'ann@example.com' }), key));
    await expectGuest(hs256(authClaims({ type: 'install' }), key));
  });

  // ---- stale tokens ----------------------------------------------------------------------------

  it('an expired token', async () => {
    const rt = t.app.records.find('users')!;
    const record = { id: ANN, tokenKey: await tokenKeyOf('users', ANN) };
    await expectGuest(await t.tokens.sign(rt, record, 'auth', { duration: -1 }));
    await expectGuest(hs256(authClaims({ exp: Math.floor(Date.now() / 1000) - 3600 }), record.tokenKey + (await secretOf('users', 'auth'))));
    // ...while a fresh one signed the same way works
    await expectAnn(await t.tokens.sign(rt, record, 'auth', { duration: 60 }));
  });

  it('the token of a deleted record', async () => {
    const email = freshEmail('gone');
    const id = String((await t.seed('users', { email, ...PW }))['id']);
    const token = await login(email);
    expect(await visibleUsers(token)).toEqual([id]);
    expect((await request(t.http).delete(`/api/collections/users/records/${id}`).set('Authorization', root)).status).toBe(204);
    await expectGuest(token);
  });

  it('a token from before a password change (by the record itself, with oldPassword)', async () => {
    const email = freshEmail('pw');
    const id = String((await t.seed('users', { email, ...PW }))['id']);
    const token = await login(email);
    const patch = await request(t.http)
      .patch(`/api/collections/users/records/${id}`)
      .set('Authorization', token)
      .send({ oldPassword: PASSWORD, password: 'changed-pass-1', passwordConfirm: 'changed-pass-1' });
    expect(patch.status, patch.text).toBe(200);
    await expectGuest(token);
    expect(await visibleUsers(await login(email, 'users', 'changed-pass-1'))).toEqual([id]);
  });

  it('a token from before a password change by a superuser', async () => {
    const email = freshEmail('pw2');
    const id = String((await t.seed('users', { email, ...PW }))['id']);
    const token = await login(email);
    const patch = await request(t.http).patch(`/api/collections/users/records/${id}`).set('Authorization', root).send({ password: 'changed-pass-2', passwordConfirm: 'changed-pass-2' });
    expect(patch.status, patch.text).toBe(200);
    await expectGuest(token);
  });

  it('a token from before an email change by a superuser', async () => {
    const email = freshEmail('em');
    const id = String((await t.seed('users', { email, ...PW }))['id']);
    const token = await login(email);
    const patch = await request(t.http).patch(`/api/collections/users/records/${id}`).set('Authorization', root).send({ email: freshEmail('em-new') });
    expect(patch.status, patch.text).toBe(200);
    await expectGuest(token);
  });

  it('a token from before a tokenKey rotation (superuser PATCH of tokenKey)', async () => {
    const email = freshEmail('tk');
    const id = String((await t.seed('users', { email, ...PW }))['id']);
    const token = await login(email);
    const newKey = 'R'.repeat(25) + Date.now().toString().padStart(25, '0');
    const patch = await request(t.http).patch(`/api/collections/users/records/${id}`).set('Authorization', root).send({ tokenKey: newKey });
    expect(patch.status, patch.text).toBe(200);
    expect(patch.text).not.toContain('tokenKey');
    expect(await tokenKeyOf('users', id)).toBe(newKey);
    await expectGuest(token);
    // a token for the new key works
    const fresh = await login(email);
    expect(await visibleUsers(fresh)).toEqual([id]);
  });

  it('an unrelated update (name) keeps the tokens valid', async () => {
    const email = freshEmail('keep');
    const id = String((await t.seed('users', { email, ...PW }))['id']);
    const token = await login(email);
    const patch = await request(t.http).patch(`/api/collections/users/records/${id}`).set('Authorization', token).send({ name: 'Renamed' });
    expect(patch.status, patch.text).toBe(200);
    expect(await visibleUsers(token)).toEqual([id]);
  });

  // ---- the header itself -----------------------------------------------------------------------

  it('a "Bearer " prefix is accepted in any case', async () => {
    for (const prefix of ['Bearer ', 'bearer ', 'BEARER ', 'BeArEr ', 'Bearer   ']) await expectAnn(`${prefix}${annToken}`);
  });

  it('garbage header values answer as a guest (200 / 401), never 500', async () => {
    const values = [
      'Bearer',
      'Bearer ',
      'Basic YW5uQGV4YW1wbGUuY29tOnBhc3N3b3JkMTIz',
      'null',
      'undefined',
      '.',
      '..',
      '...',
      'a.b.c',
      'eyJ.eyJ.x',
      `${annToken} ${annToken}`,
      `${annToken},${annToken}`,
      `${annToken}x`,
      `x${annToken}`,
      `Token ${annToken}`,
      `BearerX${annToken}`,
      annToken.split('.').slice(0, 2).join('.'),
      annToken.replace(/\./g, ''),
      'ÿþý.üû.ú',
      `Bearer ${'\u00e9'.repeat(100)}`,
      '%00%ff',
      '{"id":"x"}',
      'x'.repeat(12_000),
      `${'a'.repeat(5000)}.${'b'.repeat(5000)}.${'c'.repeat(2000)}`,
    ];
    for (const value of values) await expectGuest(value);
  });

  it('a very long header (30 KB) over a real socket', async () => {
    for (const value of ['x'.repeat(30_000), `Bearer ${'eyJ'.repeat(10_000)}.${'a'.repeat(100)}.b`]) {
      const list = await fetch(`${base}/api/collections/users/records`, { headers: { Authorization: value } });
      expect(list.status).toBe(200);
      expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
      const refresh = await fetch(`${base}/api/collections/users/auth-refresh`, { method: 'POST', headers: { Authorization: value } });
      expect(refresh.status).toBe(401);
    }
  });

  it('non-ASCII (raw UTF-8 bytes) in the header, sent over a raw socket', async () => {
    const { port } = new URL(base);
    const send = (head: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        const chunks: Buffer[] = [];
        socket.on('data', (c) => chunks.push(c));
        socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        socket.on('error', reject);
        // write, not end: a half-closed socket may be dropped before the answer
        socket.write(Buffer.from(head, 'utf8'));
      });
    for (const value of ['😀😀😀', `Bearer 日本語.トークン.署名`, `${annToken}😀`, 'Ωmega €uro']) {
      const list = await send(`GET /api/collections/users/records HTTP/1.1\r\nHost: x\r\nAuthorization: ${value}\r\nConnection: close\r\n\r\n`);
      expect(list, value).toMatch(/^HTTP\/1\.1 200 /);
      expect(list).toContain('"items":[]');
      const refresh = await send(`POST /api/collections/users/auth-refresh HTTP/1.1\r\nHost: x\r\nAuthorization: ${value}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      expect(refresh, value).toMatch(/^HTTP\/1\.1 401 /);
      expect(refresh).toContain('"status":401');
    }
  });

  // ---- the token format ------------------------------------------------------------------------

  it('JWT header is exactly {"alg":"HS256","typ":"JWT"}; claims exactly collectionId, exp, id, refreshable, type (sorted, no iat)', async () => {
    const token = await login('ann@example.com');
    expect(Buffer.from(part(token, 0), 'base64url').toString()).toBe('{"alg":"HS256","typ":"JWT"}');
    expect(part(token, 0)).toBe('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9');
    const payload = Buffer.from(part(token, 1), 'base64url').toString();
    const claims = JSON.parse(payload) as Record<string, unknown>;
    expect(Object.keys(claims)).toEqual(['collectionId', 'exp', 'id', 'refreshable', 'type']);
    expect(claims).toEqual({ collectionId: cid('users'), exp: expect.any(Number), id: ANN, refreshable: true, type: 'auth' });
    const now = Math.floor(Date.now() / 1000);
    expect(Math.abs(Number(claims['exp']) - (now + t.tokens.durationOf(t.app.records.find('users')!, 'auth')))).toBeLessThanOrEqual(5);
    expect(token).not.toContain('=');
  });

  it('other kinds carry their extra claims, still sorted and without iat', async () => {
    const verification = await signKind('users', ANN, 'verification', { email: 'ann@example.com' });
    expect(Object.keys(decode(verification, 1))).toEqual(['collectionId', 'email', 'exp', 'id', 'type']);
    const change = await signKind('users', ANN, 'emailChange', { email: 'ann@example.com', newEmail: 'new@example.com' });
    expect(Object.keys(decode(change, 1))).toEqual(['collectionId', 'email', 'exp', 'id', 'newEmail', 'type']);
    expect(decode(change, 0)).toEqual({ alg: 'HS256', typ: 'JWT' });
  });

  it('the signature is HS256 over tokenKey + the collection auth secret', async () => {
    const token = await login('ann@example.com');
    const key = (await tokenKeyOf('users', ANN)) + (await secretOf('users', 'auth'));
    expect(jwt.verify(token, key, { algorithms: ['HS256'] })).toMatchObject({ id: ANN, type: 'auth' });
  });

  it('quirk 23: payloads of typical ids have no "-"/"_" and decode with atob, as the SDK does', async () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    for (const collection of ['users', 'moderators', '_superusers']) {
      const rt = t.app.records.find(collection)!;
      for (let i = 0; i < 150; i++) {
        let id = '';
        for (let j = 0; j < 15; j++) id += alphabet[Math.floor(Math.random() * alphabet.length)];
        const token = await t.tokens.sign(rt, { id, tokenKey: 'k' }, 'auth', { refreshable: i % 2 === 0, duration: 1 + i * 7919 });
        const payload = part(token, 1);
        expect(payload, `${collection} ${id}`).not.toMatch(/[-_]/);
        expect(JSON.parse(atob(payload))).toMatchObject({ id, collectionId: rt.collection.id });
      }
    }
    // the real sign-in tokens too
    for (const token of [annToken, await login('bob@example.com'), await login('mod@example.com', 'moderators', 'moderator123'), root]) {
      expect(part(token, 1)).not.toMatch(/[-_]/);
      expect(JSON.parse(atob(part(token, 1)))['type']).toBe('auth');
    }
  });

  // ---- authRule change -------------------------------------------------------------------------

  /** What a --dev reload does after a collection file changed: a new schema, activated. */
  async function setUsersAuthRule(rule: string | null | undefined): Promise<void> {
    t.app.schema = schemaOf(...collections(rule === undefined ? {} : { users: { authRule: rule } }));
    await activateSchema(t.app);
    expect(t.app.records.find('users')!.collection.authRule ?? '').toBe(rule ?? example('users')['authRule'] ?? '');
  }

  it("changing a collection's authRule invalidates its tokens (and only its own)", async () => {
    const before = await login('ann@example.com');
    const modToken = await login('mod@example.com', 'moderators', 'moderator123');
    await expectAnn(before);
    try {
      await setUsersAuthRule('verified = false || verified = true');
      await expectGuest(before);
      // the moderators' tokens are untouched
      expect(await refreshStatus(modToken, 'moderators')).toBe(200);
      await expectAnn(await login('ann@example.com'));
    } finally {
      await setUsersAuthRule(undefined);
    }
    annToken = await login('ann@example.com');
  });

  it('changing the authRule back does not resurrect the tokens issued before the first change', async () => {
    const first = await login('ann@example.com');
    await expectAnn(first);
    try {
      await setUsersAuthRule('id != ""');
      await expectGuest(first);
      const second = await login('ann@example.com');
      await expectAnn(second);
      await setUsersAuthRule(undefined); // back to the original rule
      await expectGuest(second);
      await expectGuest(first); // PocketBase: a new random secret each change, so `first` stays dead
      await expectAnn(await login('ann@example.com'));
    } finally {
      await setUsersAuthRule(undefined);
    }
    annToken = await login('ann@example.com');
  });

  // At the Tokens level: three "nodes" (Tokens instances with their own secret caches) on one database.
  it('a canary that changed the authRule and was rolled back: the nodes still accept each other\'s tokens', async () => {
    const runtimeA = t.app.records;
    const runtimeB = buildRuntime(schemaOf(...collections({ users: { authRule: 'id != "canary"' } })), t.app.db.dialect);
    const record = { id: ANN, tokenKey: await tokenKeyOf('users', ANN) };
    const nodeX = new Tokens(runner(), () => runtimeA); // stays on rule A all along
    const canary = new Tokens(runner(), () => runtimeB); // deployed with rule B...
    const rolledBack = new Tokens(runner(), () => runtimeA); // ...then rolled back to A (a fresh process)
    const rtA = runtimeA.find('users')!;
    const rtB = runtimeB.find('users')!;

    const fromX = await nodeX.sign(rtA, record);
    expect(await nodeX.verify(rtA, fromX, 'auth')).not.toBeNull();
    const fromCanary = await canary.sign(rtB, record);
    expect(await canary.verify(rtB, fromCanary, 'auth')).not.toBeNull();
    const fromRolledBack = await rolledBack.sign(rtA, record);
    expect(await rolledBack.verify(rtA, fromRolledBack, 'auth')).not.toBeNull();
    // X and the rolled-back node serve the same rule again: a token of one must work on the other
    expect(await nodeX.verify(rtA, fromRolledBack, 'auth'), 'node X rejects the rolled-back node\'s token').not.toBeNull();
  });
});
