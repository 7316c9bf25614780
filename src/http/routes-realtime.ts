import { Router, type Request } from 'express';
import { AppError } from '../errors/index.js';
import type { Realtime } from '../realtime/index.js';
import { MAX_TOPIC_LENGTH, MAX_TOPICS } from '../realtime/topics.js';
import { readRequestBody } from './body.js';
import { authOf, handle, type RecordsHttpDeps } from './routes-records.js';

export interface RealtimeHttpDeps {
  realtime: Realtime;
}

const VALIDATION = 'An error occurred while validating the submitted data.';

/**
 * PocketBase's realtime endpoints (§8): `GET /api/realtime` opens the event stream (no auth: it
 * is set by the POST), `POST /api/realtime` replaces a client's subscriptions and auth.
 */
export function realtimeRoutes(records: RecordsHttpDeps, deps: RealtimeHttpDeps): Router {
  const router = Router();
  const hub = deps.realtime.hub;

  router.get('/api/realtime', (req, res, next) => {
    if (hub.full) {
      res.setHeader('Retry-After', '5');
      return next(new AppError('overloaded', 'Too many realtime connections on this server; retry later.'));
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=UTF-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Connection', 'keep-alive');
    // nginx and other proxies would otherwise buffer the stream.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    deps.realtime.connect(res, clientIp(req)).catch((err: unknown) => {
      res.destroy();
      next(err);
    });
  });

  router.post(
    '/api/realtime',
    handle(async (req) => {
      const { clientId, subscriptions } = readForm((await readRequestBody(req)).data);
      await deps.realtime.subscribe(clientId, clientIp(req), await authOf(records, req), subscriptions);
      return { status: 204 };
    }),
  );
  return router;
}

/** The client's address; an IPv4 client of a dual-stack socket (`::ffff:1.2.3.4`) is the same client as `1.2.3.4`. */
function clientIp(req: Request): string {
  return (req.ip ?? req.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

/** The form of PocketBase's realtimeSubscribeForm: its types first (a 400 on bad formatting), then its validation. */
function readForm(data: Record<string, unknown>): { clientId: string; subscriptions: string[] } {
  const rawId = data['clientId'] ?? '';
  let rawSubs = data['subscriptions'] ?? [];
  if (typeof rawSubs === 'string') rawSubs = [rawSubs];
  if (typeof rawId !== 'string' || !Array.isArray(rawSubs) || rawSubs.some((s) => typeof s !== 'string')) throw new AppError('invalid_body');
  const subscriptions = rawSubs as string[];
  const errors: Record<string, unknown> = {};
  if (rawId === '') errors['clientId'] = { code: 'validation_required', message: 'Cannot be blank.' };
  else if (rawId.length > 255) errors['clientId'] = { code: 'validation_length_out_of_range', message: 'The length must be between 1 and 255.' };
  if (subscriptions.length > MAX_TOPICS) errors['subscriptions'] = { code: 'validation_length_too_long', message: `The length must be no more than ${MAX_TOPICS}.` };
  else {
    const long: Record<string, unknown> = {};
    subscriptions.forEach((s, i) => {
      if (s.length > MAX_TOPIC_LENGTH) long[String(i)] = { code: 'validation_length_too_long', message: `The length must be no more than ${MAX_TOPIC_LENGTH}.` };
    });
    if (Object.keys(long).length > 0) errors['subscriptions'] = long;
  }
  if (Object.keys(errors).length > 0) throw new AppError('bad_request', VALIDATION, errors);
  return { clientId: rawId, subscriptions };
}
