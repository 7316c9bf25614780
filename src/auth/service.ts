import { clearCounter, hitCounter, unhitCounter, type SqlRunner } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { DEFAULT_TEMPLATES, renderTemplate, type Mailer, type MailTemplate } from '../mail/index.js';
import { hashPassword, verifyNothing, verifyPassword } from '../passwords/index.js';
import { compileCondition, fmt, hasNocaseUniqueIndex, ident, sql } from '../query/index.js';
import { compileContext } from '../records/access.js';
import type { CollectionRuntime, RecordsRuntime } from '../records/runtime.js';
import { authRecordOf, newTokenKey, writeAuthFields, type RecordsDeps } from '../records/service.js';
import type { ApiRecord, AuthIdentity, RequestInfo } from '../records/types.js';
import { createMfa, createOtp, deleteExpiredOtps, findMfa, findOtp, finishMfa, liveOtps, MAX_LIVE_OTPS, randomDigits, randomId, useOtp } from './challenges.js';
import type { Logger } from '../log/index.js';
import type { Collection } from '../schema/index.js';
import type { Tokens } from './tokens.js';
import { checkForm, text, type Body } from './forms.js';

/** What the auth flows need; `runtime` is read per call so a --dev reload applies at once. */
export interface AuthDeps {
  runtime: () => RecordsRuntime;
  runner: SqlRunner;
  tokens: Tokens;
  mailer: Mailer;
  /** {APP_NAME} and {APP_URL} in emails. */
  app: { name: string; url: string };
  log: Logger;
  /** onRecordAuth hooks: after a successful sign-in, before the token; an error refuses it. */
  onAuth?(collection: Collection, record: ApiRecord, method: 'password' | 'otp'): Promise<void>;
}

/** A finished sign-in, or the first half of an MFA sign-in (answered 401 `{mfaId}`, §7.3). */
export type AuthOutcome = { kind: 'auth'; record: ApiRecord; token: string } | { kind: 'mfa'; mfaId: string };

type Method = 'password' | 'otp';

export const SUPERUSERS = '_superusers';

/** Wrong OTP codes allowed per record (across its codes) per window, as PocketBase's `@pb_otp_` limit. */
const MAX_OTP_FAILURES = 5;
const OTP_FAILURE_WINDOW_MS = 180_000;

/** A per-record counter in the database (db/counters.ts), so every node sees the same throttle. */
const otpFailuresKey = (rt: CollectionRuntime, id: string) => `otp-failures:${rt.collection.id}:${id}`;

// ---- lookups --------------------------------------------------------------------------------

/** The auth collection of the path; any other collection is a 404 with PocketBase's message. */
export function authCollection(deps: AuthDeps, name: string): CollectionRuntime {
  const rt = deps.runtime().find(name);
  if (!rt || rt.collection.type !== 'auth') throw new AppError('auth_collection_not_found');
  return rt;
}

/** The records service's view of these deps (its writes go through the one write pipeline). */
export function recordsOf(deps: AuthDeps): RecordsDeps {
  return { runtime: deps.runtime(), runner: deps.runner };
}

async function loadRecord(deps: AuthDeps, rt: CollectionRuntime, where: string, params: unknown[]): Promise<ApiRecord | null> {
  const rows = await deps.runner.all(`SELECT ${rt.selectList} FROM ${rt.table} r WHERE ${where} LIMIT 1`, params);
  return rows[0] ? rt.decode(rows[0]) : null;
}

/** By email, ignoring case; an exact match wins when both exist. */
export function findByEmail(deps: AuthDeps, rt: CollectionRuntime, email: string): Promise<ApiRecord | null> {
  if (email === '') return Promise.resolve(null);
  if (nocaseIdentity(rt, 'email')) return findNocase(deps, rt, 'email', email);
  return loadRecord(deps, rt, `lower(r."email") = lower(?) ORDER BY (r."email" = ?) DESC`, [email, email]);
}

/** An identity field (`passwordAuth.identityFields`): ignoring ASCII case when its unique index is COLLATE NOCASE, as in PocketBase. */
function findByField(deps: AuthDeps, rt: CollectionRuntime, field: string, value: string): Promise<ApiRecord | null> {
  if (field === 'email') return findByEmail(deps, rt, value);
  if (nocaseIdentity(rt, field)) return findNocase(deps, rt, field, value);
  return loadRecord(deps, rt, `r.${ident(field)} = ?`, [value]);
}

function nocaseIdentity(rt: CollectionRuntime, name: string): boolean {
  const field = rt.collection.fields.find((f) => f.name === name);
  return field !== undefined && hasNocaseUniqueIndex(rt.collection, field);
}

/** Served by the NOCASE index on either engine (see QueryDialect.equalsNocase). */
function findNocase(deps: AuthDeps, rt: CollectionRuntime, field: string, value: string): Promise<ApiRecord | null> {
  const condition = deps.runtime().dialect.equalsNocase(sql(`r.${ident(field)}`), sql('?', [value]));
  return loadRecord(deps, rt, condition.text, condition.values);
}

// ---- options --------------------------------------------------------------------------------

interface EnabledOption {
  enabled?: boolean;
}
const option = <T extends object>(rt: CollectionRuntime, key: string): (T & EnabledOption) | undefined => rt.collection[key] as (T & EnabledOption) | undefined;

export function passwordAuth(rt: CollectionRuntime): { enabled: boolean; identityFields: string[] } {
  const o = option<{ identityFields?: string[] }>(rt, 'passwordAuth');
  return { enabled: o?.enabled ?? true, identityFields: o?.identityFields ?? ['email'] };
}

function otpOptions(rt: CollectionRuntime): { enabled: boolean; duration: number; length: number; emailTemplate?: Partial<MailTemplate> } {
  const o = option<{ duration?: number; length?: number; emailTemplate?: Partial<MailTemplate> }>(rt, 'otp');
  return { enabled: o?.enabled ?? false, duration: o?.duration ?? 180, length: o?.length ?? 8, ...(o?.emailTemplate ? { emailTemplate: o.emailTemplate } : {}) };
}

function mfaOptions(rt: CollectionRuntime): { enabled: boolean; duration: number; rule: string } {
  const o = option<{ duration?: number; rule?: string }>(rt, 'mfa');
  return { enabled: o?.enabled ?? false, duration: o?.duration ?? 600, rule: o?.rule ?? '' };
}

/** GET auth-methods (§7.1): what the SDK and the admin panel offer on the sign-in screen. */
export function authMethods(deps: AuthDeps, collection: string): Record<string, unknown> {
  const rt = authCollection(deps, collection);
  const password = passwordAuth(rt);
  const otp = otpOptions(rt);
  const mfa = mfaOptions(rt);
  const identityFields = password.enabled ? password.identityFields : [];
  return {
    authProviders: [],
    emailPassword: identityFields.includes('email'),
    mfa: { duration: mfa.enabled ? mfa.duration : 0, enabled: mfa.enabled },
    oauth2: { enabled: false, providers: [] },
    otp: { duration: otp.enabled ? otp.duration : 0, enabled: otp.enabled },
    password: { enabled: password.enabled, identityFields },
    usernamePassword: identityFields.includes('username'),
  };
}

// ---- sign-in --------------------------------------------------------------------------------

/** POST auth-with-password: same 400 for an unknown identity and a wrong password, in the same time. */
export async function authWithPassword(deps: AuthDeps, collection: string, body: Body, info: RequestInfo, mfaId: string): Promise<AuthOutcome> {
  const rt = authCollection(deps, collection);
  const options = passwordAuth(rt);
  if (!options.enabled) throw new AppError('auth_method_disabled', 'The collection is not configured to allow password authentication.');
  const identity = text(body, 'identity');
  const password = text(body, 'password');
  const identityField = text(body, 'identityField');
  checkForm({ identity: { value: identity }, password: { value: password } });
  if (identityField !== '' && !options.identityFields.includes(identityField)) {
    throw new AppError('auth_invalid_data', undefined, { identityField: { code: 'validation_in_invalid', message: 'Must be a valid value.' } });
  }
  let record: ApiRecord | null = null;
  const fields = (identityField ? [identityField] : options.identityFields).filter((name) => rt.columns.some((c) => c.name === name));
  for (const field of fields) {
    record = await findByField(deps, rt, field, identity);
    if (record) break;
  }
  if (!record) {
    await verifyNothing(password);
    throw new AppError('auth_failed');
  }
  const check = await verifyPassword(password, String(record['password'] ?? ''));
  if (!check.ok) throw new AppError('auth_failed');
  if (check.needsRehash) await writeAuthFields(recordsOf(deps), rt, String(record['id']), { password: await hashPassword(password) });
  return finishAuth(deps, rt, record, 'password', mfaId, info);
}

/** POST request-otp: an unknown email gets a decoy otpId, so the answer reveals nothing. */
export async function requestOtp(deps: AuthDeps, collection: string, body: Body): Promise<{ otpId: string }> {
  const rt = authCollection(deps, collection);
  const options = otpOptions(rt);
  if (!options.enabled) throw new AppError('auth_method_disabled', 'The collection is not configured to allow OTP authentication.');
  const email = text(body, 'email');
  checkForm({ email: { value: email, email: true } });
  const record = await findByEmail(deps, rt, email);
  if (!record) return { otpId: randomId() };
  const recordId = String(record['id']);
  const expiredBefore = Date.now() - options.duration * 1000;
  const live = await liveOtps(deps, rt.collection.id, recordId, expiredBefore);
  if (live.length >= MAX_LIVE_OTPS) {
    // PocketBase: no 11th live code (and no email); the newest one, already mailed, is answered again.
    deps.log.warn({ collection: rt.collection.name, recordId, otpId: live[0] }, 'too many OTP requests: reusing the last issued');
    return { otpId: live[0]! };
  }
  await deleteExpiredOtps(deps, rt.collection.id, expiredBefore);
  const code = randomDigits(options.length);
  const otpId = await createOtp(deps, rt.collection.id, recordId, code, String(record['email']));
  sendMail(deps, String(record['email']), options.emailTemplate, DEFAULT_TEMPLATES.otp, { OTP: code, OTP_ID: otpId, record });
  return { otpId };
}

/** POST auth-with-otp: single use, expired after the collection's otp.duration, 5 wrong codes per record per 3 minutes. */
export async function authWithOtp(deps: AuthDeps, collection: string, body: Body, info: RequestInfo, mfaId: string): Promise<AuthOutcome> {
  const rt = authCollection(deps, collection);
  const options = otpOptions(rt);
  if (!options.enabled) throw new AppError('auth_method_disabled', 'The collection is not configured to allow OTP authentication.');
  const otpId = text(body, 'otpId');
  const password = text(body, 'password');
  checkForm({ otpId: { value: otpId }, password: { value: password, max: 71 } });
  const otp = await findOtp(deps, rt.collection.id, otpId);
  if (!otp || otp.createdAt + options.duration * 1000 < Date.now()) throw new AppError('otp_invalid');
  let record = await loadRecord(deps, rt, 'r."id" = ?', [otp.recordId]);
  if (!record) throw new AppError('otp_invalid');
  // Codes are short digit strings: attempts are counted per record across all its codes, before the
  // code is checked (parallel guesses cannot exceed the limit); a right code takes its attempt back.
  // After 5 wrong codes even the right one waits for the window to end, as in PocketBase.
  const failures = otpFailuresKey(rt, otp.recordId);
  if ((await hitCounter(deps.runner, failures, OTP_FAILURE_WINDOW_MS)).hits > MAX_OTP_FAILURES) {
    throw new AppError('rate_limited', 'Too many attempts, please try again later with a new OTP.');
  }
  if (!(await useOtp(deps, otp, password))) throw new AppError('otp_invalid');
  await unhitCounter(deps.runner, failures);
  // The code reached the record's own inbox: that proves the address, as a verification would.
  // Whoever set the password of an unverified account did not prove it, so (unless MFA still asks
  // for the password) that password is replaced: no pre-registered account can be taken over.
  if (otp.sentTo !== '' && otp.sentTo === record['email'] && record['verified'] !== true) {
    const changes: ApiRecord = { verified: true };
    if (!mfaOptions(rt).enabled) Object.assign(changes, { password: await hashPassword(randomId() + randomId()), tokenKey: newTokenKey() });
    await writeAuthFields(recordsOf(deps), rt, otp.recordId, changes);
    record = { ...record, ...changes };
  }
  return finishAuth(deps, rt, record, 'otp', mfaId, info);
}

/** POST auth-refresh: a fresh token for the requester; an impersonation token is returned as it is. */
export async function authRefresh(deps: AuthDeps, collection: string, info: RequestInfo): Promise<AuthOutcome> {
  const { rt, auth } = sameCollectionAuth(deps, collection, info);
  await checkAuthRule(deps, rt, auth.record, info);
  const token = auth.refreshable === false && auth.token ? auth.token : await deps.tokens.sign(rt, auth.record);
  return { kind: 'auth', record: auth.record, token };
}

/** POST impersonate/{id}: superusers only; the token cannot be refreshed. */
export async function impersonate(deps: AuthDeps, collection: string, id: string, body: Body, info: RequestInfo): Promise<AuthOutcome> {
  requireAuth(info);
  if (!info.superuser) throw new AppError('forbidden');
  const rt = authCollection(deps, collection);
  const raw = body['duration'];
  const duration = raw === undefined || raw === null || raw === '' ? 0 : Number(raw);
  if (!Number.isInteger(duration) || duration < 0 || duration > 10 * 365 * 86_400) {
    throw new AppError('auth_invalid_data', undefined, { duration: { code: 'validation_min_greater_equal_than_required', message: 'Must be a whole number of seconds, 0 or more.' } });
  }
  const record = await loadRecord(deps, rt, 'r."id" = ?', [id]);
  if (!record) throw new AppError('not_found');
  const token = await deps.tokens.sign(rt, record, 'auth', { refreshable: false, duration });
  return { kind: 'auth', record, token };
}

/**
 * The common end of every sign-in: the authRule (evaluated with `@request.auth` = the requester),
 * then MFA when the collection asks for it (§7.3), then a token.
 */
async function finishAuth(deps: AuthDeps, rt: CollectionRuntime, record: ApiRecord, method: Method, mfaId: string, info: RequestInfo): Promise<AuthOutcome> {
  await checkAuthRule(deps, rt, record, info);
  const mfa = mfaOptions(rt);
  if (mfa.enabled && (await matchesRule(deps, rt, mfa.rule, record, info))) {
    if (mfaId === '') return { kind: 'mfa', mfaId: await createMfa(deps, rt.collection.id, String(record['id']), method, Date.now() - mfa.duration * 1000) };
    const session = await findMfa(deps, rt.collection.id, mfaId);
    if (!session || session.recordId !== record['id'] || session.createdAt + mfa.duration * 1000 < Date.now()) throw new AppError('mfa_invalid');
    if (session.method === method) throw new AppError('mfa_same_method');
    if (!(await finishMfa(deps, session.id))) throw new AppError('mfa_invalid');
  }
  await deps.onAuth?.(rt.collection, record, method);
  return { kind: 'auth', record, token: await deps.tokens.sign(rt, record) };
}

async function checkAuthRule(deps: AuthDeps, rt: CollectionRuntime, record: ApiRecord, info: RequestInfo): Promise<void> {
  const rule = rt.collection.authRule;
  if (rule === null) throw new AppError('auth_rule_refused');
  if (!(await matchesRule(deps, rt, rule ?? '', record, info))) throw new AppError('auth_rule_refused');
}

/** Whether a rule text holds for the stored record, with the requester's `@request.*`. */
async function matchesRule(deps: AuthDeps, rt: CollectionRuntime, rule: string, record: ApiRecord, info: RequestInfo): Promise<boolean> {
  if (rule.trim() === '') return true;
  const runtime = deps.runtime();
  const cond = compileCondition(compileContext(runtime, info), rt.collection, 'r', runtime.parseRule(rt.collection, rule));
  const check = fmt`SELECT 1 AS "ok" FROM ${sql(rt.table)} r WHERE r."id" = ? AND ${cond}`;
  return (await deps.runner.all(check.text, [record['id'], ...check.values])).length > 0;
}

function requireAuth(info: RequestInfo): AuthIdentity {
  if (!info.auth) throw new AppError('unauthorized');
  return info.auth;
}

/**
 * PocketBase's RequireSameCollectionContextAuth, which runs before the endpoint looks at its
 * collection: a guest gets 401 and a record of any other collection 403, even when the path names
 * a base collection. Only an unknown collection is a 404 first.
 */
export function sameCollectionAuth(deps: AuthDeps, name: string, info: RequestInfo): { rt: CollectionRuntime; auth: AuthIdentity } {
  const rt = deps.runtime().find(name);
  if (!rt) throw new AppError('auth_collection_not_found');
  const auth = requireAuth(info);
  if (auth.collection.id !== rt.collection.id) throw new AppError('auth_other_collection', `The request requires auth record from ${auth.collection.name} collection.`);
  return { rt, auth };
}

/**
 * The JSON of an auth response: `{record, token}` with the record as the newly signed-in user
 * sees itself (email shown, `expand` resolved with its rights).
 */
export async function authResponse(deps: AuthDeps, collection: string, outcome: Extract<AuthOutcome, { kind: 'auth' }>, expand: string | undefined, info: RequestInfo): Promise<Record<string, unknown>> {
  const rt = authCollection(deps, collection);
  const viewer: RequestInfo = { ...info, auth: { collection: rt.collection, record: outcome.record }, superuser: rt.collection.name === SUPERUSERS };
  const record = await authRecordOf({ runtime: deps.runtime(), runner: deps.runner }, rt, String(outcome.record['id']), expand, viewer);
  return { record, token: outcome.token };
}

// ---- email ----------------------------------------------------------------------------------

export function templateOf(rt: CollectionRuntime, key: string): Partial<MailTemplate> | undefined {
  return rt.collection[key] as Partial<MailTemplate> | undefined;
}

/**
 * Renders and sends in the background: the request answers as fast for an address that gets a
 * message as for one that does not (no enumeration by timing), and a mail server outage is logged
 * rather than turned into a different answer. A message that could not be sent releases its resend
 * throttle, so asking again works at once.
 */
export function sendMail(deps: AuthDeps, to: string, template: Partial<MailTemplate> | undefined, fallback: MailTemplate, vars: { TOKEN?: string; OTP?: string; OTP_ID?: string; record: ApiRecord }, throttle?: string): void {
  const { password: _password, tokenKey: _tokenKey, ...record } = vars.record;
  const { subject, html } = renderTemplate(template, fallback, { APP_NAME: deps.app.name, APP_URL: deps.app.url, ...vars, record });
  deps.mailer.send({ to, subject, html }).catch(async (err: unknown) => {
    deps.log.error({ err, to, subject }, 'email not sent');
    if (throttle) await clearCounter(deps.runner, throttle).catch((e: unknown) => deps.log.warn({ err: e }, 'resend throttle not released'));
  });
}
