import type { Request, RequestHandler } from 'express';
import type { AuthIdentity, RequestInfo } from '../records/types.js';

/** `@request.*` for one HTTP request: first values of query and headers, header keys normalized as PocketBase does. */
export function requestInfo(req: Request, auth: AuthIdentity | null, context = 'default'): RequestInfo {
  return {
    auth,
    superuser: auth?.collection.name === '_superusers',
    method: req.method.toUpperCase(),
    context,
    query: firstValues(req.query as Record<string, unknown>),
    headers: headerValues(req.headers),
    body: {},
  };
}

/** First value of each query parameter (PocketBase's `@request.query`). */
export function firstValues(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === 'string') out[k] = first;
  }
  return out;
}

export function headerValues(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase().replace(/\W/g, '_')] = Array.isArray(v) ? (v[0] ?? '') : v;
  }
  return out;
}

/** A query parameter as one string (the first when repeated), for the record endpoints. */
export function queryString(req: Request, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : undefined;
}

/**
 * Express 5's `req.query` is a getter that parses the query string on every read, and a list
 * request reads it 8 times (each record query parameter, then `@request.query`). This makes the
 * first read parse it and keep the result on the request.
 */
export const queryParsedOnce: RequestHandler = (req, _res, next) => {
  Object.defineProperty(req, 'query', {
    configurable: true,
    enumerable: true,
    get(this: Request) {
      const parsed: unknown = Reflect.get(Object.getPrototypeOf(this) as object, 'query', this);
      Object.defineProperty(this, 'query', { value: parsed, configurable: true, enumerable: true, writable: true });
      return parsed;
    },
  });
  next();
};
