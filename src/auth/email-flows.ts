/**
 * The flows that go through an email link (PocketBase's request-* / confirm-* endpoints):
 * verification, password reset and email change, with PocketBase's per-record resend throttle.
 */
import { clearCounter, hitCounter } from '../db/index.js';
import { AppError, type FieldError } from '../errors/index.js';
import { DEFAULT_TEMPLATES, type MailTemplate } from '../mail/index.js';
import { hashPassword, verifyPassword } from '../passwords/index.js';
import type { CollectionRuntime } from '../records/runtime.js';
import { newTokenKey, writeAuthFields } from '../records/service.js';
import type { ApiRecord, RequestInfo } from '../records/types.js';
import { randomId } from './challenges.js';
import { checkForm, formErrors, refuseIfAny, text, type Body } from './forms.js';
import { authCollection, findByEmail, passwordAuth, recordsOf, sameCollectionAuth, sendMail, SUPERUSERS, templateOf, type AuthDeps } from './service.js';
import { decodedPayload, type Claims, type TokenKind } from './tokens.js';

/** PocketBase sends at most one verification or password-reset email per record per 2 minutes. */
const RESEND_WINDOW_MS = 120_000;
const resendKey = (kind: 'verification' | 'passwordReset', rt: CollectionRuntime, id: string) => `resend:${kind}:${rt.collection.id}:${id}`;

/**
 * Signs a verification or reset token for the record and mails the link, once per record per resend
 * window: later requests within 2 minutes send nothing (the answer stays 204).
 */
async function mailLink(deps: AuthDeps, rt: CollectionRuntime, record: ApiRecord, kind: 'verification' | 'passwordReset', template: Partial<MailTemplate> | undefined, fallback: MailTemplate): Promise<void> {
  const throttle = resendKey(kind, rt, String(record['id']));
  if ((await hitCounter(deps.runner, throttle, RESEND_WINDOW_MS)).hits > 1) return;
  const token = await deps.tokens.sign(rt, record, kind, { extra: { email: String(record['email']) } });
  sendMail(deps, String(record['email']), template, fallback, { TOKEN: token, record }, throttle);
}

const INVALID_TOKEN: FieldError = { code: 'validation_invalid_token', message: 'Invalid or expired token.' };
const COLLECTION_MISMATCH: FieldError = { code: 'validation_token_collection_mismatch', message: 'The provided token is for different auth collection.' };
const SUPERUSERS_VERIFIED = 'All superusers are verified by default.';

type TokenCheck = { ok: true; record: ApiRecord; claims: Claims } | { ok: false; error: FieldError };

/**
 * A verification, password-reset or email-change token for a record of `rt`, or the error PocketBase
 * puts on `token`: a token that verifies for another auth collection is a mismatch, not just invalid.
 */
async function checkToken(deps: AuthDeps, rt: CollectionRuntime, token: string, kind: TokenKind): Promise<TokenCheck> {
  const found = await deps.tokens.verifyAny(token, kind);
  if (!found) return { ok: false, error: INVALID_TOKEN };
  if (found.rt.collection.id !== rt.collection.id) return { ok: false, error: COLLECTION_MISMATCH };
  return { ok: true, record: found.record, claims: found.claims };
}

/** POST request-verification: always 204 (no enumeration); only unverified records get a message. */
export async function requestVerification(deps: AuthDeps, collection: string, body: Body): Promise<void> {
  const rt = authCollection(deps, collection);
  if (rt.collection.name === SUPERUSERS) throw new AppError('bad_request', SUPERUSERS_VERIFIED);
  const email = text(body, 'email');
  checkForm({ email: { value: email, email: true } });
  const record = await findByEmail(deps, rt, email);
  if (!record || record['verified'] === true) return;
  await mailLink(deps, rt, record, 'verification', templateOf(rt, 'verificationTemplate'), DEFAULT_TEMPLATES.verification);
}

/** POST confirm-verification: the token's email must still be the record's. */
export async function confirmVerification(deps: AuthDeps, collection: string, body: Body): Promise<void> {
  const rt = authCollection(deps, collection);
  if (rt.collection.name === SUPERUSERS) throw new AppError('bad_request', SUPERUSERS_VERIFIED);
  const token = text(body, 'token');
  const errors = formErrors({ token: { value: token, max: 4096 } });
  let record: ApiRecord | null = null;
  if (!errors['token']) {
    const email = decodedPayload(token)['email'];
    const check = typeof email === 'string' && email !== '' ? await checkToken(deps, rt, token, 'verification') : null;
    if (!check) errors['token'] = { code: 'validation_invalid_token_claims', message: 'Missing email token claim.' };
    else if (!check.ok) errors['token'] = check.error;
    else if (check.record['email'] !== email) errors['token'] = { code: 'validation_token_email_mismatch', message: "The record email doesn't match with the requested token claims." };
    else record = check.record;
  }
  refuseIfAny(errors);
  if (!record) return; // unreachable: a token error was refused above
  await clearCounter(deps.runner, resendKey('verification', rt, String(record['id'])));
  if (record['verified'] === true) return;
  const changes: ApiRecord = { verified: true };
  // Without password sign-in, a password set before the address was proven must not linger (PocketBase).
  if (!passwordAuth(rt).enabled) Object.assign(changes, { password: await hashPassword(randomId() + randomId()), tokenKey: newTokenKey() });
  await writeAuthFields(recordsOf(deps), rt, String(record['id']), changes);
}

/** POST request-password-reset: always 204 for a well-formed email. */
export async function requestPasswordReset(deps: AuthDeps, collection: string, body: Body): Promise<void> {
  const rt = authCollection(deps, collection);
  if (!passwordAuth(rt).enabled) throw new AppError('bad_request', 'The collection is not configured to allow password authentication.');
  const email = text(body, 'email');
  checkForm({ email: { value: email, email: true } });
  const record = await findByEmail(deps, rt, email);
  if (!record) return;
  await mailLink(deps, rt, record, 'passwordReset', templateOf(rt, 'resetPasswordTemplate'), DEFAULT_TEMPLATES.resetPassword);
}

/** POST confirm-password-reset: a new password (field min/max) rotates tokenKey, killing every old token. */
export async function confirmPasswordReset(deps: AuthDeps, collection: string, body: Body): Promise<void> {
  const rt = authCollection(deps, collection);
  const token = text(body, 'token');
  const password = text(body, 'password');
  const confirm = text(body, 'passwordConfirm');
  const field = rt.collection.fields.find((f) => f.name === 'password');
  const min = Number(field?.['min'] ?? 0) || 8;
  const max = Math.min(Number(field?.['max'] ?? 0) || 255, 255);
  const errors = formErrors({ token: { value: token, max: 4096 }, password: { value: password, min, max }, passwordConfirm: { value: confirm, max: Infinity } });
  if (!errors['passwordConfirm'] && confirm !== password) errors['passwordConfirm'] = { code: 'validation_values_mismatch', message: "Values don't match." };
  const check = errors['token'] ? null : await checkToken(deps, rt, token, 'passwordReset');
  if (check && !check.ok) errors['token'] = check.error;
  refuseIfAny(errors);
  if (!check?.ok) return; // unreachable: a token error was refused above
  const changes: ApiRecord = { password: await hashPassword(password), tokenKey: newTokenKey() };
  // The reset link reached that inbox, which proves the address.
  if (check.claims['email'] === check.record['email']) changes['verified'] = true;
  await writeAuthFields(recordsOf(deps), rt, String(check.record['id']), changes);
  await clearCounter(deps.runner, resendKey('passwordReset', rt, String(check.record['id'])));
}

/** POST request-email-change: the signed-in record of this collection asks; the link goes to the new address. */
export async function requestEmailChange(deps: AuthDeps, collection: string, body: Body, info: RequestInfo): Promise<void> {
  const { rt, auth } = sameCollectionAuth(deps, collection, info);
  noSuperuserEmailChange(rt);
  const newEmail = text(body, 'newEmail');
  checkForm({ newEmail: { value: newEmail, email: true } });
  const taken = await findByEmail(deps, rt, newEmail);
  if (taken) throw new AppError('auth_invalid_data', undefined, { newEmail: { code: 'validation_invalid_new_email', message: 'Invalid new email address.' } });
  const record = auth.record;
  const token = await deps.tokens.sign(rt, record, 'emailChange', { extra: { email: String(record['email']), newEmail } });
  sendMail(deps, newEmail, templateOf(rt, 'confirmEmailChangeTemplate'), DEFAULT_TEMPLATES.confirmEmailChange, { TOKEN: token, record });
}

/** POST confirm-email-change: needs the account password; sets the new email, verified, and a new tokenKey. */
export async function confirmEmailChange(deps: AuthDeps, collection: string, body: Body): Promise<void> {
  const rt = authCollection(deps, collection);
  noSuperuserEmailChange(rt);
  const token = text(body, 'token');
  const password = text(body, 'password');
  const errors = formErrors({ token: { value: token, max: 4096 }, password: { value: password, max: 100 } });
  const parsed = errors['token'] ? null : await emailChangeToken(deps, rt, token);
  if (parsed && !parsed.ok) errors['token'] = parsed.error;
  // As in PocketBase, the password is checked against the token's record: no record, no valid password.
  if (!errors['password'] && !(parsed?.ok && (await verifyPassword(password, String(parsed.record['password'] ?? ''))).ok)) {
    errors['password'] = { code: 'validation_invalid_password', message: 'Missing or invalid auth record password.' };
  }
  refuseIfAny(errors);
  if (!parsed?.ok) return; // unreachable: a token error was refused above
  await writeAuthFields(recordsOf(deps), rt, String(parsed.record['id']), { email: parsed.newEmail, verified: true, tokenKey: newTokenKey() });
}

/** The record and new address of an email-change token, or PocketBase's error for `token`. */
async function emailChangeToken(deps: AuthDeps, rt: CollectionRuntime, token: string): Promise<{ ok: true; record: ApiRecord; newEmail: string } | { ok: false; error: FieldError }> {
  const newEmail = decodedPayload(token)['newEmail'];
  if (typeof newEmail !== 'string' || newEmail === '') return { ok: false, error: { code: 'validation_invalid_token_payload', message: 'Invalid token payload - newEmail must be set.' } };
  const check = await checkToken(deps, rt, token, 'emailChange');
  if (!check.ok) return check;
  // tokenKey rotates with every email change; this also refuses a token minted for an address the record no longer has.
  if (check.claims['email'] !== check.record['email']) return { ok: false, error: INVALID_TOKEN };
  if (await findByEmail(deps, rt, newEmail)) return { ok: false, error: { code: 'validation_invalid_token_email', message: 'The new email address is invalid.' } };
  return { ok: true, record: check.record, newEmail };
}

/** PocketBase: superusers set their email directly (PATCH), never through the email flow. */
function noSuperuserEmailChange(rt: CollectionRuntime): void {
  if (rt.collection.name === SUPERUSERS) throw new AppError('bad_request', 'All superusers can change their emails directly.');
}
