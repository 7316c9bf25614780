import { Router } from 'express';
import { AppError } from '../errors/index.js';
import { inSession } from '../records/session.js';
import { createRecord, deleteRecord, findRuntime, updateRecord, type RecordQuery, type RecordsDeps } from '../records/service.js';
import { acceptsUpload, batchPart, withUploadNames } from '../files/index.js';
import type { RequestInfo, UploadedFile } from '../records/types.js';
import { lockRows } from '../records/locks.js';
import { readRequestBody } from './body.js';
import { errorBody } from './error-handler.js';
import { fingerprintOf, idempotent } from './idempotency.js';
import { headerValues, requestInfo } from './request-info.js';
import { authOf, handle, idempotencyScope, refuseUploads, type RecordsHttpDeps } from './routes-records.js';

export const MAX_BATCH_REQUESTS = 50;
const MAX_URL_LENGTH = 2000;
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const RECORDS_PATH = /^\/api\/collections\/([^/]+)\/records(?:\/([^/]+))?\/?$/;

/** A validated sub-request: its URL already parsed and percent-decoded. */
interface SubRequest {
  method: string;
  collection: string | null;
  id: string | undefined;
  query: RecordQuery & Record<string, string>;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  /** Its file parts (`requests.<i>.<field>`), keyed by `<field>`, `<field>+` or `+<field>`. */
  uploads: UploadedFile[];
}

/**
 * `POST /api/batch` (§9): record creates, updates, upserts and deletes run in one
 * transaction with the outer request's auth; any failure rolls all of them back.
 * Enabled by default (Galley), at most 50 requests.
 */
export function batchRoutes(deps: RecordsHttpDeps): Router {
  const router = Router();
  router.post(
    '/api/batch',
    handle(async (req) => {
      const spool = deps.files?.batchSpool(deps.runtime().schema.collections);
      try {
        const body = await readRequestBody(req, { ...(spool ? { spool, limitBytes: deps.files!.maxBodyBytes } : {}) });
        if (!spool) refuseUploads(body);
        const requests = validate(body.data);
        assignUploads(requests, body.files);
        const outer = requestInfo(req, await authOf(deps, req), 'batch');
        const records: RecordsDeps = { runtime: deps.runtime(), runner: deps.runner };
        const fingerprint = () => fingerprintOf([requests.map(({ uploads, ...sub }) => [sub, uploads.map((u) => [u.field, u.filename, u.size])])]);
        return await idempotent(records, { key: req.header('idempotency-key'), scope: idempotencyScope(req, outer), fingerprint }, async (records) => ({
          status: 200,
          body: await runBatch(records, outer, requests),
        }));
      } finally {
        await spool?.discard();
      }
    }),
  );
  return router;
}

async function runBatch(records: RecordsDeps, outer: RequestInfo, requests: SubRequest[]): Promise<{ body: unknown; status: number }[]> {
  return inSession({ runner: records.runner, session: records.session, report: records.runtime.report }, async (session) => {
    const tx: RecordsDeps = { ...records, runner: session.tx, session };
    // Rows are locked up front in one order (collection, id): two batches that touch the same
    // records in opposite orders then queue instead of deadlocking.
    await lockRows(tx, requests.flatMap(lockTarget));
    const out: { body: unknown; status: number }[] = [];
    for (const [i, sub] of requests.entries()) {
      try {
        out.push(await runOne(tx, sub, subInfo(outer, sub)));
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        throw new AppError('batch_failed', undefined, {
          requests: { [i]: { code: 'batch_request_failed', message: 'Batch request failed.', response: errorBody(err) } },
        });
      }
    }
    return out;
  });
}

function lockTarget(sub: SubRequest): { collection: string; id: string }[] {
  if (sub.collection === null) return [];
  const id = sub.id ?? (sub.method === 'PUT' && typeof sub.body['id'] === 'string' ? sub.body['id'] : undefined);
  return id && sub.method !== 'POST' ? [{ collection: sub.collection, id }] : [];
}

const REQUIRED = { code: 'validation_required', message: 'Cannot be blank.' };

function validate(data: Record<string, unknown>): SubRequest[] {
  const requests = data['requests'];
  if (!Array.isArray(requests) || requests.length === 0) throw invalid({ requests: REQUIRED });
  if (requests.length > MAX_BATCH_REQUESTS) {
    throw invalid({ requests: { code: 'validation_length_too_long', message: `The length must be no more than ${MAX_BATCH_REQUESTS}.`, params: { max: MAX_BATCH_REQUESTS } } });
  }
  const problems: Record<string, unknown> = {};
  const subs = requests.map((raw, i): SubRequest => {
    const r = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const errs: Record<string, unknown> = {};
    const method = checkMethod(r['method'], errs);
    const target = checkUrl(r['url'], errs);
    const headers = checkHeaders(r['headers'], errs);
    if (Object.keys(errs).length > 0) problems[i] = errs;
    const body = r['body'];
    return { method, ...target, headers, body: body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {}, uploads: [] };
  });
  if (Object.keys(problems).length > 0) throw invalid({ requests: problems });
  return subs;
}

/** Gives each sub-request its file parts; a part for no sub-request is a 400, never dropped. */
function assignUploads(subs: SubRequest[], files: UploadedFile[]): void {
  for (const file of files) {
    const target = batchPart(file.field);
    const sub = target ? subs[target.index] : undefined;
    if (!target || !sub) throw invalid({ [file.field]: { code: 'validation_invalid_file_part', message: 'The file part names no batch request.' } });
    sub.uploads.push({ ...file, field: target.key });
  }
}

/** The sub-request's body with its uploads' names in place; uploads to a field that takes none are refused. */
function bodyWithUploads(records: RecordsDeps, sub: SubRequest, collection: string): Record<string, unknown> {
  if (sub.uploads.length === 0) return sub.body;
  if (sub.method === 'DELETE') throw new AppError('invalid_body', 'A delete takes no files.');
  const rt = findRuntime(records.runtime, collection);
  const refused = sub.uploads.filter((u) => !acceptsUpload(rt.collection, u.field));
  if (refused.length > 0) {
    const data = Object.fromEntries(refused.map((u) => [u.field, { code: 'validation_not_a_file_field', message: 'Only file fields accept uploads.' }]));
    throw new AppError('invalid_body', 'Only file fields accept uploads.', data);
  }
  return withUploadNames(sub.body, sub.uploads);
}

function checkMethod(raw: unknown, errs: Record<string, unknown>): string {
  if (raw === undefined || raw === null || raw === '') {
    errs['method'] = REQUIRED;
    return '';
  }
  const method = typeof raw === 'string' ? raw.toUpperCase() : '';
  if (!METHODS.has(method)) errs['method'] = { code: 'validation_in_invalid', message: 'Must be a valid value.' };
  return method;
}

/**
 * The sub-request URL: a path of this server (never another host), percent-decoded once here, so
 * nothing later can fail on it. A path that is no records endpoint fails when the request runs,
 * as in PocketBase ("unknown batch request action").
 */
function checkUrl(raw: unknown, errs: Record<string, unknown>): Pick<SubRequest, 'collection' | 'id' | 'query'> {
  const none = { collection: null, id: undefined, query: {} };
  if (raw === undefined || raw === null || raw === '') {
    errs['url'] = REQUIRED;
    return none;
  }
  if (typeof raw !== 'string' || !raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) {
    errs['url'] = { code: 'validation_invalid_url', message: 'Must be a path of this server, such as /api/collections/posts/records.' };
    return none;
  }
  if (raw.length > MAX_URL_LENGTH) {
    errs['url'] = { code: 'validation_length_too_long', message: `The length must be no more than ${MAX_URL_LENGTH}.`, params: { max: MAX_URL_LENGTH } };
    return none;
  }
  try {
    const url = new URL(raw, 'http://batch.invalid');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) if (!(k in query)) query[k] = v;
    const m = RECORDS_PATH.exec(url.pathname);
    if (!m) return { ...none, query };
    return { collection: decodeURIComponent(m[1]!), id: m[2] === undefined ? undefined : decodeURIComponent(m[2]), query };
  } catch {
    errs['url'] = { code: 'validation_invalid_url', message: 'Must be a valid URL path (percent-encoding included).' };
    return none;
  }
}

/** Sub-request headers: an object of strings (as Go's map[string]string), else a validation error. */
function checkHeaders(raw: unknown, errs: Record<string, unknown>): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  const valid = typeof raw === 'object' && !Array.isArray(raw) && Object.values(raw).every((v) => typeof v === 'string');
  if (!valid) {
    errs['headers'] = { code: 'validation_invalid_headers', message: 'Must be an object of string values.' };
    return {};
  }
  return raw as Record<string, string>;
}

function invalid(data: Record<string, unknown>): AppError {
  return new AppError('batch_invalid', undefined, data);
}

/** The outer auth with the sub-request's own headers merged in (its Authorization is ignored). */
function subInfo(outer: RequestInfo, sub: SubRequest): RequestInfo {
  const { authorization: _ignored, ...headers } = headerValues(sub.headers);
  return { ...outer, method: sub.method, context: 'batch', headers: { ...outer.headers, ...headers }, query: sub.query };
}

async function runOne(records: RecordsDeps, sub: SubRequest, info: RequestInfo): Promise<{ body: unknown; status: number }> {
  const { collection, id, query } = sub;
  if (collection === null) throw new AppError('bad_request', 'Unknown batch request action.');
  const ifMatch = headerValues(sub.headers)['if_match'] ?? null;
  const body = bodyWithUploads(records, sub, collection);
  const uploads = sub.uploads;
  if (sub.method === 'POST' && id === undefined) return { body: (await createRecord(records, collection, body, query, info, { uploads })).record, status: 200 };
  if (sub.method === 'PATCH' && id !== undefined) return { body: (await updateRecord(records, collection, id, body, query, info, { ifMatch, uploads })).record, status: 200 };
  if (sub.method === 'DELETE' && id !== undefined) {
    await deleteRecord(records, collection, id, info, { ifMatch });
    return { body: null, status: 204 };
  }
  if (sub.method === 'PUT' && id === undefined) {
    const rt = findRuntime(records.runtime, collection);
    const upsertId = typeof sub.body['id'] === 'string' ? sub.body['id'] : '';
    const exists = upsertId !== '' && (await records.runner.all(`SELECT 1 AS "x" FROM ${rt.table} WHERE "id" = ?`, [upsertId])).length > 0;
    const result = exists ? await updateRecord(records, collection, upsertId, body, query, info, { uploads }) : await createRecord(records, collection, body, query, info, { uploads });
    return { body: result.record, status: 200 };
  }
  throw new AppError('bad_request', 'Unknown batch request action.');
}
