/**
 * Every auth endpoint of pocketbase-api.md §7.1, scenario by scenario (PocketBase's
 * `tests.ApiScenario` style): the happy paths and the bad inputs — validation errors, disabled
 * methods, authRule refusals, wrong collections, forged/expired/other-kind tokens, MFA, OTP attempt
 * limits, token invalidation after a password or email change — then a fuzz-ish loop that posts
 * random JSON to every POST auth endpoint and never sees a 500 (galley.md §8).
 *
 * One app per engine; fixtures are read-only, scenarios that change a record seed their own in `before`.
 * Mail-based flows (the token/code taken from the email) are in sdk-auth.test.ts and in the last
 * group here; the scenarios get their tokens by signing them the way the server does, or their OTP
 * codes by creating the OTP row with a known code (`createOtp`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOtp } from '../../src/auth/challenges.js';
import { SECRETS_TABLE } from '../../src/db/index.js';
import { formatDate } from '../../src/schema/index.js';
import { createTestApp, EXAMPLE_COLLECTIONS, TEST_APP_URL, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { recordToken, scenarioApp, scenarioGroup, type ApiScenario, type ScenarioResponse, type Vars } from '../helpers/scenario.js';
import { otpFromMail, startSmtpSink, tokenFromMail, type SmtpSink } from '../helpers/smtp-sink.js';

// ---- ids and collections -----------------------------------------------------------------------

const pad = (s: string) => s.padEnd(15, '0');
const ANN = pad('ann'); // users, emailVisibility false
const BOB = pad('bob'); // users, emailVisibility true
const MOD_OK = pad('modok'); // moderators, verified
const MOD_NEW = pad('modnew'); // moderators, not verified (authRule "verified = true" refuses)
const TEAM = pad('team');
const MEM = pad('mem'); // members: username "mem_one", team TEAM
const G1 = pad('guard'); // guarded (MFA)
const P_VIP = pad('vip'); // partial, matches the MFA rule
const P_PLAIN = pad('plain'); // partial, does not
const NP = pad('nopass');
const SEALED = pad('sealed');
const MISSING = pad('missing');

const PASSWORD = 'password123';
const MOD_PASSWORD = 'moderator123';
const PW = { password: PASSWORD, passwordConfirm: PASSWORD };

const example = (name: string) => JSON.parse(readFileSync(join(EXAMPLE_COLLECTIONS, `${name}.json`), 'utf8')) as Record<string, unknown>;
const SELF = { listRule: 'id = @request.auth.id', viewRule: 'id = @request.auth.id', createRule: null, updateRule: 'id = @request.auth.id', deleteRule: null };

const MEMBERS = {
  name: 'members',
  type: 'auth',
  ...SELF,
  passwordAuth: { enabled: true, identityFields: ['email', 'username'] },
  otp: { enabled: true, duration: 180, length: 6 },
  fields: [
    { name: 'password', type: 'password', min: 8 },
    { name: 'username', type: 'text', max: 40 },
    { name: 'team', type: 'relation', collection: 'teams', maxSelect: 1 },
  ],
  indexes: ['CREATE UNIQUE INDEX idx_members_username ON members (username)'],
};

const COLLECTIONS: Record<string, unknown>[] = [
  example('users'),
  example('moderators'),
  { name: 'teams', listRule: '', viewRule: '', createRule: null, updateRule: null, deleteRule: null, fields: [{ name: 'title', type: 'text' }] },
  { name: 'notes', listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '', fields: [{ name: 'title', type: 'text' }] },
  MEMBERS,
  {
    name: 'guarded',
    type: 'auth',
    ...SELF,
    otp: { enabled: true, duration: 180, length: 6 },
    mfa: { enabled: true, duration: 600, rule: '' },
    fields: [{ name: 'password', type: 'password', min: 8 }],
  },
  {
    name: 'partial',
    type: 'auth',
    ...SELF,
    otp: { enabled: true, duration: 180, length: 6 },
    mfa: { enabled: true, duration: 600, rule: 'vip = true' },
    fields: [{ name: 'vip', type: 'bool' }],
  },
  { name: 'nopass', type: 'auth', ...SELF, passwordAuth: { enabled: false }, otp: { enabled: true, duration: 180, length: 6 }, fields: [] },
  { name: 'sealed', type: 'auth', ...SELF, authRule: null, fields: [] },
];

async function fixtures(t: TestApp): Promise<void> {
  await t.seed('users', { id: ANN, email: 'ann@example.com', name: 'Ann', emailVisibility: false, ...PW });
  await t.seed('users', { id: BOB, email: 'bob@example.com', name: 'Bob', emailVisibility: true, ...PW });
  const mpw = { password: MOD_PASSWORD, passwordConfirm: MOD_PASSWORD };
  await t.seed('moderators', { id: MOD_OK, email: 'mod@example.com', verified: true, ...mpw });
  await t.seed('moderators', { id: MOD_NEW, email: 'newmod@example.com', verified: false, ...mpw });
  await t.seed('teams', { id: TEAM, title: 'Core' });
  await t.seed('members', { id: MEM, email: 'mem1@example.com', username: 'mem_one', team: TEAM, ...PW });
  await t.seed('guarded', { id: G1, email: 'g1@example.com', ...PW });
  await t.seed('partial', { id: P_VIP, email: 'vip@example.com', vip: true, ...PW });
  await t.seed('partial', { id: P_PLAIN, email: 'plain@example.com', vip: false, ...PW });
  await t.seed('nopass', { id: NP, email: 'np@example.com', ...PW });
  await t.seed('sealed', { id: SEALED, email: 'sealed@example.com', ...PW });
}

// ---- helpers -----------------------------------------------------------------------------------

const A = (collection: string, endpoint: string) => `/api/collections/${collection}/${endpoint}`;
const USER_ANN = { collection: 'users', id: ANN } as const;
const MODERATOR = { collection: 'moderators', id: MOD_OK } as const;
const MEMBER = { collection: 'members', id: MEM } as const;

type After = NonNullable<ApiScenario['after']>;
interface ErrorBody {
  status: number;
  code: string;
  message: string;
  data: Record<string, { code: string; message: string }>;
}

/** Decodes a JWT part (base64url JSON). */
const jwtPart = (token: string, i: 0 | 1): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString('utf8')) as Record<string, unknown>;

/** The error shape `{status, code, message, data}` and, optionally, the message and the exact field codes in `data`. */
function checkError(res: ScenarioResponse, status: number, message?: string, fields?: Record<string, string>): ErrorBody {
  const body = res.json<ErrorBody>();
  expect(Object.keys(body).sort(), `error keys of ${res.text}`).toEqual(['code', 'data', 'message', 'status']);
  expect(body.status).toBe(status);
  expect(typeof body.code).toBe('string');
  expect(body.code).not.toBe('');
  expect(typeof body.message).toBe('string');
  expect(body.data !== null && typeof body.data === 'object' && !Array.isArray(body.data)).toBe(true);
  if (message !== undefined) expect(body.message).toBe(message);
  if (fields !== undefined) {
    expect(Object.keys(body.data).sort(), `data of ${res.text}`).toEqual(Object.keys(fields).sort());
    for (const [key, code] of Object.entries(fields)) {
      expect(body.data[key]?.code, `data.${key}.code of ${res.text}`).toBe(code);
      expect(typeof body.data[key]?.message).toBe('string');
    }
  }
  return body;
}

/** Expectations of an error response: status, shape, message, `data` field codes (exactly these; `{}` = none). */
function fails(status: number, message?: string, fields?: Record<string, string>, more?: After): Pick<ApiScenario, 'expectedStatus' | 'expectedContent' | 'after'> {
  return {
    expectedStatus: status,
    expectedContent: [`"status":${status}`],
    async after(t, res, vars) {
      checkError(res, status, message, fields);
      await more?.(t, res, vars);
    },
  };
}

const VALIDATION = 'An error occurred while validating the submitted data.';
const AUTH_FAILED = 'Failed to authenticate.';
const NO_AUTH_COLLECTION = 'Missing or invalid auth collection context.';
const BAD_OTP = 'Invalid or expired OTP.';
const BAD_MFA = 'Invalid or expired MFA session.';
const SAME_METHOD = 'A different authentication method is required.';

let counter = 0;
const uniq = (prefix: string) => `${prefix}${++counter}_${Date.now().toString(36)}`;
const freshEmail = (prefix = 'u') => `${uniq(prefix)}@example.com`;

/** `before` helper: seeds a user with a fresh email; `v.id`, `v.email`. */
async function seedUser(t: TestApp, v: Vars, data: Record<string, unknown> = {}, collection = 'users'): Promise<void> {
  v['email'] = freshEmail(collection);
  const rec = await t.seed(collection, { email: v['email'], ...PW, ...data });
  v['id'] = String(rec['id']);
}

/** The stored auth fields of a record (hidden ones included). */
async function stored(t: TestApp, collection: string, id: string): Promise<Record<string, unknown>> {
  const rt = t.app.records.find(collection)!;
  const rows = await t.app.db.runner().all(`SELECT ${rt.selectList} FROM ${rt.table} r WHERE r."id" = ?`, [id]);
  expect(rows.length, `record ${collection}/${id}`).toBe(1);
  return rt.decode(rows[0]!);
}

/** A token of `kind` for a stored record, signed exactly as the server signs it. */
async function signFor(t: TestApp, collection: string, id: string, kind: 'auth' | 'verification' | 'passwordReset' | 'emailChange' | 'file', options: Parameters<TestApp['tokens']['sign']>[3] = {}): Promise<string> {
  const rt = t.app.records.find(collection)!;
  return t.tokens.sign(rt, await stored(t, collection, id), kind, options);
}

const collectionId = (t: TestApp, name: string) => t.app.records.find(name)!.collection.id;

/** An OTP with a known code for a record (what request-otp stores before mailing the code). */
async function otpFor(t: TestApp, collection: string, id: string, code = '123456'): Promise<string> {
  const rec = await stored(t, collection, id);
  return createOtp({ runner: t.app.db.runner(), runtime: () => t.app.records }, collectionId(t, collection), id, code, String(rec['email']));
}

/** Signs in through the API (supertest) and returns the raw response. */
const post = (t: TestApp, url: string, body: Record<string, unknown>, authorization?: string) => {
  const req = request(t.http).post(url);
  if (authorization) req.set('Authorization', authorization);
  return req.send(body);
};

const okAuth =
  (collection: string, id: string, more?: After): After =>
  async (t, res, vars) => {
    const body = res.json<{ record: Record<string, unknown>; token: string }>();
    expect(Object.keys(body).sort()).toEqual(['record', 'token']);
    expect(body.record['id']).toBe(id);
    expect(body.record['collectionName']).toBe(collection);
    expect(body.record).toHaveProperty('email');
    expect(body.record).not.toHaveProperty('password');
    expect(body.record).not.toHaveProperty('tokenKey');
    expect(body.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = jwtPart(body.token, 1);
    expect(claims).toMatchObject({ id, collectionId: collectionId(t, collection), type: 'auth', refreshable: true });
    // the token works: auth-refresh answers for the same record
    const refreshed = await post(t, A(collection, 'auth-refresh'), {}, body.token);
    expect(refreshed.status).toBe(200);
    expect((refreshed.body as { record: { id: string } }).record.id).toBe(id);
    await more?.(t, res, vars);
  };

const AUTH_OK_CONTENT = ['"record":', '"token":'];

/** A JSON JWT header with a payload that is not JSON ("auth"): needs no key to build. */
const NON_JSON_PAYLOAD_TOKEN = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('auth').toString('base64url')}.x`;

// ---- scenarios ---------------------------------------------------------------------------------

describe.each(DIALECTS)('auth endpoints (%s)', (dialect) => {
  const app = scenarioApp(dialect, { collections: COLLECTIONS, fixtures });

  scenarioGroup(app, 'GET auth-methods', [
    {
      name: 'members: password by email/username, OTP on, MFA off, no OAuth2',
      method: 'GET',
      url: A('members', 'auth-methods'),
      expectedStatus: 200,
      expectedContent: ['"password":'],
      after(_t, res) {
        const body = res.json();
        expect(body['password']).toEqual({ enabled: true, identityFields: ['email', 'username'] });
        expect(body['otp']).toEqual({ enabled: true, duration: 180 });
        expect(body['mfa']).toEqual({ enabled: false, duration: 0 });
        expect(body['oauth2']).toEqual({ enabled: false, providers: [] });
        expect(body['emailPassword']).toBe(true);
        expect(body['usernamePassword']).toBe(true);
        expect(body['authProviders']).toEqual([]);
      },
    },
    {
      name: 'fields picker as the SDK sends it drops the legacy keys',
      method: 'GET',
      url: A('members', 'auth-methods?fields=mfa,otp,password,oauth2'),
      expectedStatus: 200,
      expectedContent: ['"otp":'],
      after(_t, res) {
        expect(Object.keys(res.json()).sort()).toEqual(['mfa', 'oauth2', 'otp', 'password']);
      },
    },
    {
      name: 'guarded: MFA on with its duration',
      method: 'GET',
      url: A('guarded', 'auth-methods?fields=mfa'),
      expectedStatus: 200,
      expectedContent: ['"mfa":'],
      after(_t, res) {
        expect(res.json()).toEqual({ mfa: { enabled: true, duration: 600 } });
      },
    },
    {
      name: 'users (defaults): email only, OTP off with duration 0',
      method: 'GET',
      url: A('users', 'auth-methods'),
      expectedStatus: 200,
      expectedContent: ['"password":'],
      after(_t, res) {
        const body = res.json();
        expect(body['password']).toEqual({ enabled: true, identityFields: ['email'] });
        expect(body['otp']).toEqual({ enabled: false, duration: 0 });
        expect(body['usernamePassword']).toBe(false);
      },
    },
    {
      name: 'password auth disabled: identityFields is empty',
      method: 'GET',
      url: A('nopass', 'auth-methods'),
      expectedStatus: 200,
      expectedContent: ['"password":'],
      after(_t, res) {
        expect(res.json()['password']).toEqual({ enabled: false, identityFields: [] });
        expect(res.json()['emailPassword']).toBe(false);
      },
    },
    { name: 'a base collection is not an auth context', method: 'GET', url: A('notes', 'auth-methods'), ...fails(404, NO_AUTH_COLLECTION, {}) },
    { name: 'unknown collection', method: 'GET', url: A('nope', 'auth-methods'), ...fails(404, NO_AUTH_COLLECTION, {}) },
    { name: 'malformed fields picker', method: 'GET', url: A('users', 'auth-methods?fields=a,,('), ...fails(400) },
  ]);

  scenarioGroup(app, 'POST auth-with-password', [
    {
      name: 'by email: {record, token}; email shown although emailVisibility is false; no password/tokenKey',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: { identity: 'ann@example.com', password: PASSWORD },
      expectedStatus: 200,
      expectedContent: [...AUTH_OK_CONTENT, '"email":"ann@example.com"', '"emailVisibility":false'],
      notExpectedContent: ['"password"', '"tokenKey"', '"passwordConfirm"'],
      expectedHeaders: { 'content-type': /^application\/json/ },
      after: okAuth('users', ANN),
    },
    {
      name: 'email identity is matched ignoring case',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: { identity: 'ANN@Example.COM', password: PASSWORD },
      expectedStatus: 200,
      expectedContent: AUTH_OK_CONTENT,
      after: okAuth('users', ANN),
    },
    {
      name: 'collection by name in another case',
      method: 'POST',
      url: A('USERS', 'auth-with-password'),
      body: { identity: 'bob@example.com', password: PASSWORD },
      expectedStatus: 200,
      expectedContent: AUTH_OK_CONTENT,
      after: okAuth('users', BOB),
    },
    {
      name: 'collection by id',
      method: 'POST',
      before: (t, v) => void (v['cid'] = collectionId(t, 'users')),
      url: (v) => A(v['cid']!, 'auth-with-password'),
      body: { identity: 'bob@example.com', password: PASSWORD },
      expectedStatus: 200,
      expectedContent: AUTH_OK_CONTENT,
      after: okAuth('users', BOB),
    },
    {
      name: 'by username (second identity field)',
      method: 'POST',
      url: A('members', 'auth-with-password'),
      body: { identity: 'mem_one', password: PASSWORD },
      expectedStatus: 200,
      expectedContent: [...AUTH_OK_CONTENT, '"username":"mem_one"', '"email":"mem1@example.com"'],
      after: okAuth('members', MEM),
    },
    {
      name: 'explicit identityField=username',
      method: 'POST',
      url: A('members', 'auth-with-password'),
      body: { identity: 'mem_one', password: PASSWORD, identityField: 'username' },
      expectedStatus: 200,
      expectedContent: AUTH_OK_CONTENT,
      after: okAuth('members', MEM),
    },
    {
      name: 'identityField=username with an email as identity does not fall back to email',
      method: 'POST',
      url: A('members', 'auth-with-password'),
      body: { identity: 'mem1@example.com', password: PASSWORD, identityField: 'username' },
      ...fails(400, AUTH_FAILED, {}),
    },
    {
      name: 'identityField not among identityFields',
      method: 'POST',
      url: A('members', 'auth-with-password'),
      body: { identity: 'mem_one', password: PASSWORD, identityField: 'team' },
      ...fails(400, VALIDATION, { identityField: 'validation_in_invalid' }),
    },
    {
      name: 'identityField=username on users (email only)',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: { identity: 'ann@example.com', password: PASSWORD, identityField: 'username' },
      ...fails(400, VALIDATION, { identityField: 'validation_in_invalid' }),
    },
    {
      name: 'missing identity and password',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: {},
      ...fails(400, VALIDATION, { identity: 'validation_required', password: 'validation_required' }),
    },
    {
      name: 'no body at all',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      ...fails(400, VALIDATION, { identity: 'validation_required', password: 'validation_required' }),
    },
    {
      name: 'missing password',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: { identity: 'ann@example.com' },
      ...fails(400, VALIDATION, { password: 'validation_required' }),
    },
    {
      name: 'identity longer than 255',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: { identity: `${'a'.repeat(250)}@example.com`, password: PASSWORD },
      ...fails(400, VALIDATION, { identity: 'validation_length_out_of_range' }),
    },
    {
      name: 'password longer than 255',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: { identity: 'ann@example.com', password: 'p'.repeat(256) },
      ...fails(400, VALIDATION, { password: 'validation_length_out_of_range' }),
    },
    {
      name: 'non-string identity and password (objects/arrays) are blank, not a crash',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: { identity: { $ne: '' }, password: ['x'] },
      ...fails(400, VALIDATION, { identity: 'validation_required', password: 'validation_required' }),
    },
    {
      name: 'wrong password',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: { identity: 'ann@example.com', password: 'wrong-password' },
      ...fails(400, AUTH_FAILED, {}, async (t, res) => {
        // an unknown identity gets exactly the same answer
        const unknown = await post(t, A('users', 'auth-with-password'), { identity: 'nobody@example.com', password: 'wrong-password' });
        expect(unknown.status).toBe(400);
        expect(unknown.text).toBe(res.text);
      }),
    },
    {
      name: 'unknown identity',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: { identity: 'nobody@example.com', password: PASSWORD },
      ...fails(400, AUTH_FAILED, {}),
    },
    {
      name: 'a password is not an identity (no "identity OR password" confusion)',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: { identity: PASSWORD, password: PASSWORD },
      ...fails(400, AUTH_FAILED, {}),
    },
    {
      name: 'the password of another record',
      method: 'POST',
      url: A('moderators', 'auth-with-password'),
      body: { identity: 'mod@example.com', password: PASSWORD },
      ...fails(400, AUTH_FAILED, {}),
    },
    {
      name: 'a users record cannot sign in on moderators',
      method: 'POST',
      url: A('moderators', 'auth-with-password'),
      body: { identity: 'ann@example.com', password: PASSWORD },
      ...fails(400, AUTH_FAILED, {}),
    },
    {
      name: 'malformed JSON',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: '{"identity": "ann@example.com", "password": ',
      ...fails(400, undefined, {}),
    },
    {
      name: 'a JSON array is not an object',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: '["ann@example.com", "password123"]',
      ...fails(400, undefined, {}),
    },
    {
      name: 'JSON null',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: 'null',
      ...fails(400, undefined, {}),
    },
    {
      name: 'wrong content type',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      headers: { 'Content-Type': 'text/plain' },
      body: 'identity=ann@example.com&password=password123',
      ...fails(400, undefined, {}),
    },
    {
      name: 'urlencoded form works',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `identity=${encodeURIComponent('ann@example.com')}&password=${PASSWORD}`,
      expectedStatus: 200,
      expectedContent: AUTH_OK_CONTENT,
      after: okAuth('users', ANN),
    },
    {
      name: 'multipart form works',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      multipart: [
        { name: 'identity', value: 'ann@example.com' },
        { name: 'password', value: PASSWORD },
      ],
      expectedStatus: 200,
      expectedContent: AUTH_OK_CONTENT,
      after: okAuth('users', ANN),
    },
    {
      name: 'a huge body is refused with 413',
      method: 'POST',
      url: A('users', 'auth-with-password'),
      body: JSON.stringify({ identity: 'ann@example.com', password: PASSWORD, pad: 'x'.repeat(200 * 1024) }),
      ...fails(413, 'Request entity too large.', {}),
    },
    {
      name: '?expand= on the auth response',
      method: 'POST',
      url: A('members', 'auth-with-password?expand=team'),
      body: { identity: 'mem1@example.com', password: PASSWORD },
      expectedStatus: 200,
      expectedContent: ['"expand":{"team":{', '"title":"Core"'],
      after: okAuth('members', MEM),
    },
    {
      name: '?fields=token answers only the token',
      method: 'POST',
      url: A('users', 'auth-with-password?fields=token'),
      body: { identity: 'ann@example.com', password: PASSWORD },
      expectedStatus: 200,
      expectedContent: ['"token":'],
      after(_t, res) {
        expect(Object.keys(res.json())).toEqual(['token']);
      },
    },
    {
      name: '?fields=record.id,token',
      method: 'POST',
      url: A('users', 'auth-with-password?fields=record.id,token'),
      body: { identity: 'ann@example.com', password: PASSWORD },
      expectedStatus: 200,
      expectedContent: ['"token":'],
      after(_t, res) {
        const body = res.json<{ record: unknown; token: string }>();
        expect(body.record).toEqual({ id: ANN });
        expect(typeof body.token).toBe('string');
      },
    },
    {
      name: 'unknown query parameters are ignored (SDK autoRefresh)',
      method: 'POST',
      url: A('users', 'auth-with-password?autoRefresh=true&foo=bar'),
      body: { identity: 'ann@example.com', password: PASSWORD },
      expectedStatus: 200,
      expectedContent: AUTH_OK_CONTENT,
      after: okAuth('users', ANN),
    },
    {
      name: 'authRule null: nobody may sign in',
      method: 'POST',
      url: A('sealed', 'auth-with-password'),
      body: { identity: 'sealed@example.com', password: PASSWORD },
      ...fails(403, undefined, {}),
    },
    {
      name: 'authRule "verified = true" refuses an unverified moderator',
      method: 'POST',
      url: A('moderators', 'auth-with-password'),
      body: { identity: 'newmod@example.com', password: MOD_PASSWORD },
      ...fails(403, undefined, {}),
    },
    {
      name: 'authRule "verified = true" admits a verified moderator',
      method: 'POST',
      url: A('moderators', 'auth-with-password'),
      body: { identity: 'mod@example.com', password: MOD_PASSWORD },
      expectedStatus: 200,
      expectedContent: [...AUTH_OK_CONTENT, '"verified":true'],
      after: okAuth('moderators', MOD_OK),
    },
    {
      name: 'the authRule refusal does not reveal a wrong password (400 first)',
      method: 'POST',
      url: A('moderators', 'auth-with-password'),
      body: { identity: 'newmod@example.com', password: 'wrong-password' },
      ...fails(400, AUTH_FAILED, {}),
    },
    {
      name: 'passwordAuth disabled',
      method: 'POST',
      url: A('nopass', 'auth-with-password'),
      body: { identity: 'np@example.com', password: PASSWORD },
      ...fails(403, undefined, {}),
    },
    {
      name: 'a base collection',
      method: 'POST',
      url: A('notes', 'auth-with-password'),
      body: { identity: 'ann@example.com', password: PASSWORD },
      ...fails(404, NO_AUTH_COLLECTION, {}),
    },
    {
      name: 'unknown collection',
      method: 'POST',
      url: A('nope', 'auth-with-password'),
      body: { identity: 'ann@example.com', password: PASSWORD },
      ...fails(404, NO_AUTH_COLLECTION, {}),
    },
    {
      name: 'superusers sign in on _superusers',
      method: 'POST',
      before: async (t, v) => {
        v['email'] = freshEmail('root');
        v['id'] = String((await t.seed('_superusers', { email: v['email'], ...PW }))['id']);
      },
      url: A('_superusers', 'auth-with-password'),
      body: (v) => ({ identity: v['email'], password: PASSWORD }),
      expectedStatus: 200,
      expectedContent: ['"collectionName":"_superusers"', '"collectionId":"pbc_3142635823"'],
      after: (t, res, v) => okAuth('_superusers', v['id']!)(t, res, v),
    },
    {
      name: 'a user cannot sign in on _superusers',
      method: 'POST',
      url: A('_superusers', 'auth-with-password'),
      body: { identity: 'ann@example.com', password: PASSWORD },
      ...fails(400, AUTH_FAILED, {}),
    },
  ]);

  // Over a real socket: superagent takes about a minute to push 40 MB through supertest's in-process server.
  it('a 40 MB body over HTTP is refused with 413 at once', async () => {
    const base = await app.t.listen();
    const res = await fetch(`${base}${A('users', 'auth-with-password')}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: Buffer.alloc(40 << 20, 0x20) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ status: 413, code: 'request_too_large', message: 'Request entity too large.', data: {} });
  });

  scenarioGroup(app, 'POST auth-refresh', [
    {
      name: 'a fresh token and the record',
      method: 'POST',
      url: A('users', 'auth-refresh'),
      auth: USER_ANN,
      expectedStatus: 200,
      expectedContent: [...AUTH_OK_CONTENT, '"email":"ann@example.com"'],
      notExpectedContent: ['"tokenKey"', '"password"'],
      after: okAuth('users', ANN),
    },
    {
      name: '?expand and ?fields apply',
      method: 'POST',
      url: A('members', 'auth-refresh?expand=team&fields=record.expand.team.title,token'),
      auth: MEMBER,
      expectedStatus: 200,
      expectedContent: ['"token":'],
      after(_t, res) {
        expect(res.json()['record']).toEqual({ expand: { team: { title: 'Core' } } });
      },
    },
    { name: 'no token', method: 'POST', url: A('users', 'auth-refresh'), ...fails(401, undefined, {}) },
    { name: 'a garbage token', method: 'POST', url: A('users', 'auth-refresh'), auth: { token: 'not.a.token' }, ...fails(401, undefined, {}) },
    {
      name: 'a token with a JSON header and a non-JSON payload',
      method: 'POST',
      url: A('users', 'auth-refresh'),
      auth: { token: NON_JSON_PAYLOAD_TOKEN },
      ...fails(401, undefined, {}),
    },
    {
      name: 'an expired token',
      method: 'POST',
      url: A('users', 'auth-refresh'),
      before: async (t, v) => void (v['token'] = await signFor(t, 'users', ANN, 'auth', { duration: -60 })),
      headers: (v) => ({ Authorization: v['token']! }),
      ...fails(401, undefined, {}),
    },
    {
      name: 'a verification token is not an auth token',
      method: 'POST',
      url: A('users', 'auth-refresh'),
      before: async (t, v) => void (v['token'] = await signFor(t, 'users', ANN, 'verification', { extra: { email: 'ann@example.com' } })),
      headers: (v) => ({ Authorization: v['token']! }),
      ...fails(401, undefined, {}),
    },
    { name: "another collection's token", method: 'POST', url: A('users', 'auth-refresh'), auth: MODERATOR, ...fails(403, undefined, {}) },
    { name: "a superuser's token on users", method: 'POST', url: A('users', 'auth-refresh'), auth: 'superuser', ...fails(403, undefined, {}) },
    {
      name: 'a superuser refreshes on _superusers',
      method: 'POST',
      url: A('_superusers', 'auth-refresh'),
      auth: 'superuser',
      expectedStatus: 200,
      expectedContent: [...AUTH_OK_CONTENT, '"collectionName":"_superusers"'],
    },
    {
      name: 'the authRule is checked again: an unverified moderator with a token is refused',
      method: 'POST',
      url: A('moderators', 'auth-refresh'),
      auth: { collection: 'moderators', id: MOD_NEW },
      ...fails(403, undefined, {}),
    },
    {
      name: 'authRule null: refused',
      method: 'POST',
      url: A('sealed', 'auth-refresh'),
      auth: { collection: 'sealed', id: SEALED },
      ...fails(403, undefined, {}),
    },
    {
      name: 'an impersonation token is returned unchanged',
      method: 'POST',
      url: A('users', 'auth-refresh'),
      before: async (t, v) => {
        const res = await post(t, A('users', `impersonate/${BOB}`), { duration: 3600 }, await app.superuser());
        expect(res.status).toBe(200);
        v['token'] = String((res.body as { token: string }).token);
      },
      headers: (v) => ({ Authorization: v['token']! }),
      expectedStatus: 200,
      expectedContent: (v) => [`"token":"${v['token']}"`, `"id":"${BOB}"`],
    },
    { name: 'a base collection: the requester is checked first (403, as PocketBase)', method: 'POST', url: A('notes', 'auth-refresh'), auth: USER_ANN, ...fails(403, 'The request requires auth record from users collection.', {}) },
  ]);

  scenarioGroup(app, 'POST request-otp / auth-with-otp', [
    {
      name: 'OTP disabled on users',
      method: 'POST',
      url: A('users', 'request-otp'),
      body: { email: 'ann@example.com' },
      ...fails(403, undefined, {}),
    },
    {
      name: 'a known email gets an otpId',
      method: 'POST',
      url: A('members', 'request-otp'),
      body: { email: 'mem1@example.com' },
      expectedStatus: 200,
      expectedContent: ['"otpId":'],
      expectedPatterns: [/^\{"otpId":"[a-z0-9]{15}"\}\n?$/],
    },
    {
      name: 'an unknown email also gets a 15-character otpId (no enumeration)',
      method: 'POST',
      url: A('members', 'request-otp'),
      body: { email: 'nobody@example.com' },
      expectedStatus: 200,
      expectedContent: ['"otpId":'],
      expectedPatterns: [/^\{"otpId":"[a-z0-9]{15}"\}\n?$/],
      async after(t, res) {
        // ... which cannot be used
        const otpId = res.json<{ otpId: string }>().otpId;
        const attempt = await post(t, A('members', 'auth-with-otp'), { otpId, password: '123456' });
        expect(attempt.status).toBe(400);
        expect((attempt.body as ErrorBody).message).toBe(BAD_OTP);
      },
    },
    { name: 'a malformed email', method: 'POST', url: A('members', 'request-otp'), body: { email: 'not-an-email' }, ...fails(400, VALIDATION, { email: 'validation_is_email' }) },
    { name: 'no email', method: 'POST', url: A('members', 'request-otp'), body: {}, ...fails(400, VALIDATION, { email: 'validation_required' }) },
    { name: 'a base collection', method: 'POST', url: A('notes', 'request-otp'), body: { email: 'a@example.com' }, ...fails(404, NO_AUTH_COLLECTION, {}) },
    {
      name: 'OTP disabled: auth-with-otp refused too',
      method: 'POST',
      url: A('users', 'auth-with-otp'),
      body: { otpId: 'abcdefghijklmno', password: '123456' },
      ...fails(403, undefined, {}),
    },
    {
      name: 'the right code signs in, and marks the (unverified) record verified since the code reached its inbox',
      method: 'POST',
      url: A('members', 'auth-with-otp'),
      before: async (t, v) => {
        await seedUser(t, v, { username: uniq('otp') }, 'members');
        v['otpId'] = await otpFor(t, 'members', v['id']!, '246810');
      },
      body: (v) => ({ otpId: v['otpId'], password: '246810' }),
      expectedStatus: 200,
      expectedContent: [...AUTH_OK_CONTENT, '"verified":true'],
      after: (t, res, v) =>
        okAuth('members', v['id']!, async () => {
          expect((await stored(t, 'members', v['id']!))['verified']).toBe(true);
          // single use
          const again = await post(t, A('members', 'auth-with-otp'), { otpId: v['otpId'], password: '246810' });
          expect(again.status).toBe(400);
          expect((again.body as ErrorBody).message).toBe(BAD_OTP);
        })(t, res, v),
    },
    {
      name: 'OTP sign-in of an unverified record replaces its password (pre-registration hijack defence; MFA is off)',
      method: 'POST',
      url: A('members', 'auth-with-otp'),
      before: async (t, v) => {
        await seedUser(t, v, { username: uniq('hijack') }, 'members');
        v['hash'] = String((await stored(t, 'members', v['id']!))['password']);
        v['otpId'] = await otpFor(t, 'members', v['id']!, '192837');
      },
      body: (v) => ({ otpId: v['otpId'], password: '192837' }),
      expectedStatus: 200,
      expectedContent: [...AUTH_OK_CONTENT, '"verified":true'],
      async after(t, _res, v) {
        expect((await stored(t, 'members', v['id']!))['password']).not.toBe(v['hash']);
        const old = await post(t, A('members', 'auth-with-password'), { identity: v['email'], password: PASSWORD });
        expect(old.status, 'the password set before verification must no longer sign in').toBe(400);
      },
    },
    {
      name: 'OTP sign-in of an already verified record keeps its password',
      method: 'POST',
      url: A('members', 'auth-with-otp'),
      before: async (t, v) => {
        await seedUser(t, v, { username: uniq('keep'), verified: true }, 'members');
        v['otpId'] = await otpFor(t, 'members', v['id']!, '918273');
      },
      body: (v) => ({ otpId: v['otpId'], password: '918273' }),
      expectedStatus: 200,
      expectedContent: AUTH_OK_CONTENT,
      async after(t, _res, v) {
        expect((await post(t, A('members', 'auth-with-password'), { identity: v['email'], password: PASSWORD })).status).toBe(200);
      },
    },
    {
      name: 'a wrong code',
      method: 'POST',
      url: A('members', 'auth-with-otp'),
      before: async (t, v) => void (v['otpId'] = await otpFor(t, 'members', MEM, '111111')),
      body: (v) => ({ otpId: v['otpId'], password: '222222' }),
      ...fails(400, BAD_OTP, {}),
    },
    {
      name: 'after 5 wrong codes even the right one is refused with 429',
      method: 'POST',
      url: A('members', 'auth-with-otp'),
      before: async (t, v) => {
        // A record of its own: wrong codes are counted per record (the other scenarios use MEM).
        await seedUser(t, v, { username: uniq('otp') }, 'members');
        v['otpId'] = await otpFor(t, 'members', v['id']!, '333333');
        for (let i = 0; i < 5; i++) {
          const res = await post(t, A('members', 'auth-with-otp'), { otpId: v['otpId'], password: `00000${i}` });
          expect(res.status, `wrong attempt ${i + 1}`).toBe(400);
        }
      },
      body: (v) => ({ otpId: v['otpId'], password: '333333' }),
      ...fails(429, undefined, {}),
    },
    {
      name: 'an expired code',
      method: 'POST',
      url: A('members', 'auth-with-otp'),
      before: async (t, v) => {
        v['otpId'] = await otpFor(t, 'members', MEM, '444444');
        await t.app.db.runner().run(`UPDATE "_otps" SET "created" = ? WHERE "id" = ?`, [formatDate(new Date(Date.now() - 181_000)), v['otpId']]);
      },
      body: (v) => ({ otpId: v['otpId'], password: '444444' }),
      ...fails(400, BAD_OTP, {}),
    },
    {
      name: 'an otpId of another collection',
      method: 'POST',
      url: A('members', 'auth-with-otp'),
      before: async (t, v) => void (v['otpId'] = await otpFor(t, 'guarded', G1, '555555')),
      body: (v) => ({ otpId: v['otpId'], password: '555555' }),
      ...fails(400, BAD_OTP, {}),
    },
    {
      name: 'an unknown otpId',
      method: 'POST',
      url: A('members', 'auth-with-otp'),
      body: { otpId: 'zzzzzzzzzzzzzzz', password: '123456' },
      ...fails(400, BAD_OTP, {}),
    },
    {
      name: 'missing otpId and code',
      method: 'POST',
      url: A('members', 'auth-with-otp'),
      body: {},
      ...fails(400, VALIDATION, { otpId: 'validation_required', password: 'validation_required' }),
    },
  ]);

  scenarioGroup(app, 'MFA (§7.3)', [
    {
      name: 'first factor (password): 401 with exactly {"mfaId": ...}',
      method: 'POST',
      url: A('guarded', 'auth-with-password'),
      body: { identity: 'g1@example.com', password: PASSWORD },
      expectedStatus: 401,
      expectedContent: ['"mfaId":'],
      expectedPatterns: [/^\{"mfaId":"[a-z0-9]{15}"\}\n?$/],
      notExpectedContent: ['"token"', '"status"'],
    },
    {
      name: 'first factor (OTP) also answers 401 {mfaId}',
      method: 'POST',
      url: A('guarded', 'auth-with-otp'),
      before: async (t, v) => void (v['otpId'] = await otpFor(t, 'guarded', G1, '121212')),
      body: (v) => ({ otpId: v['otpId'], password: '121212' }),
      expectedStatus: 401,
      expectedContent: ['"mfaId":'],
      expectedPatterns: [/^\{"mfaId":"[a-z0-9]{15}"\}\n?$/],
    },
    {
      name: 'second factor with OTP + mfaId (body) signs in',
      method: 'POST',
      url: A('guarded', 'auth-with-otp'),
      before: async (t, v) => {
        const first = await post(t, A('guarded', 'auth-with-password'), { identity: 'g1@example.com', password: PASSWORD });
        expect(first.status).toBe(401);
        v['mfaId'] = String((first.body as { mfaId: string }).mfaId);
        v['otpId'] = await otpFor(t, 'guarded', G1, '654321');
      },
      body: (v) => ({ otpId: v['otpId'], password: '654321', mfaId: v['mfaId'] }),
      expectedStatus: 200,
      expectedContent: AUTH_OK_CONTENT,
      async after(t, res, v) {
        const token = res.json<{ token: string }>().token;
        expect(jwtPart(token, 1)).toMatchObject({ id: G1, type: 'auth', refreshable: true });
        // the MFA session is finished: it cannot complete a second sign-in
        const otpId = await otpFor(t, 'guarded', G1, '777777');
        const again = await post(t, A('guarded', 'auth-with-otp'), { otpId, password: '777777', mfaId: v['mfaId'] });
        expect(again.status).toBe(400);
        expect((again.body as ErrorBody).message).toBe(BAD_MFA);
      },
    },
    {
      name: 'second factor with password after OTP, mfaId in the query',
      method: 'POST',
      before: async (t, v) => {
        const otpId = await otpFor(t, 'guarded', G1, '135790');
        const first = await post(t, A('guarded', 'auth-with-otp'), { otpId, password: '135790' });
        expect(first.status).toBe(401);
        v['mfaId'] = String((first.body as { mfaId: string }).mfaId);
      },
      url: (v) => A('guarded', `auth-with-password?mfaId=${v['mfaId']}`),
      body: { identity: 'g1@example.com', password: PASSWORD },
      expectedStatus: 200,
      expectedContent: AUTH_OK_CONTENT,
      after: okAuth('guarded', G1),
    },
    {
      name: 'the same method twice',
      method: 'POST',
      url: A('guarded', 'auth-with-password'),
      before: async (t, v) => {
        const first = await post(t, A('guarded', 'auth-with-password'), { identity: 'g1@example.com', password: PASSWORD });
        v['mfaId'] = String((first.body as { mfaId: string }).mfaId);
      },
      body: (v) => ({ identity: 'g1@example.com', password: PASSWORD, mfaId: v['mfaId'] }),
      ...fails(400, SAME_METHOD, {}),
    },
    {
      name: 'a bogus mfaId',
      method: 'POST',
      url: A('guarded', 'auth-with-otp'),
      before: async (t, v) => void (v['otpId'] = await otpFor(t, 'guarded', G1, '246802')),
      body: (v) => ({ otpId: v['otpId'], password: '246802', mfaId: 'bogusbogusbogus' }),
      ...fails(400, BAD_MFA, {}),
    },
    {
      name: 'an expired MFA session',
      method: 'POST',
      url: A('guarded', 'auth-with-otp'),
      before: async (t, v) => {
        const first = await post(t, A('guarded', 'auth-with-password'), { identity: 'g1@example.com', password: PASSWORD });
        v['mfaId'] = String((first.body as { mfaId: string }).mfaId);
        await t.app.db.runner().run(`UPDATE "_mfas" SET "created" = ? WHERE "id" = ?`, [formatDate(new Date(Date.now() - 601_000)), v['mfaId']]);
        v['otpId'] = await otpFor(t, 'guarded', G1, '975310');
      },
      body: (v) => ({ otpId: v['otpId'], password: '975310', mfaId: v['mfaId'] }),
      ...fails(400, BAD_MFA, {}),
    },
    {
      name: "another record's MFA session",
      method: 'POST',
      url: A('guarded', 'auth-with-otp'),
      before: async (t, v) => {
        await seedUser(t, v, {}, 'guarded');
        const first = await post(t, A('guarded', 'auth-with-password'), { identity: 'g1@example.com', password: PASSWORD });
        v['mfaId'] = String((first.body as { mfaId: string }).mfaId);
        v['otpId'] = await otpFor(t, 'guarded', v['id']!, '864200');
      },
      body: (v) => ({ otpId: v['otpId'], password: '864200', mfaId: v['mfaId'] }),
      ...fails(400, BAD_MFA, {}),
    },
    {
      name: 'a wrong password with an mfaId is still just "Failed to authenticate."',
      method: 'POST',
      url: A('guarded', 'auth-with-password'),
      before: async (t, v) => {
        const otpId = await otpFor(t, 'guarded', G1, '101010');
        const first = await post(t, A('guarded', 'auth-with-otp'), { otpId, password: '101010' });
        v['mfaId'] = String((first.body as { mfaId: string }).mfaId);
      },
      body: (v) => ({ identity: 'g1@example.com', password: 'wrong-password', mfaId: v['mfaId'] }),
      ...fails(400, AUTH_FAILED, {}),
    },
    {
      name: 'mfa.rule: a record that matches it needs a second factor',
      method: 'POST',
      url: A('partial', 'auth-with-password'),
      body: { identity: 'vip@example.com', password: PASSWORD },
      expectedStatus: 401,
      expectedContent: ['"mfaId":'],
      expectedPatterns: [/^\{"mfaId":"[a-z0-9]{15}"\}\n?$/],
    },
    {
      name: 'mfa.rule: a record that does not match it signs in at once',
      method: 'POST',
      url: A('partial', 'auth-with-password'),
      body: { identity: 'plain@example.com', password: PASSWORD },
      expectedStatus: 200,
      expectedContent: AUTH_OK_CONTENT,
      after: okAuth('partial', P_PLAIN),
    },
  ]);

  scenarioGroup(app, 'POST request-verification / confirm-verification', [
    { name: 'an unknown email: 204', method: 'POST', url: A('users', 'request-verification'), body: { email: 'nobody@example.com' }, expectedStatus: 204 },
    { name: 'a known email: 204', method: 'POST', url: A('users', 'request-verification'), body: { email: 'ann@example.com' }, expectedStatus: 204 },
    { name: 'an already verified record: 204', method: 'POST', url: A('moderators', 'request-verification'), body: { email: 'mod@example.com' }, expectedStatus: 204 },
    {
      name: '_superusers: 400',
      method: 'POST',
      url: A('_superusers', 'request-verification'),
      body: { email: 'root@example.com' },
      ...fails(400),
    },
    { name: 'a malformed email', method: 'POST', url: A('users', 'request-verification'), body: { email: 'ann@' }, ...fails(400, VALIDATION, { email: 'validation_is_email' }) },
    { name: 'no email', method: 'POST', url: A('users', 'request-verification'), body: {}, ...fails(400, VALIDATION, { email: 'validation_required' }) },
    { name: 'a base collection', method: 'POST', url: A('notes', 'request-verification'), body: { email: 'ann@example.com' }, ...fails(404, NO_AUTH_COLLECTION, {}) },
    {
      name: 'a valid token verifies the record',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      before: async (t, v) => {
        await seedUser(t, v);
        expect((await stored(t, 'users', v['id']!))['verified']).toBe(false);
        v['token'] = await signFor(t, 'users', v['id']!, 'verification', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'] }),
      expectedStatus: 204,
      async after(t, _res, v) {
        expect((await stored(t, 'users', v['id']!))['verified']).toBe(true);
        // confirming again is harmless
        const again = await post(t, A('users', 'confirm-verification'), { token: v['token'] });
        expect(again.status).toBe(204);
      },
    },
    {
      name: 'password auth disabled: verification sets a random password (PocketBase pre-hijack guard)',
      method: 'POST',
      url: A('nopass', 'confirm-verification'),
      before: async (t, v) => {
        await seedUser(t, v, {}, 'nopass');
        v['hash'] = String((await stored(t, 'nopass', v['id']!))['password']);
        v['token'] = await signFor(t, 'nopass', v['id']!, 'verification', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'] }),
      expectedStatus: 204,
      async after(t, _res, v) {
        const rec = await stored(t, 'nopass', v['id']!);
        expect(rec['verified']).toBe(true);
        expect(rec['password'], 'the password hash should have been replaced').not.toBe(v['hash']);
      },
    },
    {
      name: 'a garbage token',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      body: { token: 'garbage' },
      ...fails(400, VALIDATION, { token: 'validation_invalid_token_claims' }),
    },
    { name: 'no token', method: 'POST', url: A('users', 'confirm-verification'), body: {}, ...fails(400, VALIDATION, { token: 'validation_required' }) },
    {
      name: 'a token with a JSON header and a non-JSON payload',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      body: { token: NON_JSON_PAYLOAD_TOKEN },
      ...fails(400, VALIDATION, { token: 'validation_invalid_token_claims' }),
    },
    {
      name: 'an expired token',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'verification', { extra: { email: v['email']! }, duration: -60 });
      },
      body: (v) => ({ token: v['token'] }),
      ...fails(400, VALIDATION, { token: 'validation_invalid_token' }, async (t, _res, v) => {
        expect((await stored(t, 'users', v['id']!))['verified']).toBe(false);
      }),
    },
    {
      name: 'a password-reset token (other kind)',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'passwordReset', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'] }),
      ...fails(400, VALIDATION, { token: 'validation_invalid_token' }, async (t, _res, v) => {
        expect((await stored(t, 'users', v['id']!))['verified']).toBe(false);
      }),
    },
    {
      name: 'an auth token (other kind)',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'auth');
      },
      body: (v) => ({ token: v['token'] }),
      ...fails(400, VALIDATION, { token: 'validation_invalid_token_claims' }), // no email claim
    },
    {
      name: 'a verification token claiming type "verification" but signed with the auth secret',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      before: async (t, v) => {
        await seedUser(t, v);
        const auth = await signFor(t, 'users', v['id']!, 'auth');
        // same key material as an auth token, claims of a verification token: must not pass
        const rt = t.app.records.find('users')!;
        const secret = String((await t.app.db.runner().all(`SELECT "secret" FROM "${SECRETS_TABLE}" WHERE "collection_id" = ? AND "kind" = 'auth'`, [rt.collection.id]))[0]!['secret']);
        const rec = await stored(t, 'users', v['id']!);
        const claims: Record<string, unknown> = { ...jwtPart(auth, 1), type: 'verification', email: v['email'] };
        delete claims['refreshable'];
        v['token'] = jwt.sign(claims, String(rec['tokenKey']) + secret, { algorithm: 'HS256', noTimestamp: true });
      },
      body: (v) => ({ token: v['token'] }),
      ...fails(400, VALIDATION, { token: 'validation_invalid_token' }),
    },
    {
      name: "another collection's verification token",
      method: 'POST',
      url: A('users', 'confirm-verification'),
      before: async (t, v) => {
        await seedUser(t, v, { username: uniq('cv') }, 'members');
        v['token'] = await signFor(t, 'members', v['id']!, 'verification', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'] }),
      ...fails(400, VALIDATION, { token: 'validation_token_collection_mismatch' }, async (t, _res, v) => {
        expect((await stored(t, 'members', v['id']!))['verified']).toBe(false);
      }),
    },
    {
      name: 'a token for an email the record no longer has',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'verification', { extra: { email: 'old-address@example.com' } });
      },
      body: (v) => ({ token: v['token'] }),
      ...fails(400, VALIDATION, { token: 'validation_token_email_mismatch' }),
    },
    {
      name: 'a token of a deleted record',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'verification', { extra: { email: v['email']! } });
        const del = await request(t.http).delete(`/api/collections/users/records/${v['id']}`).set('Authorization', await app.superuser());
        expect(del.status).toBe(204);
      },
      body: (v) => ({ token: v['token'] }),
      ...fails(400, VALIDATION, { token: 'validation_invalid_token' }),
    },
  ]);

  scenarioGroup(app, 'POST request-password-reset / confirm-password-reset', [
    { name: 'an unknown email: 204', method: 'POST', url: A('users', 'request-password-reset'), body: { email: 'nobody@example.com' }, expectedStatus: 204 },
    { name: 'a known email: 204', method: 'POST', url: A('users', 'request-password-reset'), body: { email: 'ann@example.com' }, expectedStatus: 204 },
    { name: 'a malformed email', method: 'POST', url: A('users', 'request-password-reset'), body: { email: 'x' }, ...fails(400, VALIDATION, { email: 'validation_is_email' }) },
    { name: 'password auth disabled', method: 'POST', url: A('nopass', 'request-password-reset'), body: { email: 'np@example.com' }, ...fails(400) },
    {
      name: 'success: new password works, the old one and every old auth token and the reset token itself stop working',
      method: 'POST',
      url: A('users', 'confirm-password-reset'),
      before: async (t, v) => {
        await seedUser(t, v);
        const login = await post(t, A('users', 'auth-with-password'), { identity: v['email'], password: PASSWORD });
        expect(login.status).toBe(200);
        v['old'] = String((login.body as { token: string }).token);
        v['tokenKey'] = String((await stored(t, 'users', v['id']!))['tokenKey']);
        v['token'] = await signFor(t, 'users', v['id']!, 'passwordReset', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'], password: 'brand-new-pass', passwordConfirm: 'brand-new-pass' }),
      expectedStatus: 204,
      async after(t, _res, v) {
        const rec = await stored(t, 'users', v['id']!);
        expect(rec['tokenKey']).not.toBe(v['tokenKey']);
        expect(rec['verified']).toBe(true); // the link reached the inbox
        expect((await post(t, A('users', 'auth-with-password'), { identity: v['email'], password: 'brand-new-pass' })).status).toBe(200);
        expect((await post(t, A('users', 'auth-with-password'), { identity: v['email'], password: PASSWORD })).status).toBe(400);
        expect((await post(t, A('users', 'auth-refresh'), {}, v['old'])).status).toBe(401);
        const list = await request(t.http).get('/api/collections/users/records').set('Authorization', v['old']!);
        expect(list.status).toBe(200);
        expect((list.body as { items: unknown[] }).items).toEqual([]);
        const reuse = await post(t, A('users', 'confirm-password-reset'), { token: v['token'], password: 'third-password', passwordConfirm: 'third-password' });
        expect(reuse.status).toBe(400);
        expect((reuse.body as ErrorBody).data['token']?.code).toBe('validation_invalid_token');
      },
    },
    {
      name: 'a password shorter than the field minimum (8)',
      method: 'POST',
      url: A('users', 'confirm-password-reset'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'passwordReset', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'], password: 'short', passwordConfirm: 'short' }),
      ...fails(400, VALIDATION, { password: 'validation_length_out_of_range' }),
    },
    {
      name: 'moderators: the field minimum is 10',
      method: 'POST',
      url: A('moderators', 'confirm-password-reset'),
      before: async (t, v) => {
        await seedUser(t, v, { password: MOD_PASSWORD, passwordConfirm: MOD_PASSWORD }, 'moderators');
        v['token'] = await signFor(t, 'moderators', v['id']!, 'passwordReset', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'], password: 'ninechars', passwordConfirm: 'ninechars' }),
      ...fails(400, VALIDATION, { password: 'validation_length_out_of_range' }),
    },
    {
      name: 'password and passwordConfirm differ',
      method: 'POST',
      url: A('users', 'confirm-password-reset'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'passwordReset', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'], password: 'brand-new-pass', passwordConfirm: 'brand-new-pasS' }),
      ...fails(400, VALIDATION, { passwordConfirm: 'validation_values_mismatch' }, async (t, _res, v) => {
        expect((await post(t, A('users', 'auth-with-password'), { identity: v['email'], password: PASSWORD })).status).toBe(200);
      }),
    },
    {
      name: 'everything missing',
      method: 'POST',
      url: A('users', 'confirm-password-reset'),
      body: {},
      ...fails(400, VALIDATION, { token: 'validation_required', password: 'validation_required', passwordConfirm: 'validation_required' }),
    },
    {
      name: 'a garbage token',
      method: 'POST',
      url: A('users', 'confirm-password-reset'),
      body: { token: 'x.y.z', password: 'brand-new-pass', passwordConfirm: 'brand-new-pass' },
      ...fails(400, VALIDATION, { token: 'validation_invalid_token' }),
    },
    {
      name: 'a token with a JSON header and a non-JSON payload',
      method: 'POST',
      url: A('users', 'confirm-password-reset'),
      body: { token: NON_JSON_PAYLOAD_TOKEN, password: 'brand-new-pass', passwordConfirm: 'brand-new-pass' },
      ...fails(400, VALIDATION, { token: 'validation_invalid_token' }),
    },
    {
      name: 'an expired token',
      method: 'POST',
      url: A('users', 'confirm-password-reset'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'passwordReset', { extra: { email: v['email']! }, duration: -1 });
      },
      body: (v) => ({ token: v['token'], password: 'brand-new-pass', passwordConfirm: 'brand-new-pass' }),
      ...fails(400, VALIDATION, { token: 'validation_invalid_token' }),
    },
    {
      name: 'a verification token (other kind)',
      method: 'POST',
      url: A('users', 'confirm-password-reset'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'verification', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'], password: 'brand-new-pass', passwordConfirm: 'brand-new-pass' }),
      ...fails(400, VALIDATION, { token: 'validation_invalid_token' }, async (t, _res, v) => {
        expect((await post(t, A('users', 'auth-with-password'), { identity: v['email'], password: PASSWORD })).status).toBe(200);
      }),
    },
    {
      name: "another collection's reset token",
      method: 'POST',
      url: A('moderators', 'confirm-password-reset'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'passwordReset', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'], password: 'brand-new-password', passwordConfirm: 'brand-new-password' }),
      ...fails(400, VALIDATION, { token: 'validation_token_collection_mismatch' }),
    },
  ]);

  scenarioGroup(app, 'POST request-email-change / confirm-email-change', [
    { name: 'a guest', method: 'POST', url: A('users', 'request-email-change'), body: { newEmail: 'new@example.com' }, ...fails(401, undefined, {}) },
    {
      name: "another collection's token",
      method: 'POST',
      url: A('users', 'request-email-change'),
      auth: MODERATOR,
      body: { newEmail: 'new@example.com' },
      ...fails(403, undefined, {}),
    },
    { name: "a superuser's token on users", method: 'POST', url: A('users', 'request-email-change'), auth: 'superuser', body: { newEmail: 'new@example.com' }, ...fails(403, undefined, {}) },
    {
      name: '_superusers: 400 (superusers change their email directly)',
      method: 'POST',
      url: A('_superusers', 'request-email-change'),
      auth: 'superuser',
      body: { newEmail: 'new-root@example.com' },
      ...fails(400),
    },
    {
      name: '_superusers confirm-email-change: 400 too (and the email stays)',
      method: 'POST',
      url: A('_superusers', 'confirm-email-change'),
      before: async (t, v) => {
        v['email'] = freshEmail('root');
        v['id'] = String((await t.seed('_superusers', { email: v['email'], ...PW }))['id']);
        v['token'] = await signFor(t, '_superusers', v['id'], 'emailChange', { extra: { email: v['email'], newEmail: freshEmail('root-new') } });
      },
      body: (v) => ({ token: v['token'], password: PASSWORD }),
      ...fails(400, undefined, undefined, async (t, _res, v) => {
        expect((await stored(t, '_superusers', v['id']!))['email']).toBe(v['email']);
      }),
    },
    {
      name: 'an email already taken',
      method: 'POST',
      url: A('users', 'request-email-change'),
      auth: USER_ANN,
      body: { newEmail: 'bob@example.com' },
      ...fails(400, VALIDATION, { newEmail: 'validation_invalid_new_email' }),
    },
    {
      name: 'an email already taken, in another case',
      method: 'POST',
      url: A('users', 'request-email-change'),
      auth: USER_ANN,
      body: { newEmail: 'BOB@example.com' },
      ...fails(400, VALIDATION, { newEmail: 'validation_invalid_new_email' }),
    },
    { name: 'a malformed email', method: 'POST', url: A('users', 'request-email-change'), auth: USER_ANN, body: { newEmail: 'bob' }, ...fails(400, VALIDATION, { newEmail: 'validation_is_email' }) },
    { name: 'no email', method: 'POST', url: A('users', 'request-email-change'), auth: USER_ANN, body: {}, ...fails(400, VALIDATION, { newEmail: 'validation_required' }) },
    { name: 'a free address: 204', method: 'POST', url: A('users', 'request-email-change'), auth: USER_ANN, body: { newEmail: 'ann-new@example.com' }, expectedStatus: 204 },
    {
      name: 'success: the email changes, verified is set, old tokens die, the token is single-use',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['old'] = await recordToken(t, 'users', v['id']!);
        v['newEmail'] = freshEmail('changed');
        v['token'] = await signFor(t, 'users', v['id']!, 'emailChange', { extra: { email: v['email']!, newEmail: v['newEmail'] } });
      },
      body: (v) => ({ token: v['token'], password: PASSWORD }),
      expectedStatus: 204,
      async after(t, _res, v) {
        const rec = await stored(t, 'users', v['id']!);
        expect(rec['email']).toBe(v['newEmail']);
        expect(rec['verified']).toBe(true);
        expect((await post(t, A('users', 'auth-refresh'), {}, v['old'])).status).toBe(401);
        expect((await post(t, A('users', 'auth-with-password'), { identity: v['newEmail'], password: PASSWORD })).status).toBe(200);
        expect((await post(t, A('users', 'auth-with-password'), { identity: v['email'], password: PASSWORD })).status).toBe(400);
        const reuse = await post(t, A('users', 'confirm-email-change'), { token: v['token'], password: PASSWORD });
        expect(reuse.status).toBe(400);
        expect((reuse.body as ErrorBody).data['token']?.code).toBe('validation_invalid_token');
      },
    },
    {
      name: 'a wrong password',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'emailChange', { extra: { email: v['email']!, newEmail: freshEmail('changed') } });
      },
      body: (v) => ({ token: v['token'], password: 'wrong-password' }),
      ...fails(400, VALIDATION, { password: 'validation_invalid_password' }, async (t, _res, v) => {
        expect((await stored(t, 'users', v['id']!))['email']).toBe(v['email']);
      }),
    },
    {
      name: 'the new address was taken meanwhile',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'emailChange', { extra: { email: v['email']!, newEmail: 'bob@example.com' } });
      },
      body: (v) => ({ token: v['token'], password: PASSWORD }),
      ...fails(400, VALIDATION),
    },
    {
      name: 'a garbage token',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      body: { token: 'garbage', password: PASSWORD },
      ...fails(400, VALIDATION, { token: 'validation_invalid_token_payload', password: 'validation_invalid_password' }),
    },
    {
      name: 'a token with a JSON header and a non-JSON payload',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      body: { token: NON_JSON_PAYLOAD_TOKEN, password: PASSWORD },
      ...fails(400, VALIDATION, { token: 'validation_invalid_token_payload', password: 'validation_invalid_password' }),
    },
    {
      name: 'a verification token (other kind)',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'verification', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'], password: PASSWORD }),
      ...fails(400, VALIDATION, { token: 'validation_invalid_token_payload', password: 'validation_invalid_password' }),
    },
    {
      name: 'an expired token',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      before: async (t, v) => {
        await seedUser(t, v);
        v['token'] = await signFor(t, 'users', v['id']!, 'emailChange', { extra: { email: v['email']!, newEmail: freshEmail('x') }, duration: -5 });
      },
      body: (v) => ({ token: v['token'], password: PASSWORD }),
      ...fails(400, VALIDATION, { token: 'validation_invalid_token', password: 'validation_invalid_password' }),
    },
    {
      name: 'no token, no password',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      body: {},
      ...fails(400, VALIDATION, { token: 'validation_required', password: 'validation_required' }),
    },
  ]);

  scenarioGroup(app, 'POST impersonate/{id}', [
    { name: 'a guest', method: 'POST', url: A('users', `impersonate/${ANN}`), body: {}, ...fails(401, undefined, {}) },
    { name: 'a user', method: 'POST', url: A('users', `impersonate/${BOB}`), auth: USER_ANN, body: {}, ...fails(403, undefined, {}) },
    { name: 'a moderator', method: 'POST', url: A('users', `impersonate/${BOB}`), auth: MODERATOR, body: {}, ...fails(403, undefined, {}) },
    {
      name: 'a superuser gets a non-refreshable token of the collection default duration',
      method: 'POST',
      url: A('users', `impersonate/${ANN}`),
      auth: 'superuser',
      body: {},
      expectedStatus: 200,
      expectedContent: [...AUTH_OK_CONTENT, '"email":"ann@example.com"'],
      notExpectedContent: ['"tokenKey"', '"password"'],
      after(t, res) {
        const token = res.json<{ token: string }>().token;
        const claims = jwtPart(token, 1);
        expect(Object.keys(claims)).toEqual(['collectionId', 'exp', 'id', 'refreshable', 'type']);
        expect(claims).toMatchObject({ id: ANN, type: 'auth', refreshable: false, collectionId: collectionId(t, 'users') });
        const expected = Math.floor(Date.now() / 1000) + t.tokens.durationOf(t.app.records.find('users')!, 'auth');
        expect(Math.abs(Number(claims['exp']) - expected)).toBeLessThanOrEqual(5);
      },
    },
    {
      name: 'duration is honoured in exp',
      method: 'POST',
      url: A('users', `impersonate/${ANN}`),
      auth: 'superuser',
      body: { duration: 120 },
      expectedStatus: 200,
      expectedContent: AUTH_OK_CONTENT,
      async after(t, res) {
        const token = res.json<{ token: string }>().token;
        const exp = Number(jwtPart(token, 1)['exp']);
        expect(Math.abs(exp - (Math.floor(Date.now() / 1000) + 120))).toBeLessThanOrEqual(5);
        // the token works for the impersonated record
        const list = await request(t.http).get('/api/collections/users/records').set('Authorization', token);
        expect((list.body as { items: { id: string }[] }).items.map((i) => i.id)).toEqual([ANN]);
      },
    },
    { name: 'a negative duration', method: 'POST', url: A('users', `impersonate/${ANN}`), auth: 'superuser', body: { duration: -1 }, ...fails(400, VALIDATION, { duration: 'validation_min_greater_equal_than_required' }) },
    { name: 'a non-numeric duration', method: 'POST', url: A('users', `impersonate/${ANN}`), auth: 'superuser', body: { duration: 'soon' }, ...fails(400, VALIDATION, { duration: 'validation_min_greater_equal_than_required' }) },
    { name: 'a fractional duration', method: 'POST', url: A('users', `impersonate/${ANN}`), auth: 'superuser', body: { duration: 1.5 }, ...fails(400, VALIDATION, { duration: 'validation_min_greater_equal_than_required' }) },
    { name: 'an object as duration', method: 'POST', url: A('users', `impersonate/${ANN}`), auth: 'superuser', body: { duration: { s: 1 } }, ...fails(400, VALIDATION) },
    { name: 'a huge duration', method: 'POST', url: A('users', `impersonate/${ANN}`), auth: 'superuser', body: { duration: 1e300 }, ...fails(400, VALIDATION) },
    { name: 'an unknown record', method: 'POST', url: A('users', `impersonate/${MISSING}`), auth: 'superuser', body: {}, ...fails(404, undefined, {}) },
    { name: 'a base collection', method: 'POST', url: A('notes', `impersonate/${ANN}`), auth: 'superuser', body: {}, ...fails(404, NO_AUTH_COLLECTION, {}) },
    {
      name: 'impersonation ignores the authRule (an unverified moderator)',
      method: 'POST',
      url: A('moderators', `impersonate/${MOD_NEW}`),
      auth: 'superuser',
      body: {},
      expectedStatus: 200,
      expectedContent: [...AUTH_OK_CONTENT, `"id":"${MOD_NEW}"`],
    },
  ]);

  scenarioGroup(app, 'OAuth2 (not implemented)', [
    {
      name: 'auth-with-oauth2 answers an error, not a 500',
      method: 'POST',
      url: A('users', 'auth-with-oauth2'),
      body: { provider: 'google', code: 'x', codeVerifier: 'y', redirectURL: 'http://localhost' },
      ...fails(403),
    },
  ]);

  // ---- fuzz-ish: random bodies everywhere, never a 500 ------------------------------------------

  describe('random bodies to every POST auth endpoint', () => {
    const ENDPOINTS = [
      'auth-with-password',
      'auth-refresh',
      'request-otp',
      'auth-with-otp',
      'auth-with-oauth2',
      'request-verification',
      'confirm-verification',
      'request-password-reset',
      'confirm-password-reset',
      'request-email-change',
      'confirm-email-change',
      `impersonate/${ANN}`,
      `impersonate/${MISSING}`,
      'impersonate/%00%ff',
    ];
    const TARGETS = ['users', 'members', 'guarded', 'moderators', 'nopass', 'sealed', '_superusers', 'notes', 'nope'];
    const KEYS = ['identity', 'password', 'passwordConfirm', 'identityField', 'email', 'newEmail', 'otpId', 'mfaId', 'token', 'duration', 'provider', 'code', '__proto__', 'constructor'];
    const scalar = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.constantFrom('ann@example.com', 'mem_one', PASSWORD, 'g1@example.com', '', ' ', 'a'.repeat(300), '\u0000', 'null', '1e999', '__proto__'),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
    );
    const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), scalar, { maxKeys: 3 }), fc.jsonValue({ maxDepth: 4 }));
    const objectBody = fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 10 })), value, { maxKeys: 6 });
    const rawBody = fc.oneof(
      objectBody.map((o) => JSON.stringify(o)),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 60 }),
      fc.constantFrom('{', '[]', '"x"', '1', 'null', 'true', '{"identity":', '\u0000', '{"a":1}{"b":2}', '['.repeat(600) + ']'.repeat(600)),
    );
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/xml', '');
    const authHeader = fc.constantFrom<'none' | 'user' | 'superuser' | 'garbage'>('none', 'user', 'superuser', 'garbage');

    it('status < 500 and the error shape on every answer', async () => {
      const t = app.t;
      const tokens = { user: await recordToken(t, 'users', ANN), superuser: await app.superuser(), garbage: 'Bearer \u00ff\u00fe.x.y' };
      let requests = 0;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...TARGETS), fc.constantFrom(...ENDPOINTS), rawBody, contentType, authHeader, async (target, endpoint, body, type, who) => {
          const req = request(t.http).post(`/api/collections/${target}/${endpoint}`);
          if (type !== '') req.set('Content-Type', type);
          if (who !== 'none') req.set('Authorization', tokens[who]);
          const res = await req.send(body);
          requests++;
          const where = `${target}/${endpoint} ${type} ${who} ${JSON.stringify(body).slice(0, 300)} → ${res.status} ${res.text.slice(0, 300)}`;
          expect(res.status, where).toBeLessThan(500);
          if (res.status >= 400 && !(res.status === 401 && 'mfaId' in (res.body as object))) {
            expect(Object.keys(res.body as object).sort(), where).toEqual(['code', 'data', 'message', 'status']);
            expect((res.body as ErrorBody).status, where).toBe(res.status);
          }
        }),
        { numRuns: 300 },
      );
      expect(requests).toBeGreaterThanOrEqual(300);
    });

    it('object bodies with random types under the known keys (JSON), per endpoint', async () => {
      const t = app.t;
      const superuser = await app.superuser();
      for (const endpoint of ENDPOINTS) {
        await fc.assert(
          fc.asyncProperty(objectBody, fc.constantFrom('users', 'members', 'guarded'), fc.boolean(), async (body, target, asRoot) => {
            const req = request(t.http).post(`/api/collections/${target}/${endpoint}`);
            if (asRoot) req.set('Authorization', superuser);
            const res = await req.send(body);
            const where = `${target}/${endpoint} ${JSON.stringify(body).slice(0, 300)} → ${res.status} ${res.text.slice(0, 300)}`;
            expect(res.status, where).toBeLessThan(500);
          }),
          { numRuns: 25 },
        );
      }
    });
  });
});

// ---- the flows with real emails ----------------------------------------------------------------

describe.each(DIALECTS)('auth endpoints with emails (%s)', (dialect) => {
  let sink: SmtpSink;
  let t: TestApp;
  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp(dialect, COLLECTIONS, { smtpUrl: sink.url });
    await fixtures(t);
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });
  const to = (address: string) => (m: { to: string[] }) => m.to.includes(address);

  it('request-otp mails a code of otp.length digits that signs in once', async () => {
    sink.clear();
    const res = await post(t, A('members', 'request-otp'), { email: 'mem1@example.com' });
    expect(res.status).toBe(200);
    const { otpId } = res.body as { otpId: string };
    const mail = await sink.waitFor(to('mem1@example.com'));
    const code = otpFromMail(mail);
    expect(code).toMatch(/^\d{6}$/);
    const signIn = await post(t, A('members', 'auth-with-otp'), { otpId, password: code });
    expect(signIn.status).toBe(200);
    expect((signIn.body as { record: { id: string } }).record.id).toBe(MEM);
    expect((await post(t, A('members', 'auth-with-otp'), { otpId, password: code })).status).toBe(400);
  });

  it('request-otp for an unknown email sends nothing', async () => {
    const res = await post(t, A('members', 'request-otp'), { email: 'ghost@example.com' });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.messages.filter(to('ghost@example.com'))).toEqual([]);
  });

  it('request-verification → link in the email → confirm-verification sets verified', async () => {
    const email = freshEmail('verify');
    const id = String((await t.seed('users', { email, ...PW }))['id']);
    expect((await post(t, A('users', 'request-verification'), { email })).status).toBe(204);
    const mail = await sink.waitFor(to(email));
    expect(mail.html).toContain(`${TEST_APP_URL}/_/#/auth/confirm-verification/`);
    const token = tokenFromMail(mail, 'confirm-verification');
    expect(jwtPart(token, 1)).toMatchObject({ id, type: 'verification', email });
    expect((await post(t, A('users', 'confirm-verification'), { token })).status).toBe(204);
    expect((await stored(t, 'users', id))['verified']).toBe(true);
  });

  it('request-verification for a verified record and for an unknown email sends nothing', async () => {
    expect((await post(t, A('moderators', 'request-verification'), { email: 'mod@example.com' })).status).toBe(204);
    expect((await post(t, A('users', 'request-verification'), { email: 'ghost2@example.com' })).status).toBe(204);
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.messages.filter((m) => to('mod@example.com')(m) || to('ghost2@example.com')(m))).toEqual([]);
  });

  it('request-password-reset → link → confirm-password-reset → new password', async () => {
    const email = freshEmail('reset');
    await t.seed('users', { email, ...PW });
    expect((await post(t, A('users', 'request-password-reset'), { email })).status).toBe(204);
    const token = tokenFromMail(await sink.waitFor(to(email)), 'confirm-password-reset');
    const confirm = await post(t, A('users', 'confirm-password-reset'), { token, password: 'reset-password-1', passwordConfirm: 'reset-password-1' });
    expect(confirm.status).toBe(204);
    expect((await post(t, A('users', 'auth-with-password'), { identity: email, password: 'reset-password-1' })).status).toBe(200);
    expect((await post(t, A('users', 'auth-with-password'), { identity: email, password: PASSWORD })).status).toBe(400);
  });

  it('request-email-change mails the NEW address; confirm-email-change switches it', async () => {
    const email = freshEmail('before');
    const newEmail = freshEmail('after');
    const id = String((await t.seed('users', { email, ...PW }))['id']);
    const login = await post(t, A('users', 'auth-with-password'), { identity: email, password: PASSWORD });
    const old = String((login.body as { token: string }).token);
    expect((await post(t, A('users', 'request-email-change'), { newEmail }, old)).status).toBe(204);
    const mail = await sink.waitFor(to(newEmail));
    expect(sink.messages.filter(to(email))).toEqual([]);
    const token = tokenFromMail(mail, 'confirm-email-change');
    expect(jwtPart(token, 1)).toMatchObject({ id, type: 'emailChange', email, newEmail });
    expect((await post(t, A('users', 'confirm-email-change'), { token, password: PASSWORD })).status).toBe(204);
    expect((await stored(t, 'users', id))['email']).toBe(newEmail);
    expect((await post(t, A('users', 'auth-refresh'), {}, old)).status).toBe(401);
  });

  it('MFA: password first, then the mailed OTP with the mfaId', async () => {
    const first = await post(t, A('guarded', 'auth-with-password'), { identity: 'g1@example.com', password: PASSWORD });
    expect(first.status).toBe(401);
    expect(Object.keys(first.body as object)).toEqual(['mfaId']);
    const { mfaId } = first.body as { mfaId: string };
    sink.clear();
    const otp = await post(t, A('guarded', 'request-otp'), { email: 'g1@example.com' });
    const { otpId } = otp.body as { otpId: string };
    const code = otpFromMail(await sink.waitFor(to('g1@example.com')));
    const second = await post(t, A('guarded', 'auth-with-otp'), { otpId, password: code, mfaId });
    expect(second.status).toBe(200);
    expect((second.body as { record: { id: string } }).record.id).toBe(G1);
  });
});
