import { Router, type Request, type RequestHandler } from 'express';
import type { SqlRunner } from '../db/index.js';
import { acceptsInstallToken } from '../auth/install.js';
import type { Tokens } from '../auth/tokens.js';
import { withUploadNames, type Files } from '../files/index.js';
import type { RecordsRuntime } from '../records/runtime.js';
import { createRecord, deleteRecord, etagListHas, etagOf, findRuntime, listRecords, updateRecord, viewRecord, type RecordQuery, type RecordResult } from '../records/service.js';
import { AppError } from '../errors/index.js';
import type { AuthIdentity, RequestBody, RequestInfo, UploadedFile } from '../records/types.js';
import { readRequestBody, recordBodyLimit } from './body.js';
import { inFlightOf } from './in-flight.js';
import { fingerprintOf, idempotent } from './idempotency.js';
import { send, type Reply } from './reply.js';
import { queryString, requestInfo } from './request-info.js';

/** What the record routes need, read per request so that a --dev reload swaps the collections in place. */
export interface RecordsHttpDeps {
  runtime(): RecordsRuntime;
  runner: SqlRunner;
  tokens: Tokens;
  /** Uploads and downloads; without it a file part is refused (400). */
  files?: Files;
}

const QUERY_KEYS = ['page', 'perPage', 'sort', 'filter', 'skipTotal', 'expand', 'fields'] as const;

export function recordQuery(req: Request): RecordQuery {
  const query: RecordQuery = {};
  for (const key of QUERY_KEYS) {
    const value = queryString(req, key);
    if (value !== undefined) query[key] = value;
  }
  return query;
}

const AUTH = Symbol('auth');

/** The requester, resolved once per request from its Authorization header (invalid tokens → guest). */
export function authOf(deps: RecordsHttpDeps, req: Request): Promise<AuthIdentity | null> {
  const holder = req as Request & { [AUTH]?: Promise<AuthIdentity | null> };
  return (holder[AUTH] ??= deps.tokens.resolve(req.headers.authorization));
}

/** Wraps an async handler that returns a Reply; thrown errors go to the one error handler. */
export function handle(fn: (req: Request) => Promise<Reply>): RequestHandler {
  return async (req, res, next) => {
    const inFlight = inFlightOf(req);
    inFlight?.start();
    try {
      send(res, await fn(req));
    } catch (err) {
      next(err);
    } finally {
      inFlight?.end();
    }
  };
}

/**
 * Where files cannot go (no files subsystem, an endpoint that stores none), a file part is
 * refused rather than accepted and dropped (galley.md §10): a 400 naming each part.
 */
export function refuseUploads(body: RequestBody): void {
  if (body.files.length === 0) return;
  const data: Record<string, unknown> = {};
  for (const file of body.files) data[file.field] = { code: 'validation_file_upload_unsupported', message: 'This endpoint does not accept files.' };
  throw new AppError('bad_request', 'This endpoint does not accept files.', data);
}

/**
 * Reads a create/update body, its file parts spooled to temp files, and runs `fn` with the body
 * (upload names in place) and the uploads; the temp files go when it is done, whatever happened
 * (what was stored is a link or a copy).
 */
async function withBody<T>(deps: RecordsHttpDeps, req: Request, rt: { collection: import('../schema/index.js').Collection }, fn: (data: Record<string, unknown>, uploads: UploadedFile[]) => Promise<T>): Promise<T> {
  const spool = deps.files?.spool(rt.collection);
  try {
    const body = await readRequestBody(req, { limitBytes: recordBodyLimit(rt.collection, deps.files?.maxBodyBytes), ...(spool ? { spool } : {}) });
    if (!spool) refuseUploads(body);
    return await fn(withUploadNames(body.data, body.files), body.files);
  } finally {
    await spool?.discard();
  }
}

/** What identifies an upload in an idempotency fingerprint (its stored name is random). */
function uploadPrints(uploads: UploadedFile[]): unknown[] {
  return uploads.map((u) => [u.field, u.filename, u.size, u.mimeType]);
}

export function recordReply(result: RecordResult): Reply {
  return { status: 200, body: result.record, ...(result.version ? { headers: { ETag: etagOf(result.version) } } : {}) };
}

/** Idempotency scope: the requester and the target, so keys never collide across users or endpoints. */
export function idempotencyScope(req: Request, info: RequestInfo): string {
  const who = info.auth ? `${info.auth.collection.id}:${String(info.auth.record['id'])}` : 'guest';
  return `${who} ${req.method} ${req.path}`;
}

export function recordRoutes(deps: RecordsHttpDeps): Router {
  const router = Router();
  const base = '/api/collections/:collection/records';
  const records = () => ({ runtime: deps.runtime(), runner: deps.runner });
  const info = async (req: Request) => requestInfo(req, await authOf(deps, req));
  const param = (req: Request, name: string) => String(req.params[name]);

  router.get(
    base,
    handle(async (req) => ({ status: 200, body: await listRecords(records(), param(req, 'collection'), recordQuery(req), await info(req)) })),
  );

  router.get(
    `${base}/:id`,
    handle(async (req) => {
      const result = await viewRecord(records(), param(req, 'collection'), param(req, 'id'), recordQuery(req), await info(req));
      const etag = result.version ? etagOf(result.version) : null;
      const ifNoneMatch = req.headers['if-none-match'];
      if (etag && ifNoneMatch && etagListHas(ifNoneMatch, etag)) {
        return { status: 304, headers: { ETag: etag } };
      }
      return recordReply(result);
    }),
  );

  router.post(
    base,
    handle(async (req) => {
      const rt = findRuntime(deps.runtime(), param(req, 'collection'));
      return withBody(deps, req, rt, async (data, uploads) => {
        let requester = await info(req);
        if (!requester.auth && rt.collection.name === '_superusers' && (await acceptsInstallToken(deps, req.headers.authorization))) requester = { ...requester, superuser: true };
        const fingerprint = () => fingerprintOf([req.originalUrl, data, uploadPrints(uploads)]);
        return idempotent(records(), { key: req.header('idempotency-key'), scope: idempotencyScope(req, requester), fingerprint }, async (deps) =>
          recordReply(await createRecord(deps, param(req, 'collection'), data, recordQuery(req), requester, { uploads })),
        );
      });
    }),
  );

  router.patch(
    `${base}/:id`,
    handle(async (req) => {
      const rt = findRuntime(deps.runtime(), param(req, 'collection'));
      return withBody(deps, req, rt, async (data, uploads) => {
        const requester = await info(req);
        const fingerprint = () => fingerprintOf([req.originalUrl, data, uploadPrints(uploads), req.header('if-match') ?? null]);
        const options = { ifMatch: req.header('if-match') ?? null, uploads };
        return idempotent(records(), { key: req.header('idempotency-key'), scope: idempotencyScope(req, requester), fingerprint }, async (deps) =>
          recordReply(await updateRecord(deps, param(req, 'collection'), param(req, 'id'), data, recordQuery(req), requester, options)),
        );
      });
    }),
  );

  router.delete(
    `${base}/:id`,
    handle(async (req) => {
      await deleteRecord(records(), param(req, 'collection'), param(req, 'id'), await info(req), { ifMatch: req.header('if-match') ?? null });
      return { status: 204 };
    }),
  );
  return router;
}
