import { Router, type Request } from 'express';
import { AppError } from '../errors/index.js';
import { createRecord, deleteRecord, findRuntime, updateRecord, type RecordQuery, type RecordsDeps } from '../records/service.js';
import type { RequestInfo } from '../records/types.js';
import { readRequestBody } from './body.js';
import { errorBody } from './error-handler.js';
import { fingerprintOf, idempotent } from './idempotency.js';
import { headerValues, requestInfo } from './request-info.js';
import { authOf, handle, idempotencyScope, type RecordsHttpDeps } from './routes-records.js';

export const MAX_BATCH_REQUESTS = 50;
const MAX_URL_LENGTH = 2000;
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

interface SubRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
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
      const body = await readRequestBody(req);
      const requests = validate(body.data);
      const outer = requestInfo(req, await authOf(deps, req), 'batch');
      return idempotent(deps.runner, { key: req.header('idempotency-key'), scope: idempotencyScope(req, outer), fingerprint: fingerprintOf([requests]) }, async () => {
        const results = await deps.runner.transaction(async (tx) => {
          const records: RecordsDeps = { runtime: deps.runtime(), runner: tx };
          const out: { body: unknown; status: number }[] = [];
          for (const [i, sub] of requests.entries()) {
            try {
              out.push(await runOne(records, sub, subInfo(req, outer, sub)));
            } catch (err) {
              if (!(err instanceof AppError) || err.status >= 500) throw err;
              throw new AppError('batch_failed', undefined, {
                requests: { [i]: { code: 'batch_request_failed', message: 'Batch request failed.', response: errorBody(err) } },
              });
            }
          }
          return out;
        });
        return { status: 200, body: results };
      });
    }),
  );
  return router;
}

function validate(data: Record<string, unknown>): SubRequest[] {
  const requests = data['requests'];
  if (!Array.isArray(requests) || requests.length === 0) throw invalid({ requests: { code: 'validation_required', message: 'Cannot be blank.' } });
  if (requests.length > MAX_BATCH_REQUESTS) {
    throw invalid({ requests: { code: 'validation_length_too_long', message: `The length must be no more than ${MAX_BATCH_REQUESTS}.`, params: { max: MAX_BATCH_REQUESTS } } });
  }
  const problems: Record<string, unknown> = {};
  const subs = requests.map((raw, i): SubRequest => {
    const r = (raw ?? {}) as Record<string, unknown>;
    const method = typeof r['method'] === 'string' ? r['method'].toUpperCase() : '';
    const url = typeof r['url'] === 'string' ? r['url'] : '';
    const errs: Record<string, unknown> = {};
    if (!METHODS.has(method)) errs['method'] = { code: 'validation_in_invalid', message: 'Must be a valid value.' };
    if (url === '') errs['url'] = { code: 'validation_required', message: 'Cannot be blank.' };
    else if (url.length > MAX_URL_LENGTH) errs['url'] = { code: 'validation_length_too_long', message: `The length must be no more than ${MAX_URL_LENGTH}.` };
    if (Object.keys(errs).length > 0) problems[i] = errs;
    const body = r['body'];
    const headers = r['headers'] && typeof r['headers'] === 'object' ? (r['headers'] as Record<string, string>) : {};
    return { method, url, headers, body: body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {} };
  });
  if (Object.keys(problems).length > 0) throw invalid({ requests: problems });
  return subs;
}

function invalid(data: Record<string, unknown>): AppError {
  return new AppError('batch_invalid', undefined, data);
}

/** The outer auth with the sub-request's own headers merged in (its Authorization is ignored). */
function subInfo(req: Request, outer: RequestInfo, sub: SubRequest): RequestInfo {
  const { authorization: _ignored, ...headers } = headerValues(sub.headers);
  const url = new URL(sub.url, 'http://batch');
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (!(k in query)) query[k] = v;
  return { ...outer, method: sub.method, context: 'batch', headers: { ...outer.headers, ...headers }, query };
}

async function runOne(records: RecordsDeps, sub: SubRequest, info: RequestInfo): Promise<{ body: unknown; status: number }> {
  const url = new URL(sub.url, 'http://batch');
  const m = /^\/api\/collections\/([^/]+)\/records(?:\/([^/]+))?\/?$/.exec(url.pathname);
  const query = Object.fromEntries(url.searchParams) as RecordQuery;
  if (!m) throw new AppError('bad_request', 'Unknown batch request action.');
  const collection = decodeURIComponent(m[1]!);
  const id = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  const ifMatch = headerValues(sub.headers)['if_match'] ?? null;
  if (sub.method === 'POST' && id === undefined) return { body: (await createRecord(records, collection, sub.body, query, info)).record, status: 200 };
  if (sub.method === 'PATCH' && id !== undefined) return { body: (await updateRecord(records, collection, id, sub.body, query, info, { ifMatch })).record, status: 200 };
  if (sub.method === 'DELETE' && id !== undefined) {
    await deleteRecord(records, collection, id, info, { ifMatch });
    return { body: null, status: 204 };
  }
  if (sub.method === 'PUT' && id === undefined) {
    const rt = findRuntime(records.runtime, collection);
    const upsertId = typeof sub.body['id'] === 'string' ? sub.body['id'] : '';
    const exists = upsertId !== '' && (await records.runner.all(`SELECT 1 AS "x" FROM ${rt.table} WHERE "id" = ?`, [upsertId])).length > 0;
    const result = exists ? await updateRecord(records, collection, upsertId, sub.body, query, info) : await createRecord(records, collection, sub.body, query, info);
    return { body: result.record, status: 200 };
  }
  throw new AppError('bad_request', 'Unknown batch request action.');
}
