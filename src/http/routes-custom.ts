import { Router, type Request, type RequestHandler } from 'express';
import { AppError } from '../errors/index.js';
import { hookApp, type HookServices } from '../hooks/context.js';
import { apiErrorToAppError, describe, withoutSecrets } from '../hooks/plugin.js';
import type { RouteEvent, RouteResult } from '../hooks/public.js';
import type { HookRegistry, RouteHook } from '../hooks/registry.js';
import { readRequestBody } from './body.js';
import type { Reply } from './reply.js';
import { requestInfo } from './request-info.js';
import { authOf, handle, refuseUploads, type RecordsHttpDeps } from './routes-records.js';

export interface CustomRoutesDeps {
  /** The hooks loaded now (swapped by a --dev reload), or null without hooks files. */
  registry(): HookRegistry | null;
  services: HookServices;
  records: RecordsHttpDeps;
}

/**
 * The routes of the hooks files (`routerAdd`), on the same server with Galley's body limits,
 * auth and error shape. The router is rebuilt when the registry changes, never per request.
 */
export function customRoutes(deps: CustomRoutesDeps): RequestHandler {
  let built: { registry: HookRegistry; router: Router } | null = null;
  return (req, res, next) => {
    const registry = deps.registry();
    if (!registry || registry.routes.length === 0) return next();
    if (built?.registry !== registry) built = { registry, router: buildRouter(registry, deps) };
    built.router(req, res, next);
  };
}

function buildRouter(registry: HookRegistry, deps: CustomRoutesDeps): Router {
  const router = Router();
  for (const route of registry.routes) {
    const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head' | 'options';
    router[method](route.path, handle((req) => runRoute(route, req, deps)));
  }
  return router;
}

async function runRoute(route: RouteHook, req: Request, deps: CustomRoutesDeps): Promise<Reply> {
  const auth = await authOf(deps.records, req);
  const info = requestInfo(req, auth);
  checkAuth(route, info.auth?.collection.name ?? null);
  const body = await readRequestBody(req);
  refuseUploads(body);
  const event: RouteEvent = {
    request: { method: req.method, path: req.path, params: { ...(req.params as Record<string, string>) }, query: info.query, headers: firstHeaders(req), body: body.data },
    auth: auth ? withoutSecrets(auth.record) : null,
    superuser: info.superuser,
    app: hookApp(deps.services, describe(route.origin)),
    json: (status, value) => ({ status, body: value }),
    text: (status, value) => ({ status, body: String(value), contentType: 'text/plain; charset=utf-8' }),
    noContent: () => ({ status: 204 }),
  };
  let result: RouteResult;
  try {
    result = await route.run(event);
  } catch (err) {
    throw apiErrorToAppError(err);
  }
  return toReply(route, result);
}

/** Header names as sent (lower-cased by Node), first value of each. */
function firstHeaders(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) out[name] = Array.isArray(value) ? (value[0] ?? '') : value;
  return out;
}

/** `options.auth`: true → any signed-in record; names → records of those collections (401 / 403 as PocketBase). */
function checkAuth(route: RouteHook, collection: string | null): void {
  const wanted = route.options.auth;
  if (wanted === undefined || wanted === false) return;
  if (collection === null) throw new AppError('unauthorized');
  if (wanted === true) return;
  const names = typeof wanted === 'string' ? [wanted] : wanted;
  if (!names.includes(collection)) throw new AppError('auth_other_collection');
}

function toReply(route: RouteHook, result: RouteResult): Reply {
  if (!result || typeof result !== 'object' || !Number.isInteger(result.status) || result.status < 100 || result.status > 599) {
    throw new Error(`${describe(route.origin)} must return e.json(status, body), e.text(status, body) or e.noContent()`);
  }
  if (result.contentType) return { status: result.status, text: String(result.body ?? ''), headers: { 'Content-Type': result.contentType } };
  return result.body === undefined ? { status: result.status } : { status: result.status, body: result.body };
}
