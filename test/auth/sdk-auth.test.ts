/**
 * The unmodified `pocketbase` SDK (0.28) doing auth against a listening Galley (pocketbase-api.md
 * §7, §12.3): password sign-in and refresh, superusers, password reset / verification / email
 * change with the tokens taken from the emails an SMTP sink received, OTP, MFA, impersonation,
 * listAuthMethods, and how failures surface as ClientResponseError.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import PocketBase, { getTokenPayload } from 'pocketbase';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, EXAMPLE_COLLECTIONS, TEST_APP_URL, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { sdkError } from '../helpers/sdk.js';
import { otpFromMail, startSmtpSink, tokenFromMail, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink.js';

const PASSWORD = 'password123';
const PW = { password: PASSWORD, passwordConfirm: PASSWORD };
const ROOT_EMAIL = 'root@example.com';
const ROOT_PASSWORD = 'root-password-1';

const example = (name: string) => JSON.parse(readFileSync(join(EXAMPLE_COLLECTIONS, `${name}.json`), 'utf8')) as Record<string, unknown>;
const SELF = { listRule: 'id = @request.auth.id', viewRule: 'id = @request.auth.id', createRule: null, updateRule: 'id = @request.auth.id', deleteRule: null };

const COLLECTIONS: Record<string, unknown>[] = [
  example('users'),
  example('moderators'),
  { name: 'teams', listRule: '', viewRule: '', createRule: null, updateRule: null, deleteRule: null, fields: [{ name: 'title', type: 'text' }] },
  {
    name: 'members',
    type: 'auth',
    ...SELF,
    passwordAuth: { enabled: true, identityFields: ['email', 'username'] },
    otp: { enabled: true, duration: 180, length: 6 },
    mfa: { enabled: false, duration: 600, rule: '' },
    fields: [
      { name: 'password', type: 'password', min: 8 },
      { name: 'username', type: 'text', max: 40 },
      { name: 'team', type: 'relation', collection: 'teams', maxSelect: 1 },
    ],
    indexes: ['CREATE UNIQUE INDEX idx_members_username ON members (username)'],
  },
  {
    name: 'guarded',
    type: 'auth',
    ...SELF,
    otp: { enabled: true, duration: 180, length: 6 },
    mfa: { enabled: true, duration: 600, rule: '' },
    fields: [{ name: 'password', type: 'password', min: 8 }],
  },
];

let n = 0;
const freshEmail = (p: string) => `${p}${++n}_${Date.now().toString(36)}@example.com`;


describe.each(DIALECTS)('pocketbase SDK auth against Galley (%s)', (dialect) => {
  let sink: SmtpSink;
  let t: TestApp;
  let baseURL: string;
  let annId: string;
  let memberId: string;
  let guardedId: string;
  let teamId: string;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp(dialect, COLLECTIONS, { smtpUrl: sink.url });
    baseURL = await t.listen();
    await t.seed('_superusers', { email: ROOT_EMAIL, password: ROOT_PASSWORD, passwordConfirm: ROOT_PASSWORD });
    annId = String((await t.seed('users', { email: 'ann@example.com', name: 'Ann', ...PW }))['id']);
    await t.seed('users', { email: 'bob@example.com', name: 'Bob', emailVisibility: true, ...PW });
    teamId = String((await t.seed('teams', { title: 'Core' }))['id']);
    memberId = String((await t.seed('members', { email: 'mem@example.com', username: 'mem_one', team: teamId, ...PW }))['id']);
    guardedId = String((await t.seed('guarded', { email: 'guard@example.com', ...PW }))['id']);
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });
  beforeEach(() => sink.clear());

  const client = () => {
    const pb = new PocketBase(baseURL);
    pb.autoCancellation(false);
    return pb;
  };
  const to = (address: string) => (m: ReceivedMail) => m.to.includes(address);
  const superuser = async () => {
    const pb = client();
    await pb.collection('_superusers').authWithPassword(ROOT_EMAIL, ROOT_PASSWORD);
    return pb;
  };

  it('authWithPassword: token + record in the authStore, valid, not a superuser; the token authorizes requests', async () => {
    const pb = client();
    const auth = await pb.collection('users').authWithPassword('ann@example.com', PASSWORD);
    expect(auth.token).toBe(pb.authStore.token);
    expect(auth.record.id).toBe(annId);
    expect(auth.record['email']).toBe('ann@example.com'); // shown although emailVisibility is false
    expect(auth.record).not.toHaveProperty('password');
    expect(auth.record).not.toHaveProperty('tokenKey');
    expect(auth.record.collectionName).toBe('users');
    expect(pb.authStore.isValid).toBe(true);
    expect(pb.authStore.isSuperuser).toBe(false);
    expect(pb.authStore.record?.id).toBe(annId);
    expect(getTokenPayload(auth.token)).toMatchObject({ id: annId, type: 'auth', refreshable: true, collectionId: auth.record.collectionId });
    // users only list themselves
    const list = await pb.collection('users').getFullList();
    expect(list.map((r) => r.id)).toEqual([annId]);
  });

  it('authWithPassword by username, with expand', async () => {
    const pb = client();
    const auth = await pb.collection('members').authWithPassword('mem_one', PASSWORD, { expand: 'team' });
    expect(auth.record.id).toBe(memberId);
    expect(auth.record['expand']).toMatchObject({ team: { id: teamId, title: 'Core' } });
  });

  it('authWithPassword failures: ClientResponseError with status and response.data', async () => {
    const pb = client();
    const wrong = await sdkError(() => pb.collection('users').authWithPassword('ann@example.com', 'wrong-password'));
    expect(wrong.status).toBe(400);
    expect(wrong.response).toMatchObject({ status: 400, code: 'auth_failed', message: 'Failed to authenticate.', data: {} });
    expect(wrong.message).toBe('Failed to authenticate.');
    expect(wrong.isAbort).toBe(false);
    expect(wrong.url).toContain('/api/collections/users/auth-with-password');
    expect(pb.authStore.isValid).toBe(false);

    const blank = await sdkError(() => pb.collection('users').authWithPassword('', ''));
    expect(blank.status).toBe(400);
    expect(blank.response['data']).toMatchObject({ identity: { code: 'validation_required' }, password: { code: 'validation_required' } });

    const notAuth = await sdkError(() => pb.collection('teams').authWithPassword('ann@example.com', PASSWORD));
    expect(notAuth.status).toBe(404);
    expect(notAuth.message).toBe('Missing or invalid auth collection context.');
  });

  it('authRefresh renews the token and keeps the store valid; without a token it is a 401', async () => {
    const pb = client();
    await pb.collection('users').authWithPassword('ann@example.com', PASSWORD);
    const refreshed = await pb.collection('users').authRefresh();
    expect(refreshed.record.id).toBe(annId);
    expect(pb.authStore.token).toBe(refreshed.token);
    expect(pb.authStore.isValid).toBe(true);
    expect(getTokenPayload(refreshed.token)['refreshable']).toBe(true);

    pb.authStore.clear();
    const err = await sdkError(() => pb.collection('users').authRefresh());
    expect(err.status).toBe(401);
    expect(err.response['data']).toEqual({});

    // another collection's token → 403
    await pb.collection('members').authWithPassword('mem@example.com', PASSWORD);
    const other = await sdkError(() => pb.collection('users').authRefresh());
    expect(other.status).toBe(403);
  });

  it('_superusers sign-in: authStore.isSuperuser, and superuser powers', async () => {
    const pb = client();
    const auth = await pb.collection('_superusers').authWithPassword(ROOT_EMAIL, ROOT_PASSWORD);
    expect(auth.record.collectionName).toBe('_superusers');
    expect(auth.record.collectionId).toBe('pbc_3142635823');
    expect(pb.authStore.isSuperuser).toBe(true);
    expect(pb.authStore.isValid).toBe(true);
    expect((await pb.collection('users').getFullList()).length).toBeGreaterThanOrEqual(2);
    // the SDK's superuser detection also works from the token alone (no record)
    const tokenOnly = client();
    tokenOnly.authStore.save(auth.token, null);
    expect(tokenOnly.authStore.isSuperuser).toBe(true);
    await pb.collection('_superusers').authRefresh();
    expect(pb.authStore.isSuperuser).toBe(true);
  });

  it('requestPasswordReset → token from the email → confirmPasswordReset → the new password signs in', async () => {
    const email = freshEmail('reset');
    await t.seed('users', { email, ...PW });
    const pb = client();
    const signedIn = client();
    await signedIn.collection('users').authWithPassword(email, PASSWORD);

    expect(await pb.collection('users').requestPasswordReset(email)).toBe(true);
    const mail = await sink.waitFor(to(email));
    expect(mail.html).toContain(`${TEST_APP_URL}/_/#/auth/confirm-password-reset/`);
    const token = tokenFromMail(mail, 'confirm-password-reset');
    expect(getTokenPayload(token)).toMatchObject({ type: 'passwordReset', email });

    const short = await sdkError(() => pb.collection('users').confirmPasswordReset(token, 'short', 'short'));
    expect(short.status).toBe(400);
    expect(short.response['data']).toHaveProperty('password');
    const mismatch = await sdkError(() => pb.collection('users').confirmPasswordReset(token, 'new-password-1', 'new-password-2'));
    expect(mismatch.response['data']).toMatchObject({ passwordConfirm: { code: 'validation_values_mismatch' } });

    expect(await pb.collection('users').confirmPasswordReset(token, 'new-password-1', 'new-password-1')).toBe(true);
    await pb.collection('users').authWithPassword(email, 'new-password-1');
    expect(pb.authStore.isValid).toBe(true);
    const old = await sdkError(() => client().collection('users').authWithPassword(email, PASSWORD));
    expect(old.status).toBe(400);
    // the session from before the reset is gone
    expect((await sdkError(() => signedIn.collection('users').authRefresh())).status).toBe(401);
    // an unknown address is answered the same way, and nothing is sent
    expect(await pb.collection('users').requestPasswordReset('nobody@example.com')).toBe(true);
  });

  it('requestVerification → confirmVerification: the record is verified (and the SDK updates its store)', async () => {
    const email = freshEmail('verify');
    const id = String((await t.seed('users', { email, ...PW }))['id']);
    const pb = client();
    const auth = await pb.collection('users').authWithPassword(email, PASSWORD);
    expect(auth.record['verified']).toBe(false);

    expect(await pb.collection('users').requestVerification(email)).toBe(true);
    const token = tokenFromMail(await sink.waitFor(to(email)), 'confirm-verification');
    expect(getTokenPayload(token)).toMatchObject({ id, type: 'verification', email });
    expect(await pb.collection('users').confirmVerification(token)).toBe(true);
    expect(pb.authStore.record?.['verified']).toBe(true);
    expect((await pb.collection('users').getOne(id))['verified']).toBe(true);
    expect((await pb.collection('users').authRefresh()).record['verified']).toBe(true);

    const bad = await sdkError(() => pb.collection('users').confirmVerification('garbage'));
    expect(bad.status).toBe(400);
    expect(bad.response['data']).toMatchObject({ token: { code: 'validation_invalid_token_claims' } });
    const su = await sdkError(() => pb.collection('_superusers').requestVerification(ROOT_EMAIL));
    expect(su.status).toBe(400);
  });

  it('requestEmailChange → confirmEmailChange: new email, verified, the SDK clears its store, old tokens die', async () => {
    const email = freshEmail('before');
    const newEmail = freshEmail('after');
    const id = String((await t.seed('users', { email, ...PW }))['id']);
    const pb = client();
    await pb.collection('users').authWithPassword(email, PASSWORD);
    const oldToken = pb.authStore.token;

    const taken = await sdkError(() => pb.collection('users').requestEmailChange('bob@example.com'));
    expect(taken.status).toBe(400);
    expect(taken.response['data']).toMatchObject({ newEmail: { code: 'validation_invalid_new_email' } });
    const guest = await sdkError(() => client().collection('users').requestEmailChange(newEmail));
    expect(guest.status).toBe(401);

    expect(await pb.collection('users').requestEmailChange(newEmail)).toBe(true);
    const token = tokenFromMail(await sink.waitFor(to(newEmail)), 'confirm-email-change');
    expect(getTokenPayload(token)).toMatchObject({ id, type: 'emailChange', email, newEmail });

    const wrong = await sdkError(() => pb.collection('users').confirmEmailChange(token, 'wrong-password'));
    expect(wrong.response['data']).toMatchObject({ password: { code: 'validation_invalid_password' } });

    expect(await pb.collection('users').confirmEmailChange(token, PASSWORD)).toBe(true);
    expect(pb.authStore.token).toBe(''); // the SDK signs the record out
    const again = client();
    again.authStore.save(oldToken, null);
    expect((await sdkError(() => again.collection('users').authRefresh())).status).toBe(401);
    const auth = await client().collection('users').authWithPassword(newEmail, PASSWORD);
    expect(auth.record['email']).toBe(newEmail);
    expect(auth.record['verified']).toBe(true);
  });

  it('requestOTP → code from the email → authWithOTP', async () => {
    const pb = client();
    const { otpId } = await pb.collection('members').requestOTP('mem@example.com');
    expect(otpId).toMatch(/^[a-z0-9]{15}$/);
    const code = otpFromMail(await sink.waitFor(to('mem@example.com')));
    expect(code).toMatch(/^\d{6}$/);

    const wrong = await sdkError(() => pb.collection('members').authWithOTP(otpId, code === '000000' ? '111111' : '000000'));
    expect(wrong.status).toBe(400);
    expect(wrong.message).toBe('Invalid or expired OTP.');

    const auth = await pb.collection('members').authWithOTP(otpId, code);
    expect(auth.record.id).toBe(memberId);
    expect(pb.authStore.isValid).toBe(true);
    expect(pb.authStore.record?.id).toBe(memberId);
    // single use
    expect((await sdkError(() => client().collection('members').authWithOTP(otpId, code))).status).toBe(400);
    // OTP disabled on users
    expect((await sdkError(() => client().collection('users').requestOTP('ann@example.com'))).status).toBe(403);
  });

  it('MFA: authWithPassword throws 401 with response.mfaId; authWithOTP(otpId, code, { mfaId }) completes', async () => {
    const pb = client();
    const first = await sdkError(() => pb.collection('guarded').authWithPassword('guard@example.com', PASSWORD));
    expect(first.status).toBe(401);
    const mfaId = String(first.response['mfaId']);
    expect(mfaId).toMatch(/^[a-z0-9]{15}$/);
    expect(Object.keys(first.response)).toEqual(['mfaId']);
    expect(pb.authStore.isValid).toBe(false);

    const { otpId } = await pb.collection('guarded').requestOTP('guard@example.com');
    const code = otpFromMail(await sink.waitFor(to('guard@example.com')));
    const auth = await pb.collection('guarded').authWithOTP(otpId, code, { mfaId });
    expect(auth.record.id).toBe(guardedId);
    expect(pb.authStore.isValid).toBe(true);

    // the same method twice is refused
    const again = await sdkError(() => client().collection('guarded').authWithPassword('guard@example.com', PASSWORD));
    const twice = await sdkError(() => client().collection('guarded').authWithPassword('guard@example.com', PASSWORD, { mfaId: String(again.response['mfaId']) }));
    expect(twice.status).toBe(400);
    expect(twice.message).toBe('A different authentication method is required.');
  });

  it('impersonate as a superuser: a new client with a non-refreshable token for that record', async () => {
    const root = await superuser();
    const impersonated = await root.collection('users').impersonate(annId, 3600);
    expect(impersonated).toBeInstanceOf(PocketBase);
    expect(impersonated.authStore.isValid).toBe(true);
    expect(impersonated.authStore.isSuperuser).toBe(false);
    expect(impersonated.authStore.record?.id).toBe(annId);
    const payload = getTokenPayload(impersonated.authStore.token);
    expect(payload).toMatchObject({ id: annId, type: 'auth', refreshable: false });
    expect(Math.abs(Number(payload['exp']) - (Math.floor(Date.now() / 1000) + 3600))).toBeLessThanOrEqual(5);
    // the superuser's own session is untouched
    expect(root.authStore.isSuperuser).toBe(true);
    // the impersonated client acts as Ann
    expect((await impersonated.collection('users').getFullList()).map((r) => r.id)).toEqual([annId]);
    // refreshing a non-refreshable token returns it unchanged
    const before = impersonated.authStore.token;
    const refreshed = await impersonated.collection('users').authRefresh();
    expect(refreshed.token).toBe(before);

    // only superusers may impersonate
    const ann = client();
    await ann.collection('users').authWithPassword('ann@example.com', PASSWORD);
    const denied = await sdkError(() => ann.collection('users').impersonate(annId, 60));
    expect(denied.status).toBe(403);
    expect((await sdkError(() => client().collection('users').impersonate(annId, 60))).status).toBe(401);
    expect((await sdkError(() => root.collection('users').impersonate('missing00000000', 60))).status).toBe(404);
  });

  it('listAuthMethods()', async () => {
    const methods = await client().collection('members').listAuthMethods();
    expect(Object.keys(methods).sort()).toEqual(['mfa', 'oauth2', 'otp', 'password']);
    expect(methods.password).toEqual({ enabled: true, identityFields: ['email', 'username'] });
    expect(methods.otp).toEqual({ enabled: true, duration: 180 });
    expect(methods.mfa).toEqual({ enabled: false, duration: 0 });
    expect(methods.oauth2).toEqual({ enabled: false, providers: [] });
    expect((await client().collection('guarded').listAuthMethods()).mfa).toEqual({ enabled: true, duration: 600 });
    expect((await client().collection('users').listAuthMethods()).otp).toEqual({ enabled: false, duration: 0 });
    const err = await sdkError(() => client().collection('teams').listAuthMethods());
    expect(err.status).toBe(404);
  });

  it('authRule: an unverified moderator is refused (403), a verified one gets in', async () => {
    await t.seed('moderators', { email: 'm1@example.com', verified: false, password: 'moderator123', passwordConfirm: 'moderator123' });
    await t.seed('moderators', { email: 'm2@example.com', verified: true, password: 'moderator123', passwordConfirm: 'moderator123' });
    const refused = await sdkError(() => client().collection('moderators').authWithPassword('m1@example.com', 'moderator123'));
    expect(refused.status).toBe(403);
    expect(refused.response['data']).toEqual({});
    const pb = client();
    await pb.collection('moderators').authWithPassword('m2@example.com', 'moderator123');
    // moderators see every user (users' listRule)
    expect((await pb.collection('users').getFullList()).length).toBeGreaterThanOrEqual(2);
  });
});
