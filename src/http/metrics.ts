import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../errors/index.js';
import type { HttpMetrics, Metrics } from '../metrics/index.js';

/** The route label of requests no route answered (unknown paths, 404s): one value, whatever the URL. */
export const UNMATCHED_ROUTE = '<unmatched>';
/** Status label of a request whose client hung up before the response was complete (nginx's 499). */
const CLIENT_CLOSED = 499;

/**
 * Counts and times every request by its route template (`/api/collections/:collection/records/:id`),
 * never its URL, so the label set stays fixed whatever ids or paths clients send.
 */
export function requestMetrics(http: HttpMetrics): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const ended = http.started();
    res.once('close', () => {
      ended();
      const requestId = res.getHeader('X-Request-Id');
      http.observe({
        method: req.method,
        route: routeTemplate(req),
        status: res.writableFinished ? res.statusCode : CLIENT_CLOSED,
        seconds: Number(process.hrtime.bigint() - start) / 1e9,
        ...(typeof requestId === 'string' ? { requestId } : {}),
      });
    });
    next();
  };
}

/** The matched route's path under its router's mount; a static mount's path; else one fixed value. */
function routeTemplate(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') return req.baseUrl + route.path;
  if (req.baseUrl) return `${req.baseUrl}/*`;
  return UNMATCHED_ROUTE;
}

export interface MetricsHttpDeps {
  metrics: Metrics;
  /** GALLEY_METRICS_TOKEN: when set, `Authorization: Bearer <token>` is required. */
  token: string | null;
}

/** `GET /metrics`: Prometheus text, or OpenMetrics (with exemplars) when the scraper prefers it. */
export function metricsRoutes(deps: MetricsHttpDeps): Router {
  const router = Router();
  const expected = deps.token === null ? null : digest(deps.token);
  router.get('/metrics', async (req: Request, res: Response, next) => {
    try {
      if (expected && !bearerMatches(req.headers.authorization, expected)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
        throw new AppError('unauthorized', 'The metrics require a valid token (Authorization: Bearer <GALLEY_METRICS_TOKEN>).');
      }
      const openMetrics = prefersOpenMetrics(req.headers.accept);
      const { contentType, body } = await deps.metrics.render(openMetrics);
      res.setHeader('Content-Type', contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.end(body);
    } catch (err) {
      next(err);
    }
  });
  return router;
}

/**
 * Whether the scraper ranks OpenMetrics above Prometheus text. Prometheus sends versioned types
 * (`application/openmetrics-text;version=1.0.0;q=0.5,…,text/plain;version=0.0.4;q=0.3`), which
 * Express's negotiation would not match against bare types; a plain `*\/*` gets Prometheus text.
 */
function prefersOpenMetrics(accept: string | undefined): boolean {
  let open = 0;
  let plain = 0;
  for (const part of (accept ?? '*/*').split(',')) {
    const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = Number(params.find((p) => p.startsWith('q='))?.slice(2) ?? 1);
    if (!Number.isFinite(q)) continue;
    if (type === 'application/openmetrics-text') open = Math.max(open, q);
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') plain = Math.max(plain, q);
  }
  return open > 0 && open > plain;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compared as digests in constant time, so the answer's timing says nothing about the token. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), expected);
}
