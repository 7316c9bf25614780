import { Router, type Request, type RequestHandler } from 'express';
import { confirmEmailChange, confirmPasswordReset, confirmVerification, requestEmailChange, requestPasswordReset, requestVerification } from '../auth/email-flows.js';
import { authMethods, authRefresh, authResponse, authWithOtp, authWithPassword, impersonate, requestOtp, type AuthDeps, type AuthOutcome } from '../auth/service.js';
import { AppError } from '../errors/index.js';
import type { AuthLimiters } from '../ratelimit/index.js';
import { compileFieldsPicker } from '../records/fields-picker.js';
import type { RequestInfo } from '../records/types.js';
import { readRequestBody } from './body.js';
import type { Reply } from './reply.js';
import { queryString, requestInfo } from './request-info.js';
import { authOf, handle, type RecordsHttpDeps } from './routes-records.js';

export interface AuthHttpDeps {
  auth: AuthDeps;
  limiters: AuthLimiters;
}

/** Auth bodies are a few short strings; 64 KiB is generous and keeps hashing input bounded. */
const AUTH_BODY_LIMIT = 64 * 1024;
const BASE = '/api/collections/:collection';

type Body = Record<string, unknown>;
interface AuthRequest extends Request {
  authBody?: Body;
}

/** Parses the body before the limiters, so the per-identity limiter can key on it. */
const parseBody: RequestHandler = async (req, _res, next) => {
  try {
    (req as AuthRequest).authBody = (await readRequestBody(req, { limitBytes: AUTH_BODY_LIMIT })).data;
    next();
  } catch (err) {
    next(err);
  }
};

const bodyOf = (req: Request): Body => (req as AuthRequest).authBody ?? {};

/**
 * `collectionId:field:value`, lower-cased; undefined (no identity limit) when the field is absent.
 * The collection id, not the path's spelling: `users`, `USERS` and its id share one budget.
 */
function identityKey(auth: AuthDeps, field: string, prefix = field): (req: Request) => string | undefined {
  return (req) => {
    const value = bodyOf(req)[field];
    if (typeof value !== 'string' || value === '') return undefined;
    const path = String(req.params['collection']);
    const collection = auth.runtime().find(path)?.collection.id ?? path.toLowerCase();
    return `${collection}:${prefix}:${value.toLowerCase()}`;
  };
}

/** The auth endpoints of §7.1 (OAuth2 excepted), each behind the shared rate limits. */
export function authRoutes(records: RecordsHttpDeps, deps: AuthHttpDeps): Router {
  const router = Router();
  const { perIp, perIdentity } = deps.limiters;
  const info = async (req: Request): Promise<RequestInfo> => ({ ...requestInfo(req, await authOf(records, req)), body: bodyOf(req) });
  const auth = deps.auth;
  const failedSignIns = (field: string) => perIdentity(identityKey(auth, field));
  const mailsSent = (field: string) => perIdentity(identityKey(auth, field, 'mail'), { countSuccessful: true });

  const route = (path: string, ...handlers: RequestHandler[]) => router.post(`${BASE}/${path}`, parseBody, perIp, ...handlers);

  router.get(
    `${BASE}/auth-methods`,
    handle(async (req) => ({ status: 200, body: picked(req, authMethods(auth, String(req.params['collection']))) })),
  );

  route(
    'auth-with-password',
    failedSignIns('identity'),
    handle(async (req) => signIn(req, await authWithPassword(auth, String(req.params['collection']), bodyOf(req), await info(req), mfaIdOf(req)))),
  );
  route(
    'auth-refresh',
    handle(async (req) => signIn(req, await authRefresh(auth, String(req.params['collection']), await info(req)))),
  );
  route(
    'request-otp',
    mailsSent('email'),
    handle(async (req) => ({ status: 200, body: await requestOtp(auth, String(req.params['collection']), bodyOf(req)) })),
  );
  route(
    'auth-with-otp',
    failedSignIns('otpId'),
    handle(async (req) => signIn(req, await authWithOtp(auth, String(req.params['collection']), bodyOf(req), await info(req), mfaIdOf(req)))),
  );
  route(
    'auth-with-oauth2',
    handle(async () => {
      throw new AppError('auth_method_disabled', 'The collection is not configured to allow OAuth2 authentication.');
    }),
  );
  route(
    'impersonate/:id',
    handle(async (req) => signIn(req, await impersonate(auth, String(req.params['collection']), String(req.params['id']), bodyOf(req), await info(req)))),
  );

  const noContent = (fn: (collection: string, body: Body, req: Request) => Promise<void>) =>
    handle(async (req) => {
      await fn(String(req.params['collection']), bodyOf(req), req);
      return { status: 204 };
    });
  route('request-verification', mailsSent('email'), noContent((c, b) => requestVerification(auth, c, b)));
  route('confirm-verification', noContent((c, b) => confirmVerification(auth, c, b)));
  route('request-password-reset', mailsSent('email'), noContent((c, b) => requestPasswordReset(auth, c, b)));
  route('confirm-password-reset', noContent((c, b) => confirmPasswordReset(auth, c, b)));
  route('request-email-change', mailsSent('newEmail'), noContent(async (c, b, req) => requestEmailChange(auth, c, b, await info(req))));
  route('confirm-email-change', noContent((c, b) => confirmEmailChange(auth, c, b)));

  /** The auth response (200 `{record, token}`) or MFA's first step (401 `{mfaId}`, not the error shape). */
  async function signIn(req: Request, outcome: AuthOutcome): Promise<Reply> {
    if (outcome.kind === 'mfa') return { status: 401, body: { mfaId: outcome.mfaId } };
    const body = await authResponse(auth, String(req.params['collection']), outcome, queryString(req, 'expand'), await info(req));
    return { status: 200, body: picked(req, body) };
  }
  return router;
}

/** The MFA session id, from the body or the query (the SDK uses either). */
function mfaIdOf(req: Request): string {
  const fromBody = bodyOf(req)['mfaId'];
  return typeof fromBody === 'string' && fromBody !== '' ? fromBody : (queryString(req, 'mfaId') ?? '');
}

/** `?fields=` applies to the whole response (`fields=token`, `fields=record.id,token`). */
function picked(req: Request, body: Record<string, unknown>): Record<string, unknown> {
  const fields = queryString(req, 'fields');
  const picker = fields ? compileFieldsPicker(fields) : null;
  return picker ? picker.pick(body) : body;
}
